// Package registry holds what every stored kind's registry shares: store construction, the
// namespaced strategy basics, selectable fields and the status subresource. Each kind's own
// behaviour lives in its package's strategy.go.
package registry

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// Category groups every kind so that `kubectl get vitess` lists them all.
const Category = "vitess"

// Kind describes one stored kind to NewStores.
type Kind struct {
	// Resource is the plural resource name, e.g. "vitessclusters".
	Resource string
	// Singular is the singular resource name, e.g. "vitesscluster".
	Singular   string
	ShortNames []string
	NewFunc    func() runtime.Object
	NewList    func() runtime.Object
	// Strategy governs the main resource; StatusStrategy the status subresource.
	Strategy       Strategy
	StatusStrategy Strategy
	Table          rest.TableConvertor
	// SelectableFields returns the fields a field selector may use besides metadata.name and
	// metadata.namespace; nil when there are none.
	SelectableFields func(runtime.Object) fields.Set
}

// Strategy is what the generic store needs of a kind's strategy.
type Strategy interface {
	rest.RESTCreateStrategy
	rest.RESTUpdateStrategy
	rest.RESTDeleteStrategy
	rest.ResetFieldsStrategy
}

// REST is the main resource of a stored kind, with discovery's short names and categories.
type REST struct {
	*genericregistry.Store
	shortNames []string
}

var (
	_ rest.ShortNamesProvider   = &REST{}
	_ rest.CategoriesProvider   = &REST{}
	_ rest.SingularNameProvider = &REST{}
)

func (r *REST) ShortNames() []string { return r.shortNames }
func (r *REST) Categories() []string { return []string{Category} }

// StatusREST serves the status subresource: it reads the whole object and writes only status.
type StatusREST struct {
	store *genericregistry.Store
}

var (
	_ rest.Patcher = &StatusREST{}
	_ rest.Storage = &StatusREST{}
)

func (r *StatusREST) New() runtime.Object { return r.store.New() }
func (r *StatusREST) Destroy()            {}

func (r *StatusREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, options)
}

func (r *StatusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	// Status is never created on its own: a status update of a missing object is a 404.
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

func (r *StatusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

func (r *StatusREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.store.ConvertToTable(ctx, object, tableOptions)
}

// NewStores builds the etcd-backed main (a *REST) and status (a *StatusREST) storage of a kind.
func NewStores(optsGetter generic.RESTOptionsGetter, kind Kind) (rest.Storage, rest.Storage, error) {
	attrs := attrsFunc(kind.SelectableFields)
	store := &genericregistry.Store{
		NewFunc:                   kind.NewFunc,
		NewListFunc:               kind.NewList,
		PredicateFunc:             matcher(attrs),
		DefaultQualifiedResource:  vitess.Resource(kind.Resource),
		SingularQualifiedResource: vitess.Resource(kind.Singular),

		CreateStrategy:      kind.Strategy,
		UpdateStrategy:      kind.Strategy,
		DeleteStrategy:      kind.Strategy,
		ResetFieldsStrategy: kind.Strategy,

		TableConvertor: kind.Table,
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: attrs}); err != nil {
		return nil, nil, fmt.Errorf("%s storage: %w", kind.Resource, err)
	}
	statusStore := *store
	statusStore.CreateStrategy = nil
	statusStore.DeleteStrategy = nil
	statusStore.UpdateStrategy = kind.StatusStrategy
	statusStore.ResetFieldsStrategy = kind.StatusStrategy
	return &REST{Store: store, shortNames: kind.ShortNames}, &StatusREST{store: &statusStore}, nil
}

func attrsFunc(selectable func(runtime.Object) fields.Set) storage.AttrFunc {
	return func(obj runtime.Object) (labels.Set, fields.Set, error) {
		meta, ok := obj.(metav1.Object)
		if !ok {
			return nil, nil, fmt.Errorf("%T has no object metadata", obj)
		}
		fieldSet := generic.ObjectMetaFieldsSet(metaOf(meta), true)
		if selectable != nil {
			fieldSet = generic.MergeFieldsSets(fieldSet, selectable(obj))
		}
		return labels.Set(meta.GetLabels()), fieldSet, nil
	}
}

func metaOf(obj metav1.Object) *metav1.ObjectMeta {
	return &metav1.ObjectMeta{Name: obj.GetName(), Namespace: obj.GetNamespace()}
}

func matcher(attrs storage.AttrFunc) func(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return func(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
		return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: attrs}
	}
}

// NamespacedStrategy holds the strategy methods every kind shares: namespaced, no create on
// update, names generated from generateName.
type NamespacedStrategy struct {
	runtime.ObjectTyper
	names.NameGenerator
}

// NewNamespacedStrategy returns the shared strategy basics for a scheme.
func NewNamespacedStrategy(typer runtime.ObjectTyper) NamespacedStrategy {
	return NamespacedStrategy{ObjectTyper: typer, NameGenerator: names.SimpleNameGenerator}
}

func (NamespacedStrategy) NamespaceScoped() bool                         { return true }
func (NamespacedStrategy) AllowCreateOnUpdate(context.Context) bool      { return false }
func (NamespacedStrategy) AllowUnconditionalUpdate(context.Context) bool { return true }
func (NamespacedStrategy) Canonicalize(runtime.Object)                   {}

func (NamespacedStrategy) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }
func (NamespacedStrategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

// SpecResetFields are the fields the main resource may not write: its status.
func SpecResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return resetFields(fieldpath.MakePathOrDie("status"))
}

// StatusResetFields are the fields the status subresource may not write: everything but status
// (metadata is reset by the generic store for status updates' managed fields bookkeeping).
func StatusResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return resetFields(fieldpath.MakePathOrDie("spec"))
}

func resetFields(path fieldpath.Path) map[fieldpath.APIVersion]*fieldpath.Set {
	version := schema.GroupVersion{Group: vitess.GroupName, Version: "v1alpha1"}.String()
	return map[fieldpath.APIVersion]*fieldpath.Set{fieldpath.APIVersion(version): fieldpath.NewSet(path)}
}
