package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
)

// reconcile brings one cluster's children in line with its spec and reports the outcome.
func (c *Controller) reconcile(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cluster, err := c.clusters.VitessClusters(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		c.topology.Forget(key)
		c.forgetReportedJobs(key)
		return nil // its children go with it, through their owner references
	}
	if err != nil {
		return err
	}
	if cluster.DeletionTimestamp != nil {
		return nil
	}
	pass := &clusterPass{Pass: objects.NewPass(c.clients, cluster), Controller: c, cluster: cluster}
	pass.view = pass.observeTopology(ctx, key)
	desired, err := desiredChildren(cluster)
	if err != nil {
		pass.Fail(err)
	} else {
		pass.syncChildren(ctx, desired)
	}
	return errors.Join(append(pass.Errs, c.updateStatus(ctx, cluster, desired, pass))...)
}

// clusterPass is one reconcile of one cluster: what it wrote, what it could not do.
type clusterPass struct {
	objects.Pass
	*Controller
	cluster *v1alpha1.VitessCluster
	// pendingTurndowns are shards no partitioning declares any more that are kept until they no
	// longer serve.
	pendingTurndowns []string
	// view is the latest reading of the cluster's topology.
	view *topology.View
}

func (p *clusterPass) selector(extra map[string]string) labels.Selector {
	set := labels.Set{vitess.LabelCluster: p.cluster.Name}
	for k, v := range extra {
		set[k] = v
	}
	return labels.SelectorFromSet(set)
}

func (p *clusterPass) syncChildren(ctx context.Context, desired *children) {
	wantedLockservers := map[string]bool{}
	if desired.Lockserver != nil {
		wantedLockservers[desired.Lockserver.Name] = true
		syncChild(ctx, p, p.Lockservers, desired.Lockserver)
	}
	deleteOrphans(ctx, p, p.Lockservers, p.selector(nil), wantedLockservers)

	wantedCells := map[string]bool{}
	for _, cell := range desired.Cells {
		wantedCells[cell.Name] = true
		if stored, ok := syncChild(ctx, p, p.Cells, cell); ok {
			p.reportCell(ctx, stored)
		}
	}
	deleteOrphans(ctx, p, p.Cells, p.selector(nil), wantedCells)

	p.syncComponents(ctx)
	p.syncBackupSchedules(ctx)

	wantedKeyspaces := map[string]bool{}
	for _, desiredKeyspace := range desired.Keyspaces {
		wantedKeyspaces[desiredKeyspace.Name] = true
		keyspace, ok := syncChild(ctx, p, p.Keyspaces, desiredKeyspace)
		if !ok {
			continue
		}
		wantedShards := map[string]bool{}
		for _, shard := range desired.Shards[keyspace.Name] {
			wantedShards[shard.Name] = true
			// A shard belongs to its keyspace, as in the vitess-operator.
			shard.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(keyspace, v1alpha1.SchemeGroupVersion.WithKind("VitessKeyspace"))}
			syncChild(ctx, p, p.Shards, shard)
		}
		p.turnDownShards(ctx, keyspace, wantedShards)
		p.reportKeyspace(ctx, keyspace, desired.Shards[keyspace.Name])
	}
	orphans, err := p.Keyspaces.Orphans(p.cluster, p.selector(nil), wantedKeyspaces)
	if err != nil {
		p.Fail(err)
	}
	for _, keyspace := range orphans {
		// A keyspace leaves only after its shards have been turned down.
		if p.turnDownShards(ctx, keyspace, nil) == 0 {
			p.Delete("VitessKeyspace", keyspace.Name, func() error { return p.Keyspaces.Delete(ctx, keyspace) })
		}
	}
}

// syncComponents runs vtctld in every dashboard cell and vtgate in every cell, with their
// Services and the tablets' headless Service, and removes the Deployments and Services of cells
// that no longer run them.
func (p *clusterPass) syncComponents(ctx context.Context) {
	var vtctlds, vtgates []*appsv1.Deployment
	for _, cell := range vtctldCells(p.cluster) {
		vtctlds = append(vtctlds, vtctldDeployment(p.cluster, cell))
	}
	for _, cell := range p.cluster.Spec.Cells {
		vtgates = append(vtgates, vtgateDeployment(p.cluster, cell))
	}
	namespace := p.cluster.Namespace
	p.SyncDeployments(ctx, namespace, objects.ComponentSelector(p.cluster.Name, vitess.ComponentVtctld), vtctlds)
	p.SyncDeployments(ctx, namespace, objects.ComponentSelector(p.cluster.Name, vitess.ComponentVtgate), vtgates)
	p.SyncServices(ctx, namespace, objects.ComponentSelector(p.cluster.Name, vitess.ComponentVtctld), []*corev1.Service{vtctldService(p.cluster)})
	p.SyncServices(ctx, namespace, objects.ComponentSelector(p.cluster.Name, vitess.ComponentVtgate), vtgateServices(p.cluster))
	p.SyncServices(ctx, namespace, objects.ComponentSelector(p.cluster.Name, vitess.ComponentVttablet), []*corev1.Service{tabletService(p.cluster)})
}

// turnDownShards removes the keyspace's shards that are not wanted, as its turndown policy allows,
// and returns how many remain.
func (p *clusterPass) turnDownShards(ctx context.Context, keyspace *v1alpha1.VitessKeyspace, wanted map[string]bool) int {
	unwanted, err := p.Shards.Orphans(keyspace, p.selector(map[string]string{vitess.LabelKeyspace: keyspace.Spec.Name}), wanted)
	if err != nil {
		p.Fail(err)
		return -1
	}
	remaining := 0
	for _, shard := range unwanted {
		if keyspace.Spec.TurndownPolicy != v1alpha1.TurndownPolicyImmediate && p.view.ServesShard(keyspace.Spec.Name, shard.Spec.Name) {
			// RequireIdle: a shard is turned down only once the topology shows that nothing is
			// routed to it; without a reading of the topology, it stays.
			pending := keyspace.Spec.Name + "/" + shard.Spec.Name
			if !slices.Contains(turndownsPending(p.cluster), pending) {
				p.Events.Eventf(p.cluster, nil, corev1.EventTypeNormal, reasonTurndownPending, "Turndown",
					"keeping shard %s: it still serves, or whether it serves could not be read (turndownPolicy RequireIdle)", pending)
			}
			p.pendingTurndowns = append(p.pendingTurndowns, pending)
			remaining++
			continue
		}
		p.Delete("VitessShard", shard.Name, func() error { return p.Shards.Delete(ctx, shard) })
	}
	return remaining
}

// syncChild is objects.Kind.sync with the pass's bookkeeping: it reports whether the child exists
// as desired.
func syncChild[T objects.Child](ctx context.Context, p *clusterPass, kind objects.Kind[T], desired T) (T, bool) {
	result, wrote, err := kind.Sync(ctx, p.Events, p.cluster, desired)
	p.Wrote = p.Wrote || wrote
	if err != nil {
		p.Fail(err)
		p.Events.Eventf(p.cluster, nil, "Warning", "SyncFailed", "Sync", "%v", err)
		return result, false
	}
	return result, true
}

func deleteOrphans[T objects.Child](ctx context.Context, p *clusterPass, kind objects.Kind[T], selector labels.Selector, wanted map[string]bool) {
	orphans, err := kind.Orphans(p.cluster, selector, wanted)
	if err != nil {
		p.Fail(err)
	}
	for _, orphan := range orphans {
		p.Delete(kind.Kind, orphan.GetName(), func() error { return kind.Delete(ctx, orphan) })
	}
}

// updateStatus writes the cluster's status when it changed: child counts, conditions and the
// generation they describe.
func (c *Controller) updateStatus(ctx context.Context, cluster *v1alpha1.VitessCluster, desired *children, pass *clusterPass) error {
	status := cluster.Status.DeepCopy()
	status.ObservedGeneration = cluster.Generation
	status.Cells = v1alpha1.ReadyCount{Desired: int32(len(cluster.Spec.Cells))}
	status.Keyspaces = v1alpha1.ReadyCount{Desired: int32(len(cluster.Spec.Keyspaces))}
	status.Tablets = v1alpha1.ReadyCount{}
	status.VitessDashboardServiceName = vtctldService(cluster).Name
	status.GatewayServiceName = names.VtgateClusterServiceName(cluster.Name)
	status.GatewayEndpoint = fmt.Sprintf("%s.%s.svc:%d", status.GatewayServiceName, cluster.Namespace, objects.MysqlPort)
	if desired != nil {
		for _, cell := range desired.Cells {
			if stored, err := c.Cells.Get(cell.Namespace, cell.Name); err == nil && meta.IsStatusConditionTrue(stored.Status.Conditions, v1alpha1.ConditionReady) {
				status.Cells.Ready++
			}
		}
		for _, keyspace := range desired.Keyspaces {
			if stored, err := c.Keyspaces.Get(keyspace.Namespace, keyspace.Name); err == nil && meta.IsStatusConditionTrue(stored.Status.Conditions, v1alpha1.ConditionReady) {
				status.Keyspaces.Ready++
			}
			_, tablets := c.countShards(desired.Shards[keyspace.Name])
			status.Tablets.Desired += tablets.Desired
			status.Tablets.Ready += tablets.Ready
		}
	}
	setConditions(status, cluster.Generation, pass, c.unreadyComponents(cluster, desired))
	c.reportBackupSchedules(cluster, status)
	if apiequality.Semantic.DeepEqual(&cluster.Status, status) {
		return nil
	}
	updated := cluster.DeepCopy()
	updated.Status = *status
	if _, err := c.client.VitessV1alpha1().VitessClusters(cluster.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{FieldManager: objects.FieldManager}); err != nil {
		return fmt.Errorf("updating the status of VitessCluster %s: %w", cluster.Name, err)
	}
	objects.CountWrite("VitessCluster", "update-status")
	return nil
}

// unreadyComponents names the cluster's own components that are not ready yet: its etcd
// lockserver (its members' quorum) and its vtctlds (every replica available). Without them the
// cluster is not Ready, however ready its cells and keyspaces are.
func (c *Controller) unreadyComponents(cluster *v1alpha1.VitessCluster, desired *children) []string {
	var unready []string
	if desired != nil && desired.Lockserver != nil {
		stored, err := c.Lockservers.Get(cluster.Namespace, desired.Lockserver.Name)
		if err != nil || stored.Status.ObservedGeneration != stored.Generation || !meta.IsStatusConditionTrue(stored.Status.Conditions, v1alpha1.ConditionReady) {
			unready = append(unready, "lockserver")
		}
	}
	for _, cell := range vtctldCells(cluster) {
		wanted := vtctldDeployment(cluster, cell)
		stored, err := c.clients.Deployments.Deployments(cluster.Namespace).Get(wanted.Name)
		if err != nil || stored.Status.AvailableReplicas < *wanted.Spec.Replicas {
			unready = append(unready, "vtctld in "+cell)
		}
	}
	return unready
}

// The Progressing condition of a cluster that keeps shards until they no longer serve names them
// after turndownPendingMessage.
const (
	reasonTurndownPending  = "TurndownPending"
	turndownPendingMessage = "kept until they no longer serve (turndownPolicy RequireIdle): "
)

// turndownsPending are the "keyspace/shard"s the cluster's status says it keeps for now.
func turndownsPending(cluster *v1alpha1.VitessCluster) []string {
	progressing := meta.FindStatusCondition(cluster.Status.Conditions, v1alpha1.ConditionProgressing)
	if progressing == nil || progressing.Reason != reasonTurndownPending {
		return nil
	}
	return strings.Split(strings.TrimPrefix(progressing.Message, turndownPendingMessage), ", ")
}

func setConditions(status *v1alpha1.VitessClusterStatus, generation int64, pass *clusterPass, unreadyComponents []string) {
	set := func(conditionType string, value bool, reason, message string) {
		objects.SetCondition(&status.Conditions, generation, conditionType, value, reason, message)
	}
	if len(pass.Errs) > 0 {
		set(v1alpha1.ConditionDegraded, true, "ReconcileFailed", pass.Errs[0].Error())
	} else {
		set(v1alpha1.ConditionDegraded, false, "AsExpected", "every child object matches the cluster's spec")
	}
	switch {
	case pass.Wrote:
		set(v1alpha1.ConditionProgressing, true, "ChildrenUpdated", "creating, updating or removing child objects")
	case len(pass.pendingTurndowns) > 0:
		sort.Strings(pass.pendingTurndowns)
		set(v1alpha1.ConditionProgressing, true, reasonTurndownPending, turndownPendingMessage+strings.Join(pass.pendingTurndowns, ", "))
	default:
		set(v1alpha1.ConditionProgressing, false, "ChildrenInSync", "every child object matches the cluster's spec")
	}
	ready := status.Cells.Ready == status.Cells.Desired && status.Keyspaces.Ready == status.Keyspaces.Desired &&
		status.Tablets.Ready == status.Tablets.Desired && len(unreadyComponents) == 0
	message := fmt.Sprintf("cells %d/%d, keyspaces %d/%d, tablets %d/%d ready", status.Cells.Ready, status.Cells.Desired,
		status.Keyspaces.Ready, status.Keyspaces.Desired, status.Tablets.Ready, status.Tablets.Desired)
	if len(unreadyComponents) > 0 {
		message += "; not ready: " + strings.Join(unreadyComponents, ", ")
	}
	set(v1alpha1.ConditionReady, ready, map[bool]string{true: "AllReady", false: "ComponentsNotReady"}[ready], message)
}
