package objects

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/informers/externalversions"
)

// resync re-reads every object now and then, so a lost event is repaired without waiting for the
// next change.
const resync = 10 * time.Minute

// Informers are the caches the controllers read from: the group's objects, and the core objects
// the loop makes, which all carry vitess.LabelComponent (no other core object is cached).
type Informers struct {
	Vitess externalversions.SharedInformerFactory
	Core   informers.SharedInformerFactory
}

// NewInformers makes the caches of one leader's term; they end with it (Shutdown).
func NewInformers(client versioned.Interface, core kubernetes.Interface) *Informers {
	return &Informers{
		Vitess: externalversions.NewSharedInformerFactory(client, resync),
		Core: informers.NewSharedInformerFactoryWithOptions(core, resync, informers.WithTweakListOptions(func(options *metav1.ListOptions) {
			options.LabelSelector = vitess.LabelComponent
		})),
	}
}

// Kinds reads the group's kinds from the caches and writes them through client.
func (i *Informers) Kinds(client versioned.Interface) *Kinds { return NewKinds(client, i.Vitess) }

// Clients reads the core objects from the caches, writes them through core and reports through
// recorder.
func (i *Informers) Clients(core kubernetes.Interface, recorder events.EventRecorder) *Clients {
	v1 := i.Core.Core().V1()
	return &Clients{
		Core:        core,
		Events:      recorder,
		Pods:        v1.Pods().Lister(),
		PVCs:        v1.PersistentVolumeClaims().Lister(),
		Services:    v1.Services().Lister(),
		PDBs:        i.Core.Policy().V1().PodDisruptionBudgets().Lister(),
		Deployments: i.Core.Apps().V1().Deployments().Lister(),
		CronJobs:    i.Core.Batch().V1().CronJobs().Lister(),
		Jobs:        i.Core.Batch().V1().Jobs().Lister(),
	}
}

// Sync starts every informer made so far and waits until their caches are filled.
func (i *Informers) Sync(ctx context.Context) error {
	i.Vitess.Start(ctx.Done())
	i.Core.Start(ctx.Done())
	for informer, synced := range i.Vitess.WaitForCacheSync(ctx.Done()) {
		if !synced {
			return fmt.Errorf("informer for %v did not sync", informer)
		}
	}
	for informer, synced := range i.Core.WaitForCacheSync(ctx.Done()) {
		if !synced {
			return fmt.Errorf("informer for %v did not sync", informer)
		}
	}
	return nil
}

// Shutdown stops the informers and waits for them.
func (i *Informers) Shutdown() {
	i.Vitess.Shutdown()
	i.Core.Shutdown()
}
