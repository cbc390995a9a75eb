package reconcile

import (
	"context"
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"

	clientscheme "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned/scheme"
)

// child is a child object of a VitessCluster, in its v1alpha1 form.
type child interface {
	runtime.Object
	metav1.Object
}

// childKind is how the reconciler reads and writes one kind of child: the informer's lister for
// reads (so a steady state costs no requests) and the clientset for writes.
type childKind[T child] struct {
	kind    string
	client  func(namespace string) typedClient[T]
	lister  func(namespace string) namespaceLister[T]
	spec    func(T) any
	setSpec func(dst, src T)
	status  func(T) any
}

// typedClient is the part of a generated typed client the reconciler writes with.
type typedClient[T any] interface {
	Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error)
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
	UpdateStatus(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
}

// namespaceLister is the part of a generated lister the reconciler reads with.
type namespaceLister[T any] interface {
	Get(name string) (T, error)
	List(selector labels.Selector) ([]T, error)
}

func (k childKind[T]) get(namespace, name string) (T, error) { return k.lister(namespace).Get(name) }

func (k childKind[T]) create(ctx context.Context, obj T) (T, error) {
	return k.client(obj.GetNamespace()).Create(ctx, obj, metav1.CreateOptions{FieldManager: fieldManager})
}

func (k childKind[T]) update(ctx context.Context, obj T) (T, error) {
	return k.client(obj.GetNamespace()).Update(ctx, obj, metav1.UpdateOptions{FieldManager: fieldManager})
}

// updateStatus writes the status that report gives a copy of obj, when it differs from the
// stored one.
func (k childKind[T]) updateStatus(ctx context.Context, obj T, report func(T)) error {
	updated := obj.DeepCopyObject().(T)
	report(updated)
	if apiequality.Semantic.DeepEqual(k.status(obj), k.status(updated)) {
		return nil
	}
	if _, err := k.client(obj.GetNamespace()).UpdateStatus(ctx, updated, metav1.UpdateOptions{FieldManager: fieldManager}); err != nil {
		return fmt.Errorf("updating the status of %s %s: %w", k.kind, obj.GetName(), err)
	}
	countWrite(k.kind, "update-status")
	return nil
}

// delete deletes the object that was read, not one created since under the same name.
func (k childKind[T]) delete(ctx context.Context, obj T) error {
	uid := obj.GetUID()
	return k.client(obj.GetNamespace()).Delete(ctx, obj.GetName(), metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
}

// sync makes the stored child match desired, writing only when they differ, and says whether it
// wrote. The desired object is defaulted first, as the server would store it, so that defaults
// never read as a difference.
func (k childKind[T]) sync(ctx context.Context, recorder events.EventRecorder, owner runtime.Object, desired T) (T, bool, error) {
	clientscheme.Scheme.Default(desired)
	existing, err := k.get(desired.GetNamespace(), desired.GetName())
	if apierrors.IsNotFound(err) {
		created, err := k.create(ctx, desired)
		if err != nil {
			return created, false, fmt.Errorf("creating %s %s: %w", k.kind, desired.GetName(), err)
		}
		countWrite(k.kind, "create")
		recorder.Eventf(owner, nil, "Normal", "Created", "Create", "created %s %s", k.kind, desired.GetName())
		return created, true, nil
	}
	if err != nil {
		return existing, false, err
	}
	if !controlledBySame(existing, desired) {
		return existing, false, fmt.Errorf("%s %s exists and is not controlled by this cluster", k.kind, desired.GetName())
	}
	if apiequality.Semantic.DeepEqual(k.spec(existing), k.spec(desired)) && hasLabels(existing, desired.GetLabels()) {
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
	result, err := k.update(ctx, updated)
	if err != nil {
		return result, false, fmt.Errorf("updating %s %s: %w", k.kind, desired.GetName(), err)
	}
	countWrite(k.kind, "update")
	recorder.Eventf(owner, nil, "Normal", "Updated", "Update", "brought %s %s in line with the cluster's spec", k.kind, desired.GetName())
	return result, true, nil
}

// orphans lists the children that owner controls and no longer declares; selector narrows the
// search, and what owner does not control is never an orphan of it, whatever its labels.
func (k childKind[T]) orphans(owner metav1.Object, selector labels.Selector, wanted map[string]bool) ([]T, error) {
	existing, err := k.lister(owner.GetNamespace()).List(selector)
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

func hasLabels(obj metav1.Object, want map[string]string) bool {
	have := obj.GetLabels()
	for key, value := range want {
		if have[key] != value {
			return false
		}
	}
	return true
}
