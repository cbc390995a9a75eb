package reconcile

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/informers/externalversions"
	listers "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/listers/vitess/v1alpha1"
)

// Reconciler keeps every VitessCluster's children in line with the cluster's spec, deploys every
// EtcdLockserver's members and every VitessShard's tablets, and reports what it sees in their
// status. One worker queue serves every kind: a change to an object enqueues the cluster,
// lockserver or shard that owns it.
type Reconciler struct {
	client        versioned.Interface
	core          kubernetes.Interface
	informers     externalversions.SharedInformerFactory
	coreInformers informers.SharedInformerFactory
	clusters      listers.VitessClusterLister
	pods          corelisters.PodLister
	pvcs          corelisters.PersistentVolumeClaimLister
	services      corelisters.ServiceLister
	pdbs          policylisters.PodDisruptionBudgetLister
	deployments   appslisters.DeploymentLister
	queue         workqueue.TypedRateLimitingInterface[queueKey]
	events        events.EventRecorder
	topology      *topology
	// vtctldAddresses is where each cluster's vtctld is reached.
	vtctldAddresses VtctldAddresses

	lockservers childKind[*v1alpha1.EtcdLockserver]
	cells       childKind[*v1alpha1.VitessCell]
	keyspaces   childKind[*v1alpha1.VitessKeyspace]
	shards      childKind[*v1alpha1.VitessShard]
	workflows   childKind[*v1alpha1.VitessWorkflow]
}

// resync re-reads every cluster now and then, so a lost event is repaired without waiting for
// the next change.
const resync = 10 * time.Minute

// queueKey is an object to reconcile: its kind and namespace/name.
type queueKey struct {
	kind string
	key  string
}

// New builds a Reconciler on a client of the vitess.planetscale.com API and one of the core API.
func New(client versioned.Interface, core kubernetes.Interface, recorder events.EventRecorder, vtctldAddresses VtctldAddresses) *Reconciler {
	factory := externalversions.NewSharedInformerFactory(client, resync)
	api := factory.Vitess().V1alpha1()
	v1 := client.VitessV1alpha1()
	// Only the core objects the reconciler makes are cached: they all carry a component label.
	coreFactory := informers.NewSharedInformerFactoryWithOptions(core, resync, informers.WithTweakListOptions(func(options *metav1.ListOptions) {
		options.LabelSelector = LabelComponent
	}))
	r := &Reconciler{
		client:        client,
		core:          core,
		informers:     factory,
		coreInformers: coreFactory,
		clusters:      api.VitessClusters().Lister(),
		pods:          coreFactory.Core().V1().Pods().Lister(),
		pvcs:          coreFactory.Core().V1().PersistentVolumeClaims().Lister(),
		services:      coreFactory.Core().V1().Services().Lister(),
		pdbs:          coreFactory.Policy().V1().PodDisruptionBudgets().Lister(),
		deployments:   coreFactory.Apps().V1().Deployments().Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[queueKey](),
			workqueue.TypedRateLimitingQueueConfig[queueKey]{Name: "vitess"}),
		events:          recorder,
		topology:        newTopology(),
		vtctldAddresses: vtctldAddresses,
	}
	r.lockservers = childKind[*v1alpha1.EtcdLockserver]{
		kind:   "EtcdLockserver",
		client: func(ns string) typedClient[*v1alpha1.EtcdLockserver] { return v1.EtcdLockservers(ns) },
		lister: func(ns string) namespaceLister[*v1alpha1.EtcdLockserver] {
			return api.EtcdLockservers().Lister().EtcdLockservers(ns)
		},
		spec:    func(o *v1alpha1.EtcdLockserver) any { return o.Spec },
		setSpec: func(dst, src *v1alpha1.EtcdLockserver) { dst.Spec = src.Spec },
		status:  func(o *v1alpha1.EtcdLockserver) any { return o.Status },
	}
	r.cells = childKind[*v1alpha1.VitessCell]{
		kind:   "VitessCell",
		client: func(ns string) typedClient[*v1alpha1.VitessCell] { return v1.VitessCells(ns) },
		lister: func(ns string) namespaceLister[*v1alpha1.VitessCell] {
			return api.VitessCells().Lister().VitessCells(ns)
		},
		spec:    func(o *v1alpha1.VitessCell) any { return o.Spec },
		setSpec: func(dst, src *v1alpha1.VitessCell) { dst.Spec = src.Spec },
		status:  func(o *v1alpha1.VitessCell) any { return o.Status },
	}
	r.keyspaces = childKind[*v1alpha1.VitessKeyspace]{
		kind:   "VitessKeyspace",
		client: func(ns string) typedClient[*v1alpha1.VitessKeyspace] { return v1.VitessKeyspaces(ns) },
		lister: func(ns string) namespaceLister[*v1alpha1.VitessKeyspace] {
			return api.VitessKeyspaces().Lister().VitessKeyspaces(ns)
		},
		spec:    func(o *v1alpha1.VitessKeyspace) any { return o.Spec },
		setSpec: func(dst, src *v1alpha1.VitessKeyspace) { dst.Spec = src.Spec },
		status:  func(o *v1alpha1.VitessKeyspace) any { return o.Status },
	}
	r.shards = childKind[*v1alpha1.VitessShard]{
		kind:   "VitessShard",
		client: func(ns string) typedClient[*v1alpha1.VitessShard] { return v1.VitessShards(ns) },
		lister: func(ns string) namespaceLister[*v1alpha1.VitessShard] {
			return api.VitessShards().Lister().VitessShards(ns)
		},
		spec:    func(o *v1alpha1.VitessShard) any { return o.Spec },
		setSpec: func(dst, src *v1alpha1.VitessShard) { dst.Spec = src.Spec },
		status:  func(o *v1alpha1.VitessShard) any { return o.Status },
	}
	r.workflows = childKind[*v1alpha1.VitessWorkflow]{
		kind:   kindWorkflow,
		client: func(ns string) typedClient[*v1alpha1.VitessWorkflow] { return v1.VitessWorkflows(ns) },
		lister: func(ns string) namespaceLister[*v1alpha1.VitessWorkflow] {
			return api.VitessWorkflows().Lister().VitessWorkflows(ns)
		},
		spec:    func(o *v1alpha1.VitessWorkflow) any { return o.Spec },
		setSpec: func(dst, src *v1alpha1.VitessWorkflow) { dst.Spec = src.Spec },
		status:  func(o *v1alpha1.VitessWorkflow) any { return o.Status },
	}

	enqueue := func(kind string) func(any) {
		return func(obj any) {
			if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				r.queue.Add(queueKey{kind: kind, key: key})
			}
		}
	}
	// enqueueOwner enqueues the object of kind named by the label of a child or member.
	enqueueOwner := func(kind, label string) func(any) {
		return func(obj any) {
			if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tombstone.Obj
			}
			if child, ok := obj.(metav1.Object); ok && child.GetLabels()[label] != "" {
				r.queue.Add(queueKey{kind: kind, key: child.GetNamespace() + "/" + child.GetLabels()[label]})
			}
		}
	}
	// enqueueController enqueues the object of kind that controls a Pod or Deployment.
	enqueueController := func(kind string) func(any) {
		return func(obj any) {
			if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tombstone.Obj
			}
			if object, ok := obj.(metav1.Object); ok {
				if ref := metav1.GetControllerOf(object); ref != nil && ref.Kind == kind && ref.APIVersion == v1alpha1.SchemeGroupVersion.String() {
					r.queue.Add(queueKey{kind: kind, key: object.GetNamespace() + "/" + ref.Name})
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
	toCluster := enqueueOwner(kindCluster, LabelCluster)
	toLockserver := enqueueOwner(kindLockserver, LabelLockserver)
	handle(api.VitessClusters().Informer(), enqueue(kindCluster))
	_, _ = api.VitessClusters().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(obj any) {
		// Workflows wait for their cluster.
		if cluster, ok := obj.(*v1alpha1.VitessCluster); ok {
			r.enqueueWorkflows(cluster.Namespace, cluster.Name)
		}
	}})
	handle(api.EtcdLockservers().Informer(), toCluster, enqueue(kindLockserver))
	handle(api.VitessCells().Informer(), toCluster)
	handle(api.VitessKeyspaces().Informer(), toCluster)
	handle(api.VitessShards().Informer(), toCluster, enqueue(kindShard))
	handle(api.VitessWorkflows().Informer(), enqueue(kindWorkflow))
	toShard := enqueueController(kindShard)
	handle(coreFactory.Core().V1().Pods().Informer(), toLockserver, toShard)
	for _, informer := range []cache.SharedIndexInformer{coreFactory.Core().V1().PersistentVolumeClaims().Informer(),
		coreFactory.Core().V1().Services().Informer(), coreFactory.Policy().V1().PodDisruptionBudgets().Informer()} {
		handle(informer, toLockserver, toCluster)
	}
	handle(coreFactory.Apps().V1().Deployments().Informer(), toCluster, toShard)
	return r
}

// fieldManager names the reconciler's writes in managedFields.
const fieldManager = "vitess-reconciler"

// The kinds the reconciler reconciles.
const (
	kindCluster    = "VitessCluster"
	kindLockserver = "EtcdLockserver"
)

// Run reconciles until ctx is done, and returns only once nothing it started runs any more. A
// Reconciler serves one leader's term: its queue and informers end with it, so the next term
// needs a new one (see New).
func (r *Reconciler) Run(ctx context.Context, workers int) error {
	defer utilruntime.HandleCrash()
	defer r.queue.ShutDown()
	r.informers.Start(ctx.Done())
	defer r.informers.Shutdown()
	r.coreInformers.Start(ctx.Done())
	defer r.coreInformers.Shutdown()
	for informer, synced := range r.informers.WaitForCacheSync(ctx.Done()) {
		if !synced {
			return fmt.Errorf("informer for %v did not sync", informer)
		}
	}
	for informer, synced := range r.coreInformers.WaitForCacheSync(ctx.Done()) {
		if !synced {
			return fmt.Errorf("informer for %v did not sync", informer)
		}
	}
	klog.InfoS("Reconciling VitessClusters, EtcdLockservers, VitessShards and VitessWorkflows", "workers", workers)
	var running sync.WaitGroup
	for range workers {
		running.Go(func() { wait.UntilWithContext(ctx, r.work, time.Second) })
	}
	<-ctx.Done()
	// The term is over. A former leader must not act any more: the workers stop at their next
	// item, and Run returns once they and their background work have ended, so that the next
	// leader (here or in another replica) is the only one that acts.
	r.queue.ShutDown()
	running.Wait()
	r.topology.waitBackground()
	klog.InfoS("Stopped reconciling")
	return nil
}

func (r *Reconciler) work(ctx context.Context) {
	for {
		item, shutdown := r.queue.Get()
		if shutdown {
			return
		}
		if ctx.Err() != nil {
			// The queue hands out what it still holds after ShutDown: leave it to the next term.
			r.queue.Done(item)
			return
		}
		start := time.Now()
		var err error
		switch item.kind {
		case kindCluster:
			err = r.reconcileCluster(ctx, item.key)
		case kindLockserver:
			err = r.reconcileLockserver(ctx, item.key)
		case kindShard:
			err = r.reconcileShard(ctx, item.key)
		case kindWorkflow:
			err = r.reconcileWorkflow(ctx, item.key)
		}
		observe(item.kind, start, err)
		if err != nil {
			klog.ErrorS(err, "Reconciling", "kind", item.kind, "key", item.key)
			r.queue.AddRateLimited(item)
		} else {
			r.queue.Forget(item)
		}
		r.queue.Done(item)
	}
}
