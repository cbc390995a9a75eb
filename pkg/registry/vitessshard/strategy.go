// Package vitessshard stores VitessShards: one key range of a keyspace and its tablets.
package vitessshard

import (
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/validation"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

// NewStrategy governs writes of the spec, which the owning VitessKeyspace derives.
func NewStrategy(typer runtime.ObjectTyper) registry.SpecStrategy[*vitess.VitessShard] {
	return registry.SpecStrategy[*vitess.VitessShard]{
		NamespacedStrategy: registry.NewNamespacedStrategy(typer),
		ValidateCreate:     validation.ValidateVitessShard,
		ValidateChange:     validation.ValidateVitessShardUpdate,
	}
}

// NewStatusStrategy governs writes of the status, which the reconciler reports.
func NewStatusStrategy(typer runtime.ObjectTyper) registry.StatusStrategy[*vitess.VitessShard] {
	return registry.StatusStrategy[*vitess.VitessShard]{NamespacedStrategy: registry.NewNamespacedStrategy(typer)}
}

// selectableFields lets clients select shards by Vitess name, keyspace and cluster.
func selectableFields(obj runtime.Object) fields.Set {
	shard := obj.(*vitess.VitessShard)
	return fields.Set{"spec.name": shard.Spec.Name, "spec.keyspaceName": shard.Spec.KeyspaceName, "spec.cluster": shard.Spec.Cluster}
}
