package reconcile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/klog/v2"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// The reconciler registers a cluster's cells and keyspaces in the Vitess topology through the
// cluster's vtctld, and reads back what only Vitess knows: each shard's primary and whether a
// shard still serves. It keeps the last reading per cluster (a topologyView); cells, keyspaces
// and shards report from it, and a shard under turndownPolicy RequireIdle is removed only when
// the reading says it no longer serves.

const (
	// topologyRefresh is how often a reachable topology is read again.
	topologyRefresh = 15 * time.Second
	// topologyRetryMin and topologyRetryMax bound the backoff after a failed reading.
	topologyRetryMin = 2 * time.Second
	topologyRetryMax = 5 * time.Minute
	// topologyCallTimeout bounds each vtctld call, so an unreachable vtctld holds a worker briefly.
	topologyCallTimeout = 5 * time.Second
)

// VtctldAddresses says where the server reaches a VitessCluster's vtctld: the vtctld Service the
// reconciler runs for that cluster, in the cluster's namespace, and nothing else. Only with
// AllowAnnotation (a test bed whose Vitess runs outside Kubernetes) does
// vitess.AnnotationVtctldAddress name another.
type VtctldAddresses struct {
	AllowAnnotation bool
}

// Of is the address of the cluster's vtctld (of any version of the type).
func (a VtctldAddresses) Of(cluster metav1.Object) string {
	if address := a.override(cluster); address != "" {
		return address
	}
	return fmt.Sprintf("%s.%s.svc:%d", names.VtctldServiceName(cluster.GetName()), cluster.GetNamespace(), vitessGRPCPort)
}

func (a VtctldAddresses) override(cluster metav1.Object) string {
	if !a.AllowAnnotation {
		return ""
	}
	return cluster.GetAnnotations()[vitess.AnnotationVtctldAddress]
}

var errVtctldNotRunning = errors.New("vtctld has no available replica yet")

// topologyView is one reading of a cluster's topology.
type topologyView struct {
	address string
	// err is why the last reading failed; nil after a complete reading.
	err      error
	cells    map[string]bool
	keyspace map[string]bool
	// shards are the shard records by "keyspace/shard"; serving the shards each keyspace's
	// serving graph routes primary traffic to.
	shards  map[string]vtctld.Shard
	serving map[string][]string

	failures    int
	nextReading time.Time
}

// reached reports whether the view holds a complete reading.
func (v *topologyView) reached() bool { return v != nil && v.err == nil && v.cells != nil }

// servesShard reports whether the reading shows keyspace/shard taking primary traffic. Without
// a reading of that keyspace it is assumed to serve.
func (v *topologyView) servesShard(keyspace, shard string) bool {
	if !v.reached() {
		return true
	}
	serving, read := v.serving[keyspace]
	if !read {
		return true
	}
	record, ok := v.shards[keyspace+"/"+shard]
	return slices.Contains(serving, shard) || (ok && record.IsPrimaryServing)
}

// topology holds the vtctld clients and the last reading of every cluster's topology.
type topology struct {
	mu      sync.Mutex
	clients map[string]*vtctld.Client
	views   map[string]*topologyView
	// busy are the keys whose background work (a cluster's reading, a shard's reparent, a
	// workflow's round) is under way.
	busy map[string]bool
	// reparentFailures is why a shard's last planned reparent failed, by namespace/name.
	reparentFailures map[string]error
	// background counts the work started by inBackground, which Run waits for before the term
	// ends: a former leader must not go on writing.
	background sync.WaitGroup
}

func newTopology() *topology {
	return &topology{clients: map[string]*vtctld.Client{}, views: map[string]*topologyView{}, busy: map[string]bool{},
		reparentFailures: map[string]error{}}
}

// inBackground runs work off the worker, one at a time per key; it does nothing if the key's work
// is under way. ctx is the worker's, so the work ends with the leader's term, and Run waits for it
// (see waitBackground).
func (t *topology) inBackground(ctx context.Context, key string, work func(ctx context.Context)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.busy[key] || ctx.Err() != nil {
		return
	}
	t.busy[key] = true
	t.background.Add(1)
	go func() {
		defer t.background.Done()
		defer func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			delete(t.busy, key)
		}()
		work(ctx)
	}()
}

// waitBackground returns once the work started by inBackground has ended.
func (t *topology) waitBackground() { t.background.Wait() }

func (t *topology) client(address string) (*vtctld.Client, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if client, ok := t.clients[address]; ok {
		return client, nil
	}
	client, err := vtctld.Dial(address, vtctld.WithTimeout(topologyCallTimeout))
	if err != nil {
		return nil, err
	}
	t.clients[address] = client
	return client, nil
}

// view is the last reading of the cluster with the given namespace/name key, or nil.
func (t *topology) view(key string) *topologyView {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.views[key]
}

// forget drops what is known of a deleted cluster.
func (t *topology) forget(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.views, key)
}

// readSoon makes the next pass of a cluster read its topology again, e.g. after a reparent. A
// published view is read without the lock, so it is replaced, never changed.
func (t *topology) readSoon(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if view := t.views[key]; view != nil {
		due := *view
		due.nextReading = time.Time{}
		t.views[key] = &due
	}
}

func (t *topology) reparentFailure(shardKey string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.reparentFailures[shardKey]
}

// setReparentFailure records the outcome of a shard's reparent; nil clears it.
func (t *topology) setReparentFailure(shardKey string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		delete(t.reparentFailures, shardKey)
		return
	}
	t.reparentFailures[shardKey] = err
}

func (t *topology) setView(key string, view *topologyView) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.views[key] = view
}

// observeTopology returns the latest view of the cluster's topology and, when a reading is
// due, starts one in the background: registering the cluster's cells and keyspaces and reading
// its shards. A reading ends by enqueueing the cluster again; a failed one is retried with
// backoff. Reading in the background keeps an unreachable vtctld from holding a worker.
func (p *clusterPass) observeTopology(ctx context.Context, key string) *topologyView {
	previous := p.topology.view(key)
	address := p.vtctldAddresses.Of(p.cluster)
	if previous != nil && previous.address == address && time.Now().Before(previous.nextReading) {
		// Re-armed on every pass: the queue keeps only the earliest wake-up of a key, so one set
		// when the reading ended may have given way to an earlier retry.
		p.queue.AddAfter(queueKey{kind: kindCluster, key: key}, time.Until(previous.nextReading))
		return previous
	}
	if p.vtctldAddresses.override(p.cluster) == "" && !p.vtctldAvailable() {
		// The Deployment's becoming available enqueues the cluster again.
		view := &topologyView{address: address, err: errVtctldNotRunning}
		p.topology.setView(key, view)
		return view
	}
	p.topology.inBackground(ctx, key, func(ctx context.Context) {
		view := &topologyView{address: address}
		ctx, cancel := context.WithTimeout(ctx, 4*topologyCallTimeout)
		defer cancel()
		view.err = p.readTopology(ctx, view)
		if errors.Is(ctx.Err(), context.Canceled) {
			return // the leader's term ended: what it read is of no use to the next term
		}
		delay := topologyRefresh
		if view.err != nil {
			view.failures = 1
			if previous != nil && previous.err != nil {
				view.failures = previous.failures + 1
			}
			delay = min(topologyRetryMin<<min(view.failures-1, 16), topologyRetryMax)
			if previous == nil || previous.err == nil || previous.err.Error() != view.err.Error() {
				p.events.Eventf(p.cluster, nil, "Warning", "TopologyUnavailable", "Register", "%v", view.err)
			}
			klog.V(2).InfoS("Reading the topology failed", "cluster", key, "retryIn", delay, "err", view.err)
		}
		view.nextReading = time.Now().Add(delay)
		p.topology.setView(key, view)
		if previous == nil || !maps.EqualFunc(previous.shards, view.shards, func(a, b vtctld.Shard) bool { return a == b }) ||
			!maps.EqualFunc(previous.serving, view.serving, slices.Equal) {
			p.enqueueShards()
		}
		p.queue.Add(queueKey{kind: kindCluster, key: key})
		p.queue.AddAfter(queueKey{kind: kindCluster, key: key}, delay)
	})
	return previous
}

func (p *clusterPass) vtctldAvailable() bool {
	for _, cell := range vtctldCells(p.cluster) {
		if deployment, err := p.deployments.Deployments(p.cluster.Namespace).Get(names.VtctldDeploymentName(p.cluster.Name, cell)); err == nil && deployment.Status.AvailableReplicas > 0 {
			return true
		}
	}
	return false
}

// readTopology registers what is missing and reads the shards into view.
func (p *clusterPass) readTopology(ctx context.Context, view *topologyView) error {
	client, err := p.topology.client(view.address)
	if err != nil {
		return err
	}
	cells, err := client.CellNames(ctx)
	if err != nil {
		return err
	}
	view.cells = map[string]bool{}
	for _, cell := range p.cluster.Spec.Cells {
		if !slices.Contains(cells, cell.Name) {
			params := cellLockserverParams(p.cluster, cell)
			if err := client.AddCell(ctx, cell.Name, params.Address, params.RootPath); err != nil {
				return err
			}
			p.events.Eventf(p.cluster, nil, "Normal", "CellRegistered", "Register", "registered cell %s in the topology", cell.Name)
		}
		view.cells[cell.Name] = true
	}
	keyspaces, err := client.Keyspaces(ctx)
	if err != nil {
		return err
	}
	view.keyspace, view.shards, view.serving = map[string]bool{}, map[string]vtctld.Shard{}, map[string][]string{}
	cellNames := slices.Collect(maps.Keys(view.cells))
	for _, keyspace := range p.cluster.Spec.Keyspaces {
		i := slices.IndexFunc(keyspaces, func(k vtctld.Keyspace) bool { return k.Name == keyspace.Name })
		switch {
		case i < 0:
			if err := client.CreateKeyspace(ctx, keyspace.Name, keyspace.DurabilityPolicy); err != nil {
				return err
			}
			p.events.Eventf(p.cluster, nil, "Normal", "KeyspaceRegistered", "Register", "created keyspace %s in the topology (durability policy %q)", keyspace.Name, keyspace.DurabilityPolicy)
		case keyspace.DurabilityPolicy != "" && keyspaces[i].DurabilityPolicy != keyspace.DurabilityPolicy:
			// Tablets that start first create their keyspace with no policy.
			if err := client.SetDurabilityPolicy(ctx, keyspace.Name, keyspace.DurabilityPolicy); err != nil {
				return err
			}
			p.events.Eventf(p.cluster, nil, "Normal", "DurabilityPolicySet", "Register", "set keyspace %s's durability policy to %q (it was %q)", keyspace.Name, keyspace.DurabilityPolicy, keyspaces[i].DurabilityPolicy)
		}
		view.keyspace[keyspace.Name] = true
		if err := readShards(ctx, client, view, keyspace.Name, cellNames); err != nil {
			return err
		}
	}
	// The keyspaces the spec no longer declares are read too: their shards are turned down only
	// once the reading says they no longer serve. One Vitess does not know has nothing to serve.
	declared := map[string]bool{}
	for _, keyspace := range p.cluster.Spec.Keyspaces {
		declared[names.Keyspace(p.cluster.Name, keyspace.Name)] = true
	}
	removed, err := p.keyspaces.orphans(p.cluster, p.selector(nil), declared)
	if err != nil {
		return err
	}
	for _, keyspace := range removed {
		name := keyspace.Spec.Name
		if !slices.ContainsFunc(keyspaces, func(k vtctld.Keyspace) bool { return k.Name == name }) {
			view.serving[name] = []string{}
			continue
		}
		if err := readShards(ctx, client, view, name, cellNames); err != nil {
			return err
		}
	}
	return nil
}

// readShards reads a keyspace's shard records and which of its shards serve into view.
func readShards(ctx context.Context, client *vtctld.Client, view *topologyView, keyspace string, cells []string) error {
	shards, err := client.Shards(ctx, keyspace)
	if err != nil {
		return err
	}
	for _, shard := range shards {
		view.shards[keyspace+"/"+shard.Name] = shard
	}
	serving, err := client.ServingShards(ctx, keyspace, cells)
	if err != nil {
		return err
	}
	view.serving[keyspace] = append([]string{}, serving...)
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

// enqueueShards asks for every shard of the cluster to be reconciled, to pick up a new reading.
func (p *clusterPass) enqueueShards() {
	shards, err := p.shards.lister(p.cluster.Namespace).List(labels.SelectorFromSet(labels.Set{LabelCluster: p.cluster.Name}))
	if err != nil {
		return
	}
	for _, shard := range shards {
		p.queue.Add(queueKey{kind: kindShard, key: shard.Namespace + "/" + shard.Name})
	}
}

// registration is the Registered condition of a cell or keyspace for a reading (not nil).
func registration(view *topologyView, registered bool, what string) (bool, string, string) {
	switch {
	case registered:
		return true, "InTopology", what + " is registered in the topology"
	case errors.Is(view.err, errVtctldNotRunning):
		return false, "VtctldNotRunning", view.err.Error()
	case vtctld.IsUnavailable(view.err):
		return false, "VtctldUnreachable", fmt.Sprintf("vtctld at %s is unreachable; retrying", view.address)
	case view.err != nil:
		return false, "RegistrationFailed", view.err.Error()
	}
	return false, "NotRegistered", what + " is not registered yet"
}
