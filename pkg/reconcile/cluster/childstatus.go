package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
)

// The cluster's reconcile reports on the cells and keyspaces it declares: a cell by its vtgates,
// a keyspace by its shards.

// reportCell writes a cell's status: how many of its vtgates are ready.
func (p *clusterPass) reportCell(ctx context.Context, cell *v1alpha1.VitessCell) {
	gateway := v1alpha1.ReadyCount{Desired: ptr.Deref(cell.Spec.Gateway.Replicas, 1)}
	if deployment, err := p.Deployments.Deployments(cell.Namespace).Get(names.VtgateDeploymentName(p.cluster.Name, cell.Spec.Name)); err == nil {
		gateway.Ready = deployment.Status.AvailableReplicas
	}
	p.reportStatus(p.Cells.UpdateStatus(ctx, cell, func(cell *v1alpha1.VitessCell) {
		status := &cell.Status
		status.ObservedGeneration = cell.Generation
		status.Gateway = gateway
		status.GatewayServiceName = names.VtgateServiceName(p.cluster.Name, cell.Spec.Name)
		set := func(conditionType string, value bool, reason, message string) {
			objects.SetCondition(&status.Conditions, cell.Generation, conditionType, value, reason, message)
		}
		// Until the first reading since this process started, the last report stands.
		if p.view != nil {
			status.Registered = p.view.Reached() && p.view.Cells[cell.Spec.Name]
			registered, reason, message := registration(p.view, status.Registered, "cell "+cell.Spec.Name)
			set(v1alpha1.ConditionRegistered, registered, reason, message)
		}
		set(v1alpha1.ConditionDegraded, false, "AsExpected", "the cell's vtgate Deployment and Service are as specified")
		rolling := gateway.Ready < gateway.Desired
		set(v1alpha1.ConditionProgressing, rolling, map[bool]string{true: "GatewayStarting", false: "GatewayInSync"}[rolling],
			fmt.Sprintf("%d/%d vtgates available", gateway.Ready, gateway.Desired))
		set(v1alpha1.ConditionReady, !rolling, map[bool]string{true: "GatewayNotReady", false: "GatewayReady"}[rolling],
			fmt.Sprintf("%d/%d vtgates available", gateway.Ready, gateway.Desired))
	}))
}

// reportKeyspace writes a keyspace's status: how many of the shards it declares are ready, and
// their tablets.
func (p *clusterPass) reportKeyspace(ctx context.Context, keyspace *v1alpha1.VitessKeyspace, shards []*v1alpha1.VitessShard) {
	count, tablets := p.countShards(shards)
	var pending []string
	for _, turndown := range p.pendingTurndowns {
		if shard, ok := strings.CutPrefix(turndown, keyspace.Spec.Name+"/"); ok {
			pending = append(pending, shard)
		}
	}
	sort.Strings(pending)
	p.reportStatus(p.Keyspaces.UpdateStatus(ctx, keyspace, func(keyspace *v1alpha1.VitessKeyspace) {
		status := &keyspace.Status
		status.ObservedGeneration = keyspace.Generation
		status.Shards, status.Tablets = count, tablets
		set := func(conditionType string, value bool, reason, message string) {
			objects.SetCondition(&status.Conditions, keyspace.Generation, conditionType, value, reason, message)
		}
		if p.view != nil {
			status.Registered = p.view.Reached() && p.view.Keyspaces[keyspace.Spec.Name]
			if p.view.Reached() {
				status.ServingShards = p.view.Serving[keyspace.Spec.Name]
			}
			registered, reason, message := registration(p.view, status.Registered, "keyspace "+keyspace.Spec.Name)
			set(v1alpha1.ConditionRegistered, registered, reason, message)
		}
		set(v1alpha1.ConditionDegraded, false, "AsExpected", "the keyspace's shards are as specified")
		if len(pending) > 0 {
			set(v1alpha1.ConditionProgressing, true, reasonTurndownPending, "kept until they no longer serve: "+strings.Join(pending, ", "))
		} else {
			set(v1alpha1.ConditionProgressing, false, "ShardsInSync", "the keyspace has exactly the shards its partitionings declare")
		}
		ready := count.Ready == count.Desired
		set(v1alpha1.ConditionReady, ready, map[bool]string{true: "ShardsReady", false: "ShardsNotReady"}[ready],
			fmt.Sprintf("%d/%d shards ready, %d/%d tablets ready", count.Ready, count.Desired, tablets.Ready, tablets.Desired))
	}))
}

// countShards counts the declared shards and their tablets, desired and ready; readiness is
// read from the stored shards' status.
func (c *Controller) countShards(shards []*v1alpha1.VitessShard) (count, tablets v1alpha1.ReadyCount) {
	count.Desired = int32(len(shards))
	for _, shard := range shards {
		for _, pool := range shard.Spec.TabletPools {
			tablets.Desired += pool.Replicas
		}
		if stored, err := c.Shards.Get(shard.Namespace, shard.Name); err == nil {
			tablets.Ready += stored.Status.Tablets.Ready
			if meta.IsStatusConditionTrue(stored.Status.Conditions, v1alpha1.ConditionReady) && stored.Status.ObservedGeneration == stored.Generation {
				count.Ready++
			}
		}
	}
	return count, tablets
}

// reportStatus records a failed status write. A status write is a report, not a change towards
// the spec, so it does not make the cluster Progressing.
func (p *clusterPass) reportStatus(err error) {
	if err != nil {
		p.Fail(err)
	}
}
