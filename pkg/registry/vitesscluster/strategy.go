// Package vitesscluster stores VitessClusters: the user's whole declaration of a Vitess deployment.
package vitesscluster

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/validation"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

// NewStrategy governs writes of the spec: full validation on create, and on update the rules that
// keep serving shards from being replaced in one step.
func NewStrategy(typer runtime.ObjectTyper) registry.SpecStrategy[*vitess.VitessCluster] {
	return registry.SpecStrategy[*vitess.VitessCluster]{
		NamespacedStrategy: registry.NewNamespacedStrategy(typer),
		ValidateCreate:     validation.ValidateVitessCluster,
		ValidateChange:     validation.ValidateVitessClusterUpdate,
	}
}

// NewStatusStrategy governs writes of the status, which the reconciler reports.
func NewStatusStrategy(typer runtime.ObjectTyper) registry.StatusStrategy[*vitess.VitessCluster] {
	return registry.StatusStrategy[*vitess.VitessCluster]{NamespacedStrategy: registry.NewNamespacedStrategy(typer)}
}
