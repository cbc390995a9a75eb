// Package shard is the controller of VitessShards: it runs each shard's tablets (a Pod each, on a
// PVC each) and VTOrc, replaces tablets whose spec changed as the update strategy allows, never
// deleting the primary's Pod without a fresh reading of the topology and a planned reparent away
// from it, elects a new shard's first primary, and reports what it sees in the shard's status.
package shard

import (
	"context"
	"maps"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

const kind = "VitessShard"

// Controller reconciles VitessShards.
type Controller struct {
	*objects.Kinds
	clients    *objects.Clients
	topology   *topology.Topology
	queue      objects.Queue
	background objects.Background

	// vitess reaches the vtctld at an address, each call bounded by timeout.
	vitess func(address string, timeout time.Duration) (vitessShards, error)

	mu sync.Mutex
	// reparentFailures is why a shard's last planned reparent failed, by namespace/name.
	reparentFailures map[string]error
	// deleted holds when this controller deleted a tablet Pod, by UID: a pass can run before the
	// informer shows the Pod terminating (the last pass's own status update enqueues the shard at
	// once), and must then count it as going, neither ready nor to be replaced again.
	deleted map[types.UID]time.Time
	// backups is what is known of each shard's backups, by UID.
	backups map[types.UID]backupState
	// replicationChecks holds when the replication of a tablet Pod, by UID, was looked at.
	replicationChecks map[types.UID]time.Time
}

// deletedMemory is how long a deleted Pod counts as going without the informer saying so: by
// then the informer has caught up, or the deletion failed and may be tried again.
const deletedMemory = time.Minute

// markDeleted records that the Pod is being deleted, and forgets the deletions the informer has
// long caught up with.
func (c *Controller) markDeleted(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	maps.DeleteFunc(c.deleted, func(_ types.UID, at time.Time) bool { return now.Sub(at) > deletedMemory })
	c.deleted[pod.UID] = now
}

// going tells whether the Pod is terminating, or was deleted by this controller lately.
func (c *Controller) going(pod *corev1.Pod) bool {
	if pod.DeletionTimestamp != nil {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.deleted[pod.UID]
	return ok && time.Since(at) <= deletedMemory
}

// New is a shard controller that reads through the listers and writes through the clients, and
// learns each shard's primary and serving state from topology.
func New(clients *objects.Clients, kinds *objects.Kinds, topology *topology.Topology) *Controller {
	return &Controller{Kinds: kinds, clients: clients, topology: topology, queue: objects.NewQueue("vitessshard"),
		reparentFailures: map[string]error{}, deleted: map[types.UID]time.Time{}, backups: map[types.UID]backupState{}, replicationChecks: map[types.UID]time.Time{},
		vitess: func(address string, timeout time.Duration) (vitessShards, error) {
			client, err := topology.Client(address)
			if err != nil {
				return nil, err
			}
			return client.WithTimeout(timeout), nil
		}}
}

// vitessShards is what the shard controller asks of a cluster's vtctld.
type vitessShards interface {
	Shards(ctx context.Context, keyspace string) ([]vtctld.Shard, error)
	Tablets(ctx context.Context, keyspace, shard string) ([]vtctld.Tablet, error)
	ElectPrimary(ctx context.Context, keyspace, shard string, candidates []string) (string, error)
	ReparentAwayFrom(ctx context.Context, keyspace, shard, alias string) (string, error)
	Backups(ctx context.Context, keyspace, shard string) ([]vtctld.Backup, error)
	RemoveBackup(ctx context.Context, keyspace, shard, name string) error
	BackUp(ctx context.Context, alias string, options vtctld.BackupOptions) error
	Restore(ctx context.Context, alias string, options vtctld.RestoreOptions) error
	ReplicationStopped(ctx context.Context, alias string) (bool, error)
	StartReplication(ctx context.Context, alias string) error
}

// Enqueue asks for the shard with the given namespace/name key to be reconciled.
func (c *Controller) Enqueue(key string) { c.queue.Add(key) }

// EnqueueCluster asks for every shard of the cluster with the given namespace/name key to be
// reconciled, e.g. to pick up a new reading of its topology.
func (c *Controller) EnqueueCluster(clusterKey string) {
	namespace, name, ok := strings.Cut(clusterKey, "/")
	if !ok {
		return
	}
	shards, err := c.Shards.Lister(namespace).List(labels.SelectorFromSet(labels.Set{vitess.LabelCluster: name}))
	if err != nil {
		return
	}
	for _, shard := range shards {
		c.queue.Add(shard.Namespace + "/" + shard.Name)
	}
}

// Run reconciles until ctx is done, and returns once nothing it started runs any more.
func (c *Controller) Run(ctx context.Context, workers int) {
	objects.RunWorkers(ctx, c.queue, workers, kind, c.reconcile)
	c.background.Wait()
}

func (c *Controller) reparentFailure(shardKey string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reparentFailures[shardKey]
}

// setReparentFailure records the outcome of a shard's reparent; nil clears it.
func (c *Controller) setReparentFailure(shardKey string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		delete(c.reparentFailures, shardKey)
		return
	}
	c.reparentFailures[shardKey] = err
}
