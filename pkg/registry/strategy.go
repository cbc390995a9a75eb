package registry

import (
	"context"
	"fmt"
	"reflect"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// Object is the internal type of a stored kind. Every one of them has a Spec and a Status field:
// users own the spec through the main resource, the reconciler owns the status through the
// status subresource, and neither write may touch the other's half.
type Object interface {
	runtime.Object
	metav1.Object
}

// SpecStrategy is the main resource's strategy: it keeps status as it was and bumps the
// generation when the spec changes, so status.observedGeneration can tell stale status apart.
type SpecStrategy[T Object] struct {
	NamespacedStrategy
	ValidateCreate func(T) field.ErrorList
	ValidateChange func(obj, old T) field.ErrorList
}

var _ Strategy = SpecStrategy[Object]{}

func (s SpecStrategy[T]) PrepareForCreate(_ context.Context, obj runtime.Object) {
	resetHalf(obj, "Status")
	obj.(T).SetGeneration(1)
}

func (s SpecStrategy[T]) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	copyHalf(obj, old, "Status")
	if !apiequality.Semantic.DeepEqual(half(obj, "Spec").Interface(), half(old, "Spec").Interface()) {
		obj.(T).SetGeneration(old.(T).GetGeneration() + 1)
	}
}

func (s SpecStrategy[T]) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return s.ValidateCreate(obj.(T))
}

func (s SpecStrategy[T]) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return s.ValidateChange(obj.(T), old.(T))
}

func (s SpecStrategy[T]) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return SpecResetFields()
}

// StatusStrategy is the status subresource's strategy: it keeps the spec and the metadata as they
// were (but for managedFields, which record the status write), as a CRD's status subresource does.
type StatusStrategy[T Object] struct {
	NamespacedStrategy
}

var _ Strategy = StatusStrategy[Object]{}

func (StatusStrategy[T]) PrepareForCreate(context.Context, runtime.Object) {}

func (StatusStrategy[T]) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	copyHalf(obj, old, "Spec")
	managedFields := obj.(T).GetManagedFields()
	meta := reflect.ValueOf(obj).Elem().FieldByName("ObjectMeta")
	meta.Set(reflect.ValueOf(old).Elem().FieldByName("ObjectMeta"))
	obj.(T).SetManagedFields(managedFields)
}

func (StatusStrategy[T]) Validate(context.Context, runtime.Object) field.ErrorList { return nil }

func (StatusStrategy[T]) ValidateUpdate(_ context.Context, obj, _ runtime.Object) field.ErrorList {
	status := field.NewPath("status")
	var errs field.ErrorList
	if generation := half(obj, "Status").FieldByName("ObservedGeneration"); generation.IsValid() && generation.Int() < 0 {
		errs = append(errs, field.Invalid(status.Child("observedGeneration"), generation.Int(), "must not be negative"))
	}
	if conditions := half(obj, "Status").FieldByName("Conditions"); conditions.IsValid() {
		errs = append(errs, metav1validation.ValidateConditions(conditions.Interface().([]metav1.Condition), status.Child("conditions"))...)
	}
	return errs
}

func (StatusStrategy[T]) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return StatusResetFields()
}

// half returns the Spec or Status field of a stored object.
func half(obj runtime.Object, name string) reflect.Value {
	value := reflect.ValueOf(obj).Elem().FieldByName(name)
	if !value.IsValid() {
		panic(fmt.Sprintf("%T has no %s field", obj, name))
	}
	return value
}

func copyHalf(dst, src runtime.Object, name string) {
	half(dst, name).Set(half(src, name))
}

func resetHalf(obj runtime.Object, name string) {
	value := half(obj, name)
	value.Set(reflect.Zero(value.Type()))
}
