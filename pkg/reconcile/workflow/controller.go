// Package workflow is the controller of VitessWorkflows: it creates each workflow in Vitess,
// carries out the action its subresources recorded as pendingAction exactly once, stops it in
// Vitess when the object is deleted, and mirrors its state (streams, copy progress, lag, traffic,
// the last VDiff) into its status.
package workflow

import (
	"context"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	listers "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/listers/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
)

const kind = "VitessWorkflow"

// Controller reconciles VitessWorkflows.
type Controller struct {
	*objects.Kinds
	clients    *objects.Clients
	client     versioned.Interface
	clusters   listers.VitessClusterLister
	topology   *topology.Topology
	addresses  topology.VtctldAddresses
	queue      objects.Queue
	background objects.Background
}

// New is a workflow controller that reaches each workflow's Vitess through the vtctld addresses
// say, with topology's clients.
func New(client versioned.Interface, clients *objects.Clients, kinds *objects.Kinds, clusters listers.VitessClusterLister,
	topology *topology.Topology, addresses topology.VtctldAddresses) *Controller {
	return &Controller{Kinds: kinds, clients: clients, client: client, clusters: clusters, topology: topology, addresses: addresses,
		queue: objects.NewQueue("vitessworkflow")}
}

// Enqueue asks for the workflow with the given namespace/name key to be reconciled.
func (c *Controller) Enqueue(key string) { c.queue.Add(key) }

// EnqueueCluster asks for the workflows of a cluster to be reconciled: they wait for it.
func (c *Controller) EnqueueCluster(namespace, cluster string) {
	workflows, err := c.Workflows.Lister(namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, workflow := range workflows {
		if workflow.Spec.Cluster == cluster {
			c.queue.Add(namespace + "/" + workflow.Name)
		}
	}
}

// Run reconciles until ctx is done, and returns once nothing it started runs any more.
func (c *Controller) Run(ctx context.Context, workers int) {
	objects.RunWorkers(ctx, c.queue, workers, kind, c.reconcile)
	c.background.Wait()
}
