// Package cluster is the controller of VitessClusters: it derives each cluster's children
// (EtcdLockserver, VitessCell, VitessKeyspace, VitessShard) from its spec alone, runs its vtctld
// and vtgates, registers its cells and keyspaces in Vitess, reads back its topology for the other
// controllers, turns down what the spec no longer declares only once it does not serve, and
// reports on the cluster, its cells and its keyspaces.
package cluster

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	listers "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/listers/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
)

const kind = "VitessCluster"

// Controller reconciles VitessClusters, one key at a time per cluster.
type Controller struct {
	*objects.Kinds
	clients    *objects.Clients
	client     versioned.Interface
	clusters   listers.VitessClusterLister
	topology   *topology.Topology
	addresses  topology.VtctldAddresses
	queue      objects.Queue
	background objects.Background

	mu sync.Mutex
	// reportedFailures are, per cluster key, the failed backup Jobs already reported by an Event.
	reportedFailures map[string]sets.Set[types.UID]
}

// New is a cluster controller that reads through the listers and writes through the clients;
// it takes readings of each cluster's topology into topology, from the vtctld addresses say.
func New(client versioned.Interface, clients *objects.Clients, kinds *objects.Kinds, clusters listers.VitessClusterLister,
	topology *topology.Topology, addresses topology.VtctldAddresses) *Controller {
	return &Controller{Kinds: kinds, clients: clients, client: client, clusters: clusters, topology: topology, addresses: addresses,
		queue: objects.NewQueue("vitesscluster"), reportedFailures: map[string]sets.Set[types.UID]{}}
}

// Enqueue asks for the cluster with the given namespace/name key to be reconciled.
func (c *Controller) Enqueue(key string) { c.queue.Add(key) }

// Run reconciles until ctx is done, and returns once nothing it started runs any more.
func (c *Controller) Run(ctx context.Context, workers int) {
	objects.RunWorkers(ctx, c.queue, workers, kind, c.reconcile)
	c.background.Wait()
}
