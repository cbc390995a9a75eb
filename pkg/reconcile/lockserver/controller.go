// Package lockserver is the controller of EtcdLockservers: it runs each one's etcd members (a Pod
// and a PVC each), their Services and PodDisruptionBudget, and replaces an out-of-date member only
// while the others are ready, so the lockserver keeps its quorum.
package lockserver

import (
	"context"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
)

const kind = "EtcdLockserver"

// Controller reconciles EtcdLockservers.
type Controller struct {
	*objects.Kinds
	clients *objects.Clients
	queue   objects.Queue
}

// New is a lockserver controller that reads through the listers and writes through the clients.
func New(clients *objects.Clients, kinds *objects.Kinds) *Controller {
	return &Controller{Kinds: kinds, clients: clients, queue: objects.NewQueue("etcdlockserver")}
}

// Enqueue asks for the lockserver with the given namespace/name key to be reconciled.
func (c *Controller) Enqueue(key string) { c.queue.Add(key) }

// Run reconciles until ctx is done, and returns once no worker runs any more.
func (c *Controller) Run(ctx context.Context, workers int) {
	objects.RunWorkers(ctx, c.queue, workers, kind, c.reconcile)
}
