package reconcile

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/informers/externalversions"
	listers "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/listers/vitess/v1alpha1"
)

// Reconciler keeps every VitessCluster's children in line with the cluster's spec, and reports
// what it sees in the cluster's status. One worker queue of cluster keys serves every kind: a
// change to a child enqueues the cluster that owns it.
type Reconciler struct {
	client    versioned.Interface
	informers externalversions.SharedInformerFactory
	clusters  listers.VitessClusterLister
	queue     workqueue.TypedRateLimitingInterface[string]
	events    events.EventRecorder

	lockservers childKind[*v1alpha1.EtcdLockserver]
	cells       childKind[*v1alpha1.VitessCell]
	keyspaces   childKind[*v1alpha1.VitessKeyspace]
	shards      childKind[*v1alpha1.VitessShard]
}

// resync re-reads every cluster now and then, so a lost event is repaired without waiting for
// the next change.
const resync = 10 * time.Minute

// New builds a Reconciler on a client of the vitess.planetscale.com API.
func New(client versioned.Interface, recorder events.EventRecorder) *Reconciler {
	factory := externalversions.NewSharedInformerFactory(client, resync)
	api := factory.Vitess().V1alpha1()
	v1 := client.VitessV1alpha1()
	r := &Reconciler{
		client:    client,
		informers: factory,
		clusters:  api.VitessClusters().Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "vitessclusters"}),
		events: recorder,
	}
	r.lockservers = childKind[*v1alpha1.EtcdLockserver]{
		kind:   "EtcdLockserver",
		client: func(ns string) typedClient[*v1alpha1.EtcdLockserver] { return v1.EtcdLockservers(ns) },
		lister: func(ns string) namespaceLister[*v1alpha1.EtcdLockserver] {
			return api.EtcdLockservers().Lister().EtcdLockservers(ns)
		},
		spec:    func(o *v1alpha1.EtcdLockserver) any { return o.Spec },
		setSpec: func(dst, src *v1alpha1.EtcdLockserver) { dst.Spec = src.Spec },
	}
	r.cells = childKind[*v1alpha1.VitessCell]{
		kind:   "VitessCell",
		client: func(ns string) typedClient[*v1alpha1.VitessCell] { return v1.VitessCells(ns) },
		lister: func(ns string) namespaceLister[*v1alpha1.VitessCell] {
			return api.VitessCells().Lister().VitessCells(ns)
		},
		spec:    func(o *v1alpha1.VitessCell) any { return o.Spec },
		setSpec: func(dst, src *v1alpha1.VitessCell) { dst.Spec = src.Spec },
	}
	r.keyspaces = childKind[*v1alpha1.VitessKeyspace]{
		kind:   "VitessKeyspace",
		client: func(ns string) typedClient[*v1alpha1.VitessKeyspace] { return v1.VitessKeyspaces(ns) },
		lister: func(ns string) namespaceLister[*v1alpha1.VitessKeyspace] {
			return api.VitessKeyspaces().Lister().VitessKeyspaces(ns)
		},
		spec:    func(o *v1alpha1.VitessKeyspace) any { return o.Spec },
		setSpec: func(dst, src *v1alpha1.VitessKeyspace) { dst.Spec = src.Spec },
	}
	r.shards = childKind[*v1alpha1.VitessShard]{
		kind:   "VitessShard",
		client: func(ns string) typedClient[*v1alpha1.VitessShard] { return v1.VitessShards(ns) },
		lister: func(ns string) namespaceLister[*v1alpha1.VitessShard] {
			return api.VitessShards().Lister().VitessShards(ns)
		},
		spec:    func(o *v1alpha1.VitessShard) any { return o.Spec },
		setSpec: func(dst, src *v1alpha1.VitessShard) { dst.Spec = src.Spec },
	}

	enqueueCluster := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			r.queue.Add(key)
		}
	}
	enqueueOwner := func(obj any) {
		if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tombstone.Obj
		}
		if child, ok := obj.(metav1.Object); ok && child.GetLabels()[LabelCluster] != "" {
			r.queue.Add(child.GetNamespace() + "/" + child.GetLabels()[LabelCluster])
		}
	}
	handlers := func(enqueue func(any)) cache.ResourceEventHandlerFuncs {
		return cache.ResourceEventHandlerFuncs{AddFunc: enqueue, UpdateFunc: func(_, obj any) { enqueue(obj) }, DeleteFunc: enqueue}
	}
	for _, informer := range []cache.SharedIndexInformer{api.EtcdLockservers().Informer(), api.VitessCells().Informer(),
		api.VitessKeyspaces().Informer(), api.VitessShards().Informer()} {
		_, _ = informer.AddEventHandler(handlers(enqueueOwner))
	}
	_, _ = api.VitessClusters().Informer().AddEventHandler(handlers(enqueueCluster))
	return r
}

// fieldManager names the reconciler's writes in managedFields.
const fieldManager = "vitess-reconciler"

// Run reconciles until ctx is done.
func (r *Reconciler) Run(ctx context.Context, workers int) error {
	defer utilruntime.HandleCrash()
	defer r.queue.ShutDown()
	r.informers.Start(ctx.Done())
	defer r.informers.Shutdown()
	for informer, synced := range r.informers.WaitForCacheSync(ctx.Done()) {
		if !synced {
			return fmt.Errorf("informer for %v did not sync", informer)
		}
	}
	klog.InfoS("Reconciling VitessClusters", "workers", workers)
	for range workers {
		go wait.UntilWithContext(ctx, r.work, time.Second)
	}
	<-ctx.Done()
	return nil
}

func (r *Reconciler) work(ctx context.Context) {
	for {
		key, shutdown := r.queue.Get()
		if shutdown {
			return
		}
		start := time.Now()
		err := r.reconcileCluster(ctx, key)
		observe("VitessCluster", start, err)
		if err != nil {
			klog.ErrorS(err, "Reconciling VitessCluster", "key", key)
			r.queue.AddRateLimited(key)
		} else {
			r.queue.Forget(key)
		}
		r.queue.Done(key)
	}
}
