package shard

import (
	"context"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
)

// replicationCheckedMemory is how long the controller remembers that it looked at a tablet Pod's
// replication: longer than a Pod stays Ready without a pass seeing it.
const replicationCheckedMemory = time.Hour

// readyTablet is a tablet whose Pod a pass found Ready.
type readyTablet struct {
	alias string
	pod   types.UID
	// restores: the tablet runs with --restore-from-backup.
	restores bool
}

// resumeReplication starts replication on a non-primary tablet that came back on its data
// without it. A tablet of a pool with a backup location runs with --restore-from-backup, and
// Vitess v24, finding data on the tablet's volume, skips the restore and with it the setting up
// of replication (its tablet manager leaves that to the restore), so a replica whose Pod was
// replaced on its old PVC would serve ever staler rows until something (VTOrc, where it runs)
// started replication. Each such tablet Pod is looked at once, when a pass first finds it Ready
// and Vitess has it registered as a replica or rdonly tablet, so that replication a user stops
// on purpose later is left stopped; a tablet restored to a point in time is DRAINED, and left
// alone too.
func (p *shardPass) resumeReplication(ctx context.Context) {
	shard := p.shard
	view := p.topology.View(shard.Namespace + "/" + shard.Spec.Cluster)
	if !view.Reached() {
		return
	}
	primary := view.Shards[shard.Spec.KeyspaceName+"/"+shard.Spec.Name].PrimaryAlias
	if primary == "" {
		return // a new shard's tablets replicate once a primary is elected, which sets it up
	}
	for _, t := range p.readyTablets {
		tabletType := view.TabletTypes[t.alias]
		if !t.restores || t.alias == primary || (tabletType != "REPLICA" && tabletType != "RDONLY") || p.replicationChecked(t.pod) {
			continue
		}
		p.background.Go(ctx, shard.Namespace+"/"+shard.Name+"/replication/"+t.alias, func(ctx context.Context) {
			client, err := p.vitess(view.Address, topology.CallTimeout)
			if err != nil {
				return
			}
			stopped, err := client.ReplicationStopped(ctx, t.alias)
			if err != nil {
				klog.V(2).InfoS("Reading a tablet's replication failed", "tablet", t.alias, "err", err)
				return // the next pass looks again
			}
			p.markReplicationChecked(t.pod)
			if !stopped {
				return
			}
			if err := client.StartReplication(ctx, t.alias); err != nil {
				p.Events.Eventf(shard, nil, corev1.EventTypeWarning, "StartReplicationFailed", "StartReplication",
					"tablet %s came back on its data without replicating, and starting replication failed: %v", t.alias, err)
				return
			}
			p.Events.Eventf(shard, nil, corev1.EventTypeNormal, "ReplicationStarted", "StartReplication",
				"started replication on tablet %s, which came back on its data without it", t.alias)
		})
	}
}

func (c *Controller) replicationChecked(pod types.UID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.replicationChecks[pod]
	return ok
}

// markReplicationChecked records that the Pod's replication was looked at, and forgets the Pods
// looked at long ago.
func (c *Controller) markReplicationChecked(pod types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	maps.DeleteFunc(c.replicationChecks, func(_ types.UID, at time.Time) bool { return now.Sub(at) > replicationCheckedMemory })
	c.replicationChecks[pod] = now
}
