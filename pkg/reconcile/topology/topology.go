// Package topology keeps what the reconcile loop knows of each VitessCluster's Vitess: the last
// reading of its topology (which the cluster controller takes, and the shard controller decides
// from) and one vtctld client per address, shared by every controller.
package topology

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// CallTimeout bounds each vtctld call of the loop, so an unreachable vtctld holds a worker briefly.
const CallTimeout = 5 * time.Second

// VtctldAddresses says where the server reaches a VitessCluster's vtctld: the vtctld Service the
// reconciler runs for that cluster, in the cluster's namespace, and nothing else. Only with
// AllowAnnotation (a test bed whose Vitess runs outside Kubernetes) does
// vitess.AnnotationVtctldAddress name another.
type VtctldAddresses struct {
	AllowAnnotation bool
}

// Of is the address of the cluster's vtctld (of any version of the type).
func (a VtctldAddresses) Of(cluster metav1.Object) string {
	if address := a.Override(cluster); address != "" {
		return address
	}
	return fmt.Sprintf("%s.%s.svc:%d", names.VtctldServiceName(cluster.GetName()), cluster.GetNamespace(), objects.VitessGRPCPort)
}

// Override is the vtctld the cluster's annotation names, where that is allowed; "" otherwise.
func (a VtctldAddresses) Override(cluster metav1.Object) string {
	if !a.AllowAnnotation {
		return ""
	}
	return cluster.GetAnnotations()[vitess.AnnotationVtctldAddress]
}

// View is one reading of a cluster's topology. A published View is never changed, only replaced.
type View struct {
	Address string
	// Err is why the reading failed; nil after a complete reading.
	Err       error
	Cells     map[string]bool
	Keyspaces map[string]bool
	// Snapshots are the keyspaces Vitess has as SNAPSHOT keyspaces, which their spec declares.
	Snapshots map[string]bool
	// Shards are the shard records by "keyspace/shard"; Serving the shards each keyspace's
	// serving graph routes primary traffic to.
	Shards  map[string]vtctld.Shard
	Serving map[string][]string
	// TabletTypes are the registered tablets' types (PRIMARY, REPLICA, ...) by alias.
	TabletTypes map[string]string

	// Failures counts the readings that failed in a row; NextReading is when the next is due.
	Failures    int
	NextReading time.Time
}

// PrimaryCameBackAsReplica reports whether the reading shows keyspace/shard's record naming a
// primary whose tablet is registered as another type: it lost its data and restored a backup,
// which brings a tablet back as a replica, and nothing serves the shard's writes. A named primary
// not registered at all (a cell that did not answer) says nothing.
func (v *View) PrimaryCameBackAsReplica(keyspace, shard string) bool {
	primary := v.Shards[keyspace+"/"+shard].PrimaryAlias
	tabletType, registered := v.TabletTypes[primary]
	return primary != "" && registered && tabletType != "PRIMARY"
}

// Reached reports whether the view holds a complete reading.
func (v *View) Reached() bool { return v != nil && v.Err == nil && v.Cells != nil }

// ServesShard reports whether the reading shows keyspace/shard taking primary traffic. Without
// a reading of that keyspace it is assumed to serve.
func (v *View) ServesShard(keyspace, shard string) bool {
	if !v.Reached() {
		return true
	}
	serving, read := v.Serving[keyspace]
	if !read {
		return true
	}
	record, ok := v.Shards[keyspace+"/"+shard]
	return slices.Contains(serving, shard) || (ok && record.IsPrimaryServing)
}

// Topology holds the last reading of every cluster's topology, by the cluster's namespace/name,
// and the vtctld clients, by address.
type Topology struct {
	mu      sync.Mutex
	clients map[string]*vtctld.Client
	views   map[string]*View
	// readingWanted and readingChanged are told of a cluster whose topology should be read again
	// now, and of one whose reading changed what its shards see.
	readingWanted, readingChanged func(clusterKey string)
}

// New is an empty Topology. readingWanted is called with a cluster's key when someone asks for
// it to be read again (ReadSoon); readingChanged when a new reading differs from the last in
// its shards' records or serving state.
func New(readingWanted, readingChanged func(clusterKey string)) *Topology {
	return &Topology{clients: map[string]*vtctld.Client{}, views: map[string]*View{},
		readingWanted: readingWanted, readingChanged: readingChanged}
}

// Client is the client of the vtctld at address, dialled on first use.
func (t *Topology) Client(address string) (*vtctld.Client, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if client, ok := t.clients[address]; ok {
		return client, nil
	}
	client, err := vtctld.Dial(address, vtctld.WithTimeout(CallTimeout))
	if err != nil {
		return nil, err
	}
	t.clients[address] = client
	return client, nil
}

// View is the last reading of the cluster with the given namespace/name key, or nil.
func (t *Topology) View(clusterKey string) *View {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.views[clusterKey]
}

// SetView publishes a new reading of a cluster's topology.
func (t *Topology) SetView(clusterKey string, view *View) {
	t.mu.Lock()
	previous := t.views[clusterKey]
	t.views[clusterKey] = view
	t.mu.Unlock()
	if previous == nil || !maps.Equal(previous.Shards, view.Shards) || !maps.EqualFunc(previous.Serving, view.Serving, slices.Equal) {
		t.readingChanged(clusterKey)
	}
}

// Forget drops what is known of a deleted cluster, and closes its vtctld client when no other
// cluster uses that address.
func (t *Topology) Forget(clusterKey string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	view := t.views[clusterKey]
	delete(t.views, clusterKey)
	if view == nil {
		return
	}
	for _, other := range t.views {
		if other.Address == view.Address {
			return
		}
	}
	if client, ok := t.clients[view.Address]; ok {
		_ = client.Close()
		delete(t.clients, view.Address)
	}
}

// ReadSoon makes the next pass of a cluster read its topology again, e.g. after a reparent.
func (t *Topology) ReadSoon(clusterKey string) {
	t.mu.Lock()
	if view := t.views[clusterKey]; view != nil {
		due := *view
		due.NextReading = time.Time{}
		t.views[clusterKey] = &due
	}
	t.mu.Unlock()
	t.readingWanted(clusterKey)
}

// Close closes every vtctld client.
func (t *Topology) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for address, client := range t.clients {
		_ = client.Close()
		delete(t.clients, address)
	}
}
