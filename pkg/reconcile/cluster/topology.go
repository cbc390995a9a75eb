package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/klog/v2"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// The cluster controller registers a cluster's cells and keyspaces in the Vitess topology through
// the cluster's vtctld, and reads back what only Vitess knows: each shard's primary and whether a
// shard still serves. The last reading is kept per cluster (a topology.View); cells, keyspaces and
// shards report from it, and a shard under turndownPolicy RequireIdle is removed only when the
// reading says it no longer serves.

const (
	// topologyRefresh is how often a reachable topology is read again.
	topologyRefresh = 15 * time.Second
	// topologyRetryMin and topologyRetryMax bound the backoff after a failed reading.
	topologyRetryMin = 2 * time.Second
	topologyRetryMax = 5 * time.Minute
)

var errVtctldNotRunning = errors.New("vtctld has no available replica yet")

// observeTopology returns the latest view of the cluster's topology and, when a reading is
// due, starts one in the background: registering the cluster's cells and keyspaces and reading
// its shards. A reading ends by enqueueing the cluster again; a failed one is retried with
// backoff. Reading in the background keeps an unreachable vtctld from holding a worker.
func (p *clusterPass) observeTopology(ctx context.Context, key string) *topology.View {
	previous := p.topology.View(key)
	address := p.addresses.Of(p.cluster)
	if previous != nil && previous.Address == address && time.Now().Before(previous.NextReading) {
		// Re-armed on every pass: the queue keeps only the earliest wake-up of a key, so one set
		// when the reading ended may have given way to an earlier retry.
		p.queue.AddAfter(key, time.Until(previous.NextReading))
		return previous
	}
	if p.addresses.Override(p.cluster) == "" && !p.vtctldAvailable() {
		// The Deployment's becoming available enqueues the cluster again.
		view := &topology.View{Address: address, Err: errVtctldNotRunning}
		p.topology.SetView(key, view)
		return view
	}
	p.background.Go(ctx, key, func(ctx context.Context) {
		view := &topology.View{Address: address}
		ctx, cancel := context.WithTimeout(ctx, 4*topology.CallTimeout)
		defer cancel()
		view.Err = p.readTopology(ctx, view)
		if errors.Is(ctx.Err(), context.Canceled) {
			return // the leader's term ended: what it read is of no use to the next term
		}
		delay := topologyRefresh
		if view.Err != nil {
			view.Failures = 1
			if previous != nil && previous.Err != nil {
				view.Failures = previous.Failures + 1
			}
			delay = min(topologyRetryMin<<min(view.Failures-1, 16), topologyRetryMax)
			if previous == nil || previous.Err == nil || previous.Err.Error() != view.Err.Error() {
				p.Events.Eventf(p.cluster, nil, "Warning", "TopologyUnavailable", "Register", "%v", view.Err)
			}
			klog.V(2).InfoS("Reading the topology failed", "cluster", key, "retryIn", delay, "err", view.Err)
		}
		view.NextReading = time.Now().Add(delay)
		// The shards see a changed reading through the topology (see topology.New).
		p.topology.SetView(key, view)
		p.queue.Add(key)
		p.queue.AddAfter(key, delay)
	})
	return previous
}

func (p *clusterPass) vtctldAvailable() bool {
	for _, cell := range vtctldCells(p.cluster) {
		if deployment, err := p.Deployments.Deployments(p.cluster.Namespace).Get(names.VtctldDeploymentName(p.cluster.Name, cell)); err == nil && deployment.Status.AvailableReplicas > 0 {
			return true
		}
	}
	return false
}

// readTopology registers what is missing and reads the shards into view.
func (p *clusterPass) readTopology(ctx context.Context, view *topology.View) error {
	client, err := p.topology.Client(view.Address)
	if err != nil {
		return err
	}
	cells, err := client.CellNames(ctx)
	if err != nil {
		return err
	}
	view.Cells = map[string]bool{}
	for _, cell := range p.cluster.Spec.Cells {
		if !slices.Contains(cells, cell.Name) {
			params := cellLockserverParams(p.cluster, cell)
			if err := client.AddCell(ctx, cell.Name, params.Address, params.RootPath); err != nil {
				return err
			}
			p.Events.Eventf(p.cluster, nil, "Normal", "CellRegistered", "Register", "registered cell %s in the topology", cell.Name)
		}
		view.Cells[cell.Name] = true
	}
	keyspaces, err := client.Keyspaces(ctx)
	if err != nil {
		return err
	}
	view.Keyspaces, view.Snapshots, view.Shards, view.Serving = map[string]bool{}, map[string]bool{}, map[string]vtctld.Shard{}, map[string][]string{}
	cellNames := slices.Collect(maps.Keys(view.Cells))
	for _, keyspace := range p.cluster.Spec.Keyspaces {
		i := slices.IndexFunc(keyspaces, func(k vtctld.Keyspace) bool { return k.Name == keyspace.Name })
		switch snapshot := keyspace.Snapshot; {
		case snapshot != nil && i < 0:
			// Before any of its tablets starts: a tablet creates a keyspace it does not find as a
			// normal one, and would then restore none of the base keyspace's backups.
			if err := client.CreateSnapshotKeyspace(ctx, keyspace.Name, snapshot.BaseKeyspace, snapshot.Time.Time); err != nil {
				return err
			}
			p.Events.Eventf(p.cluster, nil, "Normal", "KeyspaceRegistered", "Register", "created keyspace %s in the topology, a snapshot of %s as of %s",
				keyspace.Name, snapshot.BaseKeyspace, snapshot.Time.UTC().Format(time.RFC3339))
			view.Snapshots[keyspace.Name] = true
		case snapshot != nil && keyspaces[i].SnapshotOf != snapshot.BaseKeyspace:
			// Its tablets wait (see the shard controller): they would restore nothing.
			p.Events.Eventf(p.cluster, nil, "Warning", "KeyspaceNotASnapshot", "Register",
				"keyspace %s exists in the topology and is not a snapshot of %s; its tablets are not started: name the snapshot keyspace anew", keyspace.Name, snapshot.BaseKeyspace)
		case snapshot != nil:
			view.Snapshots[keyspace.Name] = true
		case i < 0:
			if err := client.CreateKeyspace(ctx, keyspace.Name, keyspace.DurabilityPolicy); err != nil {
				return err
			}
			p.Events.Eventf(p.cluster, nil, "Normal", "KeyspaceRegistered", "Register", "created keyspace %s in the topology (durability policy %q)", keyspace.Name, keyspace.DurabilityPolicy)
		case keyspace.DurabilityPolicy != "" && keyspaces[i].DurabilityPolicy != keyspace.DurabilityPolicy:
			// Tablets that start first create their keyspace with no policy.
			if err := client.SetDurabilityPolicy(ctx, keyspace.Name, keyspace.DurabilityPolicy); err != nil {
				return err
			}
			p.Events.Eventf(p.cluster, nil, "Normal", "DurabilityPolicySet", "Register", "set keyspace %s's durability policy to %q (it was %q)", keyspace.Name, keyspace.DurabilityPolicy, keyspaces[i].DurabilityPolicy)
		}
		view.Keyspaces[keyspace.Name] = true
		if err := readShards(ctx, client, view, keyspace.Name, cellNames); err != nil {
			return err
		}
	}
	tablets, err := client.AllTablets(ctx)
	if err != nil {
		return err
	}
	view.TabletTypes = map[string]string{}
	for _, tablet := range tablets {
		view.TabletTypes[tablet.Alias] = tablet.Type
	}
	// The keyspaces the spec no longer declares are read too: their shards are turned down only
	// once the reading says they no longer serve. One Vitess does not know has nothing to serve.
	declared := map[string]bool{}
	for _, keyspace := range p.cluster.Spec.Keyspaces {
		declared[names.Keyspace(p.cluster.Name, keyspace.Name)] = true
	}
	removed, err := p.Keyspaces.Orphans(p.cluster, p.selector(nil), declared)
	if err != nil {
		return err
	}
	for _, keyspace := range removed {
		name := keyspace.Spec.Name
		if !slices.ContainsFunc(keyspaces, func(k vtctld.Keyspace) bool { return k.Name == name }) {
			view.Serving[name] = []string{}
			continue
		}
		if err := readShards(ctx, client, view, name, cellNames); err != nil {
			return err
		}
	}
	return nil
}

// readShards reads a keyspace's shard records and which of its shards serve into view.
func readShards(ctx context.Context, client *vtctld.Client, view *topology.View, keyspace string, cells []string) error {
	shards, err := client.Shards(ctx, keyspace)
	if err != nil {
		return err
	}
	for _, shard := range shards {
		view.Shards[keyspace+"/"+shard.Name] = shard
	}
	serving, err := client.ServingShards(ctx, keyspace, cells)
	if err != nil {
		return err
	}
	view.Serving[keyspace] = append([]string{}, serving...)
	return nil
}

// cellLockserverParams is where a cell's local topology lives: its own external lockserver, or
// a root of its own beside the global one.
func cellLockserverParams(cluster *v1alpha1.VitessCluster, cell v1alpha1.VitessCellTemplate) v1alpha1.VitessLockserverParams {
	if external := cell.Lockserver.External; external != nil {
		return *external
	}
	params := globalLockserverParams(cluster)
	params.RootPath = strings.TrimSuffix(params.RootPath, "/global") + "/" + cell.Name
	return params
}

// registration is the Registered condition of a cell or keyspace for a reading (not nil).
func registration(view *topology.View, registered bool, what string) (bool, string, string) {
	switch {
	case registered:
		return true, "InTopology", what + " is registered in the topology"
	case errors.Is(view.Err, errVtctldNotRunning):
		return false, "VtctldNotRunning", view.Err.Error()
	case vtctld.IsUnavailable(view.Err):
		return false, "VtctldUnreachable", fmt.Sprintf("vtctld at %s is unreachable; retrying", view.Address)
	case view.Err != nil:
		return false, "RegistrationFailed", view.Err.Error()
	}
	return false, "NotRegistered", what + " is not registered yet"
}
