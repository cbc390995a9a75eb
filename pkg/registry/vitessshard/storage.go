package vitessshard

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

// NewStorage returns the storage of vitessshards and vitessshards/status.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (rest.Storage, rest.Storage, error) {
	return registry.NewStores(optsGetter, registry.Kind{
		Resource:         "vitessshards",
		Singular:         "vitessshard",
		ShortNames:       []string{"vtsh"},
		NewFunc:          func() runtime.Object { return &vitess.VitessShard{} },
		NewList:          func() runtime.Object { return &vitess.VitessShardList{} },
		Strategy:         NewStrategy(scheme),
		StatusStrategy:   NewStatusStrategy(scheme),
		Table:            table,
		SelectableFields: selectableFields,
	})
}
