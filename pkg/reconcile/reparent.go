package reconcile

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

const (
	// reparentTimeout bounds a planned reparent: Vitess waits for replicas to catch up before and
	// after the switch (15 s each at most).
	reparentTimeout = 45 * time.Second
	// reparentRetry is when a shard whose reparent failed tries again.
	reparentRetry = 10 * time.Second
)

// reparentAway moves the shard's primary role off the given tablet before its Pod is replaced:
// a planned reparent, run in the background since it takes seconds, which ends by reading the
// topology again so the next pass sees the new primary and replaces the old one's Pod.
func (p *shardPass) reparentAway(primary, why string) {
	shard := p.shard
	shardKey := shard.Namespace + "/" + shard.Name
	clusterKey := shard.Namespace + "/" + shard.Spec.Cluster
	p.waiting = fmt.Sprintf("tablet %s %s but is the primary; it is replaced after a planned reparent", primary, why)
	view := p.topology.view(clusterKey)
	if !view.reached() {
		p.waiting += " (waiting for the topology to be read)"
		return
	}
	if failed := p.topology.reparentFailure(shardKey); failed != nil {
		p.waiting += fmt.Sprintf(" (the last attempt failed: %v)", failed)
	}
	if !p.topology.startReading("reparent/" + shardKey) {
		return
	}
	go func() {
		defer p.topology.doneReading("reparent/" + shardKey)
		client, err := p.topology.client(view.address)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), reparentTimeout)
			defer cancel()
			var promoted string
			promoted, err = client.WithTimeout(reparentTimeout).ReparentAwayFrom(ctx, shard.Spec.KeyspaceName, shard.Spec.Name, primary)
			if err == nil {
				p.events.Eventf(shard, nil, corev1.EventTypeNormal, "PlannedReparent", "Reparent",
					"promoted %s in place of %s, whose tablet %s", promoted, primary, why)
			}
		}
		p.topology.setReparentFailure(shardKey, err)
		if err != nil {
			klog.V(2).InfoS("Planned reparent failed", "shard", shardKey, "primary", primary, "err", err)
			p.events.Eventf(shard, nil, corev1.EventTypeWarning, "PlannedReparentFailed", "Reparent",
				"moving the primary off %s: %v", primary, err)
			p.queue.AddAfter(queueKey{kind: kindShard, key: shardKey}, reparentRetry)
			return
		}
		p.topology.readSoon(clusterKey)
		p.queue.Add(queueKey{kind: kindCluster, key: clusterKey})
	}()
}

// electPrimary gives a new shard its first primary: the first tablet of its first replica pool,
// by a planned reparent, once every tablet is ready and Vitess knows the shard (its tablets
// created the record) but names no primary. With VTOrc configured it is left to VTOrc, which
// does the same.
func (p *shardPass) electPrimary() {
	shard := p.shard
	if shard.Spec.VitessOrchestrator != nil || p.desired == 0 || p.ready < p.desired {
		return
	}
	clusterKey := shard.Namespace + "/" + shard.Spec.Cluster
	view := p.topology.view(clusterKey)
	if !view.reached() {
		return
	}
	record, known := view.shards[shard.Spec.KeyspaceName+"/"+shard.Spec.Name]
	if !known || record.PrimaryAlias != "" {
		return
	}
	candidate := ""
	for _, t := range shardTablets(shard) {
		if t.pool.Type == v1alpha1.TabletPoolTypeReplica {
			candidate = t.alias()
			break
		}
	}
	shardKey := shard.Namespace + "/" + shard.Name
	if candidate == "" || !p.topology.startReading("reparent/"+shardKey) {
		return
	}
	go func() {
		defer p.topology.doneReading("reparent/" + shardKey)
		client, err := p.topology.client(view.address)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), reparentTimeout)
		defer cancel()
		tablets, err := client.Tablets(ctx, shard.Spec.KeyspaceName, shard.Spec.Name)
		if err != nil || !slices.ContainsFunc(tablets, func(t vtctld.Tablet) bool { return t.Alias == candidate }) {
			// Its vttablet has not registered yet (another tablet created the shard's record).
			p.queue.AddAfter(queueKey{kind: kindShard, key: shardKey}, reparentRetry)
			return
		}
		promoted, err := client.WithTimeout(reparentTimeout).ElectPrimary(ctx, shard.Spec.KeyspaceName, shard.Spec.Name, candidate)
		if err != nil {
			p.events.Eventf(shard, nil, corev1.EventTypeWarning, "PrimaryElectionFailed", "Reparent", "electing %s: %v", candidate, err)
			p.queue.AddAfter(queueKey{kind: kindShard, key: shardKey}, reparentRetry)
			return
		}
		p.events.Eventf(shard, nil, corev1.EventTypeNormal, "PrimaryElected", "Reparent", "%s is the shard's first primary", promoted)
		p.topology.readSoon(clusterKey)
		p.queue.Add(queueKey{kind: kindCluster, key: clusterKey})
	}()
}
