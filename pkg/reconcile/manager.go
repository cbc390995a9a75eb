// Package reconcile is the manager of the reconcile loop: for each term of leadership (see
// RunLeaderElected) it makes the informers every controller reads from, starts the cluster,
// lockserver, shard and workflow controllers (one package each, each with its own queue) with the
// leader's context, routes informer events to the controller that owns the object, and returns
// only once none of them acts any more.
package reconcile

import (
	"context"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/cluster"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/lockserver"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/shard"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/workflow"
)

// Manager runs one leader's term of the reconcile loop. Its informers, queues and vtctld clients
// end with the term, so the next term needs a new one (see New).
type Manager struct {
	informers   *objects.Informers
	topology    *topology.Topology
	clusters    *cluster.Controller
	lockservers *lockserver.Controller
	shards      *shard.Controller
	workflows   *workflow.Controller
}

// New builds a Manager on a client of the vitess.planetscale.com API and one of the core API;
// it reaches each cluster's vtctld where vtctldAddresses say.
func New(client versioned.Interface, core kubernetes.Interface, recorder events.EventRecorder, vtctldAddresses topology.VtctldAddresses) *Manager {
	informers := objects.NewInformers(client, core)
	kinds := informers.Kinds(client)
	clients := informers.Clients(core, recorder)
	clusterLister := informers.Vitess.Vitess().V1alpha1().VitessClusters().Lister()
	m := &Manager{informers: informers}
	// A reading wanted (after a reparent) is taken by the cluster's controller; a reading that
	// changed is news for the cluster's shards.
	m.topology = topology.New(
		func(clusterKey string) { m.clusters.Enqueue(clusterKey) },
		func(clusterKey string) { m.shards.EnqueueCluster(clusterKey) })
	m.clusters = cluster.New(client, clients, kinds, clusterLister, m.topology, vtctldAddresses)
	m.lockservers = lockserver.New(clients, kinds)
	m.shards = shard.New(clients, kinds, m.topology)
	m.workflows = workflow.New(client, clients, kinds, clusterLister, m.topology, vtctldAddresses)
	m.routeEvents()
	return m
}

// routeEvents enqueues, for every change an informer sees, the object whose controller acts on it:
// the object itself, the cluster or lockserver its label names, or the shard that controls it.
func (m *Manager) routeEvents() {
	api := m.informers.Vitess.Vitess().V1alpha1()
	core := m.informers.Core
	itself := func(enqueue func(string)) func(any) {
		return func(obj any) {
			if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				enqueue(key)
			}
		}
	}
	// byLabel enqueues the object named by a child's or member's label.
	byLabel := func(label string, enqueue func(string)) func(any) {
		return func(obj any) {
			if child, ok := unwrap(obj).(metav1.Object); ok && child.GetLabels()[label] != "" {
				enqueue(child.GetNamespace() + "/" + child.GetLabels()[label])
			}
		}
	}
	// byController enqueues the object of kind that controls a Pod or Deployment.
	byController := func(kind string, enqueue func(string)) func(any) {
		return func(obj any) {
			if object, ok := unwrap(obj).(metav1.Object); ok {
				if ref := metav1.GetControllerOf(object); ref != nil && ref.Kind == kind && ref.APIVersion == v1alpha1.SchemeGroupVersion.String() {
					enqueue(object.GetNamespace() + "/" + ref.Name)
				}
			}
		}
	}
	handle := func(informer cache.SharedIndexInformer, handlers ...func(any)) {
		each := func(obj any) {
			for _, handler := range handlers {
				handler(obj)
			}
		}
		_, _ = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: each, UpdateFunc: func(_, obj any) { each(obj) }, DeleteFunc: each})
	}
	toCluster := byLabel(vitess.LabelCluster, m.clusters.Enqueue)
	toLockserver := byLabel(vitess.LabelLockserver, m.lockservers.Enqueue)
	toShard := byController("VitessShard", m.shards.Enqueue)
	handle(api.VitessClusters().Informer(), itself(m.clusters.Enqueue))
	_, _ = api.VitessClusters().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(obj any) {
		// Workflows wait for their cluster.
		if cluster, ok := obj.(*v1alpha1.VitessCluster); ok {
			m.workflows.EnqueueCluster(cluster.Namespace, cluster.Name)
		}
	}})
	handle(api.EtcdLockservers().Informer(), toCluster, itself(m.lockservers.Enqueue))
	handle(api.VitessCells().Informer(), toCluster)
	handle(api.VitessKeyspaces().Informer(), toCluster)
	handle(api.VitessShards().Informer(), toCluster, itself(m.shards.Enqueue))
	handle(api.VitessWorkflows().Informer(), itself(m.workflows.Enqueue))
	handle(core.Core().V1().Pods().Informer(), toLockserver, toShard)
	for _, informer := range []cache.SharedIndexInformer{core.Core().V1().PersistentVolumeClaims().Informer(),
		core.Core().V1().Services().Informer(), core.Policy().V1().PodDisruptionBudgets().Informer()} {
		handle(informer, toLockserver, toCluster)
	}
	handle(core.Apps().V1().Deployments().Informer(), toCluster, toShard)
	handle(core.Batch().V1().CronJobs().Informer(), toCluster)
	handle(core.Batch().V1().Jobs().Informer(), toCluster)
}

func unwrap(obj any) any {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return tombstone.Obj
	}
	return obj
}

// Run reconciles until ctx is done, each controller with workers workers, and returns only once
// nothing it started runs any more.
func (m *Manager) Run(ctx context.Context, workers int) error {
	defer utilruntime.HandleCrash()
	defer m.informers.Shutdown()
	defer m.topology.Close()
	if err := m.informers.Sync(ctx); err != nil {
		return err
	}
	klog.InfoS("Reconciling VitessClusters, EtcdLockservers, VitessShards and VitessWorkflows", "workers", workers)
	var running sync.WaitGroup
	for _, controller := range []interface{ Run(context.Context, int) }{m.clusters, m.lockservers, m.shards, m.workflows} {
		running.Go(func() { controller.Run(ctx, workers) })
	}
	// The term is over once ctx is done. A former leader must not act any more: each controller
	// stops its workers at their next key and waits for its background work, so that the next
	// leader (here or in another replica) is the only one that acts.
	running.Wait()
	klog.InfoS("Stopped reconciling")
	return nil
}
