// Package vitesscell stores VitessCells: one cell of a VitessCluster, with its vtgate.
package vitesscell

import (
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/validation"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

// NewStrategy governs writes of the spec, which the owning VitessCluster derives.
func NewStrategy(typer runtime.ObjectTyper) registry.SpecStrategy[*vitess.VitessCell] {
	return registry.SpecStrategy[*vitess.VitessCell]{
		NamespacedStrategy: registry.NewNamespacedStrategy(typer),
		ValidateCreate:     validation.ValidateVitessCell,
		ValidateChange:     validation.ValidateVitessCellUpdate,
	}
}

// NewStatusStrategy governs writes of the status, which the reconciler reports.
func NewStatusStrategy(typer runtime.ObjectTyper) registry.StatusStrategy[*vitess.VitessCell] {
	return registry.StatusStrategy[*vitess.VitessCell]{NamespacedStrategy: registry.NewNamespacedStrategy(typer)}
}

// selectableFields lets `--field-selector spec.name=zone1` find a cell by its Vitess name.
func selectableFields(obj runtime.Object) fields.Set {
	cell := obj.(*vitess.VitessCell)
	return fields.Set{"spec.name": cell.Spec.Name}
}
