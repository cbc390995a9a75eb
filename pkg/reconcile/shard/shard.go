package shard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
)

// reconcile runs a shard's tablets (a Pod each, on a PVC each when the pool has a claim
// template) and its VTOrc Deployments, replaces tablets whose spec changed one at a time, and
// reports what it sees in the shard's status.
func (c *Controller) reconcile(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	shard, err := c.Shards.Get(namespace, name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if shard.DeletionTimestamp != nil {
		return nil
	}
	if controlled, err := c.controlledByKeyspace(shard); !controlled {
		// A shard exists to run the tablets of a keyspace its cluster declares. One made by hand
		// would run tablets in whatever keyspace and shard it names, among another's: it is ignored.
		klog.V(2).InfoS("Ignoring a VitessShard that no VitessKeyspace controls", "shard", key)
		return err
	}
	p := &shardPass{Pass: objects.NewPass(c.clients, shard), Controller: c, shard: shard}
	p.syncTablets(ctx)
	p.electPrimary(ctx)
	p.resumeReplication(ctx)
	p.initializeBackup(ctx)
	p.carryOutPendingAction(ctx)
	p.followBackups(ctx)
	p.SyncDeployments(ctx, namespace, shardLabels(shard, vitess.ComponentVtorc), vtorcDeployments(shard))
	return errors.Join(append(p.Errs, p.updateStatus(ctx))...)
}

// controlledByKeyspace tells whether a VitessKeyspace that exists controls the shard. It fails
// while the keyspace a shard names is not in the cache yet (the cluster creates both in one pass),
// so that the shard is tried again.
func (c *Controller) controlledByKeyspace(shard *v1alpha1.VitessShard) (bool, error) {
	ref := metav1.GetControllerOf(shard)
	if ref == nil || ref.Kind != "VitessKeyspace" || ref.APIVersion != v1alpha1.SchemeGroupVersion.String() {
		return false, nil
	}
	keyspace, err := c.Keyspaces.Get(shard.Namespace, ref.Name)
	if err != nil {
		return false, fmt.Errorf("the VitessKeyspace %s that controls the shard: %w", ref.Name, err)
	}
	return keyspace.UID == ref.UID, nil
}

// shardPass is one reconcile of one shard.
type shardPass struct {
	objects.Pass
	*Controller
	shard   *v1alpha1.VitessShard
	desired int32
	ready   int32
	// running counts the tablets whose vttablet container runs, ready or not.
	running int32
	// readyTablets are the tablets whose Pods are Ready.
	readyTablets []readyTablet
	waiting      string
}

func (p *shardPass) syncTablets(ctx context.Context) {
	shard := p.shard
	pods := p.Pods.Pods(shard.Namespace)
	wanted := map[string]bool{}
	var stale []*corev1.Pod
	for _, t := range shardTablets(shard) {
		p.desired++
		if t.pool.DataVolumeClaimTemplate != nil {
			pvc := tabletPVC(shard, t)
			p.EnsurePVC(ctx, pvc)
			if p.resizesVolumes() {
				p.GrowPVC(ctx, pvc)
			}
		}
		desired := tabletPod(shard, t)
		wanted[desired.Name] = true
		existing, err := pods.Get(desired.Name)
		switch {
		case apierrors.IsNotFound(err) && !p.snapshotRegistered():
			p.wait(fmt.Sprintf("tablets start once keyspace %s is in the topology as a snapshot of %s", shard.Spec.KeyspaceName, shard.Spec.KeyspaceSnapshot.BaseKeyspace))
		case apierrors.IsNotFound(err):
			p.CreatePod(ctx, desired)
		case err != nil:
			p.Fail(err)
		case !p.Controls(existing):
			p.NotControlled("Pod", existing)
		default:
			going := p.going(existing)
			if !going && objects.PodReady(existing) {
				p.ready++
				p.readyTablets = append(p.readyTablets, readyTablet{alias: t.alias(), pod: existing.UID, restores: poolBackupStorage(shard, t.pool) != nil})
			}
			if !going && objects.ContainerRunning(existing, vitess.ComponentVttablet) {
				p.running++
			}
			if !going && existing.Annotations[vitess.AnnotationSpecHash] != desired.Annotations[vitess.AnnotationSpecHash] {
				stale = append(stale, existing)
			}
		}
	}
	existing, err := pods.List(labels.SelectorFromSet(shardLabels(shard, vitess.ComponentVttablet)))
	if err != nil {
		p.Fail(err)
		return
	}
	var unwanted []*corev1.Pod
	for _, pod := range existing {
		if !wanted[pod.Name] && !p.going(pod) && p.Controls(pod) {
			unwanted = append(unwanted, pod)
		}
	}
	// A pool that shrank gives up its last tablets; their PVCs stay for when it grows again.
	p.replace(ctx, unwanted, "removed from its pool")
	if p.waiting == "" {
		p.roll(ctx, stale)
	}
}

// snapshotRegistered tells whether the shard's tablets may start as far as its keyspace's kind
// goes: always for a normal keyspace; for a snapshot keyspace once the topology has it as one. A
// tablet that started first would create the keyspace as a normal one and restore nothing.
func (p *shardPass) snapshotRegistered() bool {
	shard := p.shard
	if shard.Spec.KeyspaceSnapshot == nil {
		return true
	}
	view := p.topology.View(shard.Namespace + "/" + shard.Spec.Cluster)
	return view.Reached() && view.Snapshots[shard.Spec.KeyspaceName]
}

// resizesVolumes tells whether a larger storage request in a pool's claim template is applied to
// the tablets' PVCs now. Under updateStrategy External the outside tool decides when changes
// land, unless external.allowResourceChanges lists storage, as with the operator.
func (p *shardPass) resizesVolumes() bool {
	strategy := p.shard.Spec.UpdateStrategy
	if strategy == nil || strategy.Type == nil || *strategy.Type != v1alpha1.UpdateStrategyExternal {
		return true
	}
	return strategy.External != nil && slices.Contains(strategy.External.AllowResourceChanges, corev1.ResourceStorage)
}

// roll replaces tablets that run an old spec, as the update strategy allows.
func (p *shardPass) roll(ctx context.Context, stale []*corev1.Pod) {
	if len(stale) == 0 {
		return
	}
	if strategy := p.shard.Spec.UpdateStrategy; strategy != nil && strategy.Type != nil && *strategy.Type == v1alpha1.UpdateStrategyExternal {
		p.rollExternally(ctx, stale)
		return
	}
	// One at a time, and only while every other tablet is ready, so the shard keeps its replicas.
	sortPrimaryLast(stale, p.shard.Status.PrimaryAlias)
	candidate := stale[0]
	othersReady := p.ready
	if objects.PodReady(candidate) {
		othersReady--
	}
	if othersReady < p.desired-1 {
		p.waiting = fmt.Sprintf("tablet %s runs an old spec; it is replaced once the other tablets are ready", tabletAliasOf(candidate))
		return
	}
	p.replace(ctx, []*corev1.Pod{candidate}, "runs an old spec")
}

// rollExternally marks stale tablets as scheduled and replaces those an outside tool released.
func (p *shardPass) rollExternally(ctx context.Context, stale []*corev1.Pod) {
	var released []*corev1.Pod
	waiting := 0
	for _, pod := range stale {
		if _, ok := pod.Annotations[vitess.AnnotationRolloutReleased]; ok {
			released = append(released, pod)
			continue
		}
		waiting++
		if _, ok := pod.Annotations[vitess.AnnotationRolloutScheduled]; ok {
			continue
		}
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:"the tablet's spec changed; add %s to replace it"}}}`, vitess.AnnotationRolloutScheduled, vitess.AnnotationRolloutReleased)
		p.Write("annotate", "RolloutScheduled", "Pod", pod.Name, func() error {
			_, err := p.Core.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: objects.FieldManager})
			return err
		})
	}
	p.replace(ctx, released, "was released for its update")
	if waiting > 0 {
		p.wait(fmt.Sprintf("%d tablet(s) run an old spec and wait for %s (updateStrategy External)", waiting, vitess.AnnotationRolloutReleased))
	}
}

// replace deletes tablet Pods; the shard's primary goes last, and only once a planned reparent
// has moved the primary role to another tablet. Which tablet is the primary is read from Vitess
// first: without that reading nothing is deleted.
func (p *shardPass) replace(ctx context.Context, pods []*corev1.Pod, why string) {
	if len(pods) == 0 {
		return
	}
	primary, err := p.currentPrimary(ctx)
	if err != nil {
		p.wait(fmt.Sprintf("tablet %s %s; it is replaced once Vitess says which tablet is the primary (%v)", tabletAliasOf(pods[0]), why, err))
		// Nothing else need change for Vitess to answer again (a reading of the topology that
		// equals the last one enqueues no shard): ask again.
		p.queue.AddAfter(p.shard.Namespace+"/"+p.shard.Name, primaryReadingRetry)
		return
	}
	sortPrimaryLast(pods, primary)
	for _, pod := range pods {
		if primary != "" && tabletAliasOf(pod) == primary {
			p.reparentAway(ctx, primary, why)
			return
		}
		p.Events.Eventf(p.shard, nil, corev1.EventTypeNormal, "ReplacingTablet", "Delete", "tablet %s %s", tabletAliasOf(pod), why)
		// Marked whether or not the deletion succeeds: a Pod that failed to go waits a while
		// before it is tried again, rather than risk being counted as ready while it goes.
		p.markDeleted(pod)
		p.DeletePod(ctx, pod)
	}
}

// wait adds why the shard's tablets are not as specified yet to what the status says.
func (p *shardPass) wait(why string) {
	if p.waiting != "" {
		p.waiting += "; "
	}
	p.waiting += why
}

// currentPrimary reads the shard's primary from Vitess now. The status's, or the last reading's,
// may be older than a failover (VTOrc's, or a person's): a tablet Pod is deleted only on a reading
// that says it is not the primary. "" means the topology names no primary.
func (p *shardPass) currentPrimary(ctx context.Context) (string, error) {
	shard := p.shard
	view := p.topology.View(shard.Namespace + "/" + shard.Spec.Cluster)
	if view == nil || view.Address == "" {
		return "", errors.New("the cluster's topology has not been read yet")
	}
	client, err := p.vitess(view.Address, topology.CallTimeout)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, topology.CallTimeout)
	defer cancel()
	records, err := client.Shards(ctx, shard.Spec.KeyspaceName)
	if err != nil {
		return "", fmt.Errorf("reading the shard's primary: %w", err)
	}
	for _, record := range records {
		if record.Name == shard.Spec.Name {
			return record.PrimaryAlias, nil
		}
	}
	return "", nil
}

func sortPrimaryLast(pods []*corev1.Pod, primary string) {
	sort.SliceStable(pods, func(i, j int) bool { return tabletAliasOf(pods[j]) == primary && tabletAliasOf(pods[i]) != primary })
}

// tabletAliasOf is the Vitess alias of the tablet a Pod runs, from its labels.
func tabletAliasOf(pod *corev1.Pod) string {
	return pod.Labels[vitess.LabelCell] + "-" + pod.Labels[vitess.LabelTabletUID]
}

func (p *shardPass) updateStatus(ctx context.Context) error {
	return p.Shards.UpdateStatus(ctx, p.shard, func(shard *v1alpha1.VitessShard) {
		status := &shard.Status
		status.ObservedGeneration = shard.Generation
		status.Tablets = v1alpha1.ReadyCount{Desired: p.desired, Ready: p.ready}
		if view := p.topology.View(shard.Namespace + "/" + shard.Spec.Cluster); view.Reached() {
			record := view.Shards[shard.Spec.KeyspaceName+"/"+shard.Spec.Name]
			status.PrimaryAlias, status.Serving = record.PrimaryAlias, view.ServesShard(shard.Spec.KeyspaceName, shard.Spec.Name)
		}
		set := func(conditionType string, value bool, reason, message string) {
			objects.SetCondition(&status.Conditions, shard.Generation, conditionType, value, reason, message)
		}
		if len(p.Errs) > 0 {
			set(v1alpha1.ConditionDegraded, true, "ReconcileFailed", p.Errs[0].Error())
		} else {
			set(v1alpha1.ConditionDegraded, false, "AsExpected", "every tablet and VTOrc is as specified")
		}
		switch {
		case p.Wrote:
			set(v1alpha1.ConditionProgressing, true, "TabletsUpdated", "creating, replacing or removing tablets")
		case p.waiting != "":
			set(v1alpha1.ConditionProgressing, true, "RolloutWaiting", p.waiting)
		default:
			set(v1alpha1.ConditionProgressing, false, "TabletsInSync", "every tablet runs its current spec")
		}
		p.reportBackups(shard)
		allReady := p.ready == p.desired
		set(v1alpha1.ConditionReady, allReady, map[bool]string{true: "TabletsReady", false: "TabletsNotReady"}[allReady],
			fmt.Sprintf("%d/%d tablets ready", p.ready, p.desired))
	})
}
