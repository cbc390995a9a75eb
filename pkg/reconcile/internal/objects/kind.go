package objects

import (
	"context"
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	clientscheme "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned/scheme"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/informers/externalversions"
)

// Child is an object of the vitess.planetscale.com group, in its v1alpha1 form.
type Child interface {
	runtime.Object
	metav1.Object
}

// Kind is how the reconciler reads and writes one kind of child: the informer's lister for
// reads (so a steady state costs no requests) and the clientset for writes.
type Kind[T Child] struct {
	Kind    string
	Client  func(namespace string) TypedClient[T]
	Lister  func(namespace string) NamespaceLister[T]
	spec    func(T) any
	setSpec func(dst, src T)
	status  func(T) any
}

// TypedClient is the part of a generated typed client the reconciler writes with.
type TypedClient[T any] interface {
	Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error)
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
	UpdateStatus(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
}

// NamespaceLister is the part of a generated lister the reconciler reads with.
type NamespaceLister[T any] interface {
	Get(name string) (T, error)
	List(selector labels.Selector) ([]T, error)
}

func (k Kind[T]) Get(namespace, name string) (T, error) { return k.Lister(namespace).Get(name) }

func (k Kind[T]) Create(ctx context.Context, obj T) (T, error) {
	return k.Client(obj.GetNamespace()).Create(ctx, obj, metav1.CreateOptions{FieldManager: FieldManager})
}

func (k Kind[T]) Update(ctx context.Context, obj T) (T, error) {
	return k.Client(obj.GetNamespace()).Update(ctx, obj, metav1.UpdateOptions{FieldManager: FieldManager})
}

// UpdateStatus writes the status that report gives a copy of obj, when it differs from the
// stored one.
func (k Kind[T]) UpdateStatus(ctx context.Context, obj T, report func(T)) error {
	updated := obj.DeepCopyObject().(T)
	report(updated)
	if apiequality.Semantic.DeepEqual(k.status(obj), k.status(updated)) {
		return nil
	}
	if _, err := k.Client(obj.GetNamespace()).UpdateStatus(ctx, updated, metav1.UpdateOptions{FieldManager: FieldManager}); err != nil {
		return fmt.Errorf("updating the status of %s %s: %w", k.Kind, obj.GetName(), err)
	}
	CountWrite(k.Kind, "update-status")
	return nil
}

// Delete deletes the object that was read, not one created since under the same name.
func (k Kind[T]) Delete(ctx context.Context, obj T) error {
	uid := obj.GetUID()
	return k.Client(obj.GetNamespace()).Delete(ctx, obj.GetName(), metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
}

// Sync makes the stored child match desired, writing only when they differ, and says whether it
// wrote. The desired object is defaulted first, as the server would store it, so that defaults
// never read as a difference.
func (k Kind[T]) Sync(ctx context.Context, recorder events.EventRecorder, owner runtime.Object, desired T) (T, bool, error) {
	clientscheme.Scheme.Default(desired)
	existing, err := k.Get(desired.GetNamespace(), desired.GetName())
	if apierrors.IsNotFound(err) {
		created, err := k.Create(ctx, desired)
		if err != nil {
			return created, false, fmt.Errorf("creating %s %s: %w", k.Kind, desired.GetName(), err)
		}
		CountWrite(k.Kind, "create")
		recorder.Eventf(owner, nil, "Normal", "Created", "Create", "created %s %s", k.Kind, desired.GetName())
		return created, true, nil
	}
	if err != nil {
		return existing, false, err
	}
	if !controlledBySame(existing, desired) {
		return existing, false, fmt.Errorf("%s %s exists and is not controlled by this cluster", k.Kind, desired.GetName())
	}
	if apiequality.Semantic.DeepEqual(k.spec(existing), k.spec(desired)) && HasLabels(existing, desired.GetLabels()) {
		return existing, false, nil
	}
	updated := existing.DeepCopyObject().(T)
	k.setSpec(updated, desired)
	merged := updated.GetLabels()
	if merged == nil {
		merged = map[string]string{}
	}
	for key, value := range desired.GetLabels() {
		merged[key] = value
	}
	updated.SetLabels(merged)
	result, err := k.Update(ctx, updated)
	if err != nil {
		return result, false, fmt.Errorf("updating %s %s: %w", k.Kind, desired.GetName(), err)
	}
	CountWrite(k.Kind, "update")
	recorder.Eventf(owner, nil, "Normal", "Updated", "Update", "brought %s %s in line with the cluster's spec", k.Kind, desired.GetName())
	return result, true, nil
}

// Orphans lists the children that owner controls and no longer declares; selector narrows the
// search, and what owner does not control is never an orphan of it, whatever its labels.
func (k Kind[T]) Orphans(owner metav1.Object, selector labels.Selector, wanted map[string]bool) ([]T, error) {
	existing, err := k.Lister(owner.GetNamespace()).List(selector)
	if err != nil {
		return nil, err
	}
	var unwanted []T
	for _, obj := range existing {
		if !wanted[obj.GetName()] && metav1.IsControlledBy(obj, owner) {
			unwanted = append(unwanted, obj)
		}
	}
	return unwanted, nil
}

func controlledBySame(existing, desired metav1.Object) bool {
	have, want := metav1.GetControllerOf(existing), metav1.GetControllerOf(desired)
	return have != nil && want != nil && have.UID == want.UID
}

// HasLabels tells whether obj carries every label of want.
func HasLabels(obj metav1.Object, want map[string]string) bool {
	have := obj.GetLabels()
	for key, value := range want {
		if have[key] != value {
			return false
		}
	}
	return true
}

// Kinds are the kinds of the vitess.planetscale.com group the controllers read and write.
type Kinds struct {
	Lockservers Kind[*v1alpha1.EtcdLockserver]
	Cells       Kind[*v1alpha1.VitessCell]
	Keyspaces   Kind[*v1alpha1.VitessKeyspace]
	Shards      Kind[*v1alpha1.VitessShard]
	Workflows   Kind[*v1alpha1.VitessWorkflow]
}

// NewKinds reads through the informers of factory and writes through client.
func NewKinds(client versioned.Interface, factory externalversions.SharedInformerFactory) *Kinds {
	// The listers are made now, so that their informers start with the factory.
	api := factory.Vitess().V1alpha1()
	lockservers, cells, keyspaces := api.EtcdLockservers().Lister(), api.VitessCells().Lister(), api.VitessKeyspaces().Lister()
	shards, workflows := api.VitessShards().Lister(), api.VitessWorkflows().Lister()
	v1 := client.VitessV1alpha1()
	return &Kinds{
		Lockservers: Kind[*v1alpha1.EtcdLockserver]{
			Kind:   "EtcdLockserver",
			Client: func(ns string) TypedClient[*v1alpha1.EtcdLockserver] { return v1.EtcdLockservers(ns) },
			Lister: func(ns string) NamespaceLister[*v1alpha1.EtcdLockserver] {
				return lockservers.EtcdLockservers(ns)
			},
			spec:    func(o *v1alpha1.EtcdLockserver) any { return o.Spec },
			setSpec: func(dst, src *v1alpha1.EtcdLockserver) { dst.Spec = src.Spec },
			status:  func(o *v1alpha1.EtcdLockserver) any { return o.Status },
		},
		Cells: Kind[*v1alpha1.VitessCell]{
			Kind:   "VitessCell",
			Client: func(ns string) TypedClient[*v1alpha1.VitessCell] { return v1.VitessCells(ns) },
			Lister: func(ns string) NamespaceLister[*v1alpha1.VitessCell] {
				return cells.VitessCells(ns)
			},
			spec:    func(o *v1alpha1.VitessCell) any { return o.Spec },
			setSpec: func(dst, src *v1alpha1.VitessCell) { dst.Spec = src.Spec },
			status:  func(o *v1alpha1.VitessCell) any { return o.Status },
		},
		Keyspaces: Kind[*v1alpha1.VitessKeyspace]{
			Kind:   "VitessKeyspace",
			Client: func(ns string) TypedClient[*v1alpha1.VitessKeyspace] { return v1.VitessKeyspaces(ns) },
			Lister: func(ns string) NamespaceLister[*v1alpha1.VitessKeyspace] {
				return keyspaces.VitessKeyspaces(ns)
			},
			spec:    func(o *v1alpha1.VitessKeyspace) any { return o.Spec },
			setSpec: func(dst, src *v1alpha1.VitessKeyspace) { dst.Spec = src.Spec },
			status:  func(o *v1alpha1.VitessKeyspace) any { return o.Status },
		},
		Shards: Kind[*v1alpha1.VitessShard]{
			Kind:   "VitessShard",
			Client: func(ns string) TypedClient[*v1alpha1.VitessShard] { return v1.VitessShards(ns) },
			Lister: func(ns string) NamespaceLister[*v1alpha1.VitessShard] {
				return shards.VitessShards(ns)
			},
			spec:    func(o *v1alpha1.VitessShard) any { return o.Spec },
			setSpec: func(dst, src *v1alpha1.VitessShard) { dst.Spec = src.Spec },
			status:  func(o *v1alpha1.VitessShard) any { return o.Status },
		},
		Workflows: Kind[*v1alpha1.VitessWorkflow]{
			Kind:   "VitessWorkflow",
			Client: func(ns string) TypedClient[*v1alpha1.VitessWorkflow] { return v1.VitessWorkflows(ns) },
			Lister: func(ns string) NamespaceLister[*v1alpha1.VitessWorkflow] {
				return workflows.VitessWorkflows(ns)
			},
			spec:    func(o *v1alpha1.VitessWorkflow) any { return o.Spec },
			setSpec: func(dst, src *v1alpha1.VitessWorkflow) { dst.Spec = src.Spec },
			status:  func(o *v1alpha1.VitessWorkflow) any { return o.Status },
		},
	}
}
