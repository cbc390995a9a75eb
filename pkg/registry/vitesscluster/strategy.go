// Package vitesscluster stores VitessClusters: the user's whole declaration of a Vitess deployment.
package vitesscluster

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/validation"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

// NewStrategy governs writes of the spec: full validation on create, and on update the rules that
// keep serving shards from being replaced in one step. vitess.AnnotationVtctldAddress is refused
// unless allowVtctldAddressAnnotation.
func NewStrategy(typer runtime.ObjectTyper, allowVtctldAddressAnnotation bool) registry.SpecStrategy[*vitess.VitessCluster] {
	annotations := func(cluster *vitess.VitessCluster) field.ErrorList {
		if allowVtctldAddressAnnotation {
			return nil
		}
		return validation.ForbidVtctldAddressAnnotation(&cluster.ObjectMeta)
	}
	return registry.SpecStrategy[*vitess.VitessCluster]{
		NamespacedStrategy: registry.NewNamespacedStrategy(typer),
		ValidateCreate: func(cluster *vitess.VitessCluster) field.ErrorList {
			return append(validation.ValidateVitessCluster(cluster), annotations(cluster)...)
		},
		ValidateChange: func(cluster, old *vitess.VitessCluster) field.ErrorList {
			return append(validation.ValidateVitessClusterUpdate(cluster, old), annotations(cluster)...)
		},
	}
}

// NewStatusStrategy governs writes of the status, which the reconciler reports.
func NewStatusStrategy(typer runtime.ObjectTyper) registry.StatusStrategy[*vitess.VitessCluster] {
	return registry.StatusStrategy[*vitess.VitessCluster]{NamespacedStrategy: registry.NewNamespacedStrategy(typer)}
}
