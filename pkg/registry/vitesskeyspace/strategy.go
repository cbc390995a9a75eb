// Package vitesskeyspace stores VitessKeyspaces: one keyspace of a VitessCluster. Its action subresources act on Vitess.
package vitesskeyspace

import (
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/validation"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

// NewStrategy governs writes of the spec, which the owning VitessCluster derives.
func NewStrategy(typer runtime.ObjectTyper) registry.SpecStrategy[*vitess.VitessKeyspace] {
	return registry.SpecStrategy[*vitess.VitessKeyspace]{
		NamespacedStrategy: registry.NewNamespacedStrategy(typer),
		ValidateCreate:     validation.ValidateVitessKeyspace,
		ValidateChange:     validation.ValidateVitessKeyspaceUpdate,
	}
}

// NewStatusStrategy governs writes of the status, which the reconciler reports.
func NewStatusStrategy(typer runtime.ObjectTyper) registry.StatusStrategy[*vitess.VitessKeyspace] {
	return registry.StatusStrategy[*vitess.VitessKeyspace]{NamespacedStrategy: registry.NewNamespacedStrategy(typer)}
}

// selectableFields lets clients select keyspaces by Vitess name and by cluster.
func selectableFields(obj runtime.Object) fields.Set {
	keyspace := obj.(*vitess.VitessKeyspace)
	return fields.Set{"spec.name": keyspace.Spec.Name, "spec.cluster": keyspace.Spec.Cluster}
}
