package shard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

const (
	// reparentTimeout bounds a planned reparent: Vitess waits for replicas to catch up before and
	// after the switch (15 s each at most).
	reparentTimeout = 45 * time.Second
	// reparentRetry is when a shard whose reparent failed tries again.
	reparentRetry = 10 * time.Second
	// primaryReadingRetry is when a shard whose roll waits for Vitess to name its primary asks again.
	primaryReadingRetry = 5 * time.Second
)

// errTabletsNotRegistered: some tablet of a shard to elect a primary for has not registered in
// the topology yet.
var errTabletsNotRegistered = errors.New("not every tablet of the shard is in the topology yet")

// reparentAway moves the shard's primary role off the given tablet before its Pod is replaced,
// after which the next pass sees the new primary and replaces the old one's Pod.
func (p *shardPass) reparentAway(ctx context.Context, primary, why string) {
	shard := p.shard
	shardKey := shard.Namespace + "/" + shard.Name
	p.waiting = fmt.Sprintf("tablet %s %s but is the primary; it is replaced after a planned reparent", primary, why)
	view := p.topology.View(shard.Namespace + "/" + shard.Spec.Cluster)
	if !view.Reached() {
		p.waiting += " (waiting for the topology to be read)"
		return
	}
	if failed := p.reparentFailure(shardKey); failed != nil {
		p.waiting += fmt.Sprintf(" (the last attempt failed: %v)", failed)
	}
	p.reparentInBackground(ctx, view, func(ctx context.Context, client vitessShards) error {
		promoted, err := client.ReparentAwayFrom(ctx, shard.Spec.KeyspaceName, shard.Spec.Name, primary)
		p.setReparentFailure(shardKey, err)
		if err != nil {
			klog.V(2).InfoS("Planned reparent failed", "shard", shardKey, "primary", primary, "err", err)
			p.Events.Eventf(shard, nil, corev1.EventTypeWarning, "PlannedReparentFailed", "Reparent", "moving the primary off %s: %v", primary, err)
			return err
		}
		p.Events.Eventf(shard, nil, corev1.EventTypeNormal, "PlannedReparent", "Reparent", "promoted %s in place of %s, whose tablet %s", promoted, primary, why)
		return nil
	})
}

// electPrimary gives a new shard its first primary once every tablet's vttablet runs and has
// registered in the topology, and Vitess knows the shard (its tablets created the record) but
// names no primary. Not once they are Ready: a replica reports itself healthy only once it
// replicates from a primary. The most advanced replica is promoted (see vtctld.ElectPrimary): a
// shard whose tablets start with data (a restore, volumes kept from an earlier life) must not lose
// what one of them has; when none has everything the others have, the Event says so and a person
// chooses. The same election is held when the primary the record names has come back as a
// replica (see topology.View.PrimaryCameBackAsReplica): every tablet of the shard restored a backup
// after its data was lost, and nothing serves writes. With VTOrc configured it is left to VTOrc. A
// snapshot keyspace's shard has no primary: its tablets serve the backup they restored.
func (p *shardPass) electPrimary(ctx context.Context) {
	shard := p.shard
	if shard.Spec.VitessOrchestrator != nil || shard.Spec.KeyspaceSnapshot != nil || p.desired == 0 || p.running < p.desired {
		return
	}
	view := p.topology.View(shard.Namespace + "/" + shard.Spec.Cluster)
	if !view.Reached() {
		return
	}
	record, known := view.Shards[shard.Spec.KeyspaceName+"/"+shard.Spec.Name]
	lost := view.PrimaryCameBackAsReplica(shard.Spec.KeyspaceName, shard.Spec.Name)
	if !known || (record.PrimaryAlias != "" && !lost) {
		return
	}
	tablets := shardTablets(shard)
	var candidates []string
	for _, t := range tablets {
		if t.pool.Type == v1alpha1.TabletPoolTypeReplica {
			candidates = append(candidates, t.alias())
		}
	}
	if len(candidates) == 0 {
		return
	}
	p.reparentInBackground(ctx, view, func(ctx context.Context, client vitessShards) error {
		registered, err := client.Tablets(ctx, shard.Spec.KeyspaceName, shard.Spec.Name)
		if err != nil {
			return err
		}
		for _, t := range tablets {
			if !slices.ContainsFunc(registered, func(r vtctld.Tablet) bool { return r.Alias == t.alias() }) {
				return errTabletsNotRegistered
			}
		}
		what := "the shard's first primary"
		if lost {
			// Checked again on this fresh reading: a primary that serves is never reparented here.
			i := slices.IndexFunc(registered, func(r vtctld.Tablet) bool { return r.Alias == record.PrimaryAlias })
			if i < 0 || registered[i].Type == "PRIMARY" {
				return nil
			}
			what = fmt.Sprintf("the shard's primary, since %s came back from a backup as a %s", record.PrimaryAlias, strings.ToLower(registered[i].Type))
		}
		promoted, err := client.ElectPrimary(ctx, shard.Spec.KeyspaceName, shard.Spec.Name, candidates)
		if err != nil {
			p.Events.Eventf(shard, nil, corev1.EventTypeWarning, "PrimaryElectionFailed", "Reparent", "electing %s: %v", what, err)
			return err
		}
		p.Events.Eventf(shard, nil, corev1.EventTypeNormal, "PrimaryElected", "Reparent", "%s, the most advanced replica, is %s", promoted, what)
		return nil
	})
}

// reparentInBackground runs a planned reparent of the shard off the worker, since it takes
// seconds, and one at a time per shard. After it the cluster's topology is read again at once,
// so the next pass sees the new primary; after a failure the shard is tried again later.
func (p *shardPass) reparentInBackground(ctx context.Context, view *topology.View, reparent func(ctx context.Context, client vitessShards) error) {
	shard := p.shard
	shardKey, clusterKey := shard.Namespace+"/"+shard.Name, shard.Namespace+"/"+shard.Spec.Cluster
	p.background.Go(ctx, shardKey, func(ctx context.Context) {
		client, err := p.vitess(view.Address, reparentTimeout)
		if err == nil {
			ctx, cancel := context.WithTimeout(ctx, reparentTimeout)
			defer cancel()
			err = reparent(ctx, client)
		}
		if err != nil {
			p.queue.AddAfter(shardKey, reparentRetry)
			return
		}
		p.topology.ReadSoon(clusterKey)
	})
}
