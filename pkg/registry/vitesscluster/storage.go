package vitesscluster

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

// NewStorage returns the storage of vitessclusters and vitessclusters/status (see NewStrategy for
// allowVtctldAddressAnnotation).
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter, allowVtctldAddressAnnotation bool) (rest.Storage, rest.Storage, error) {
	return registry.NewStores(optsGetter, registry.Kind{
		Resource:       "vitessclusters",
		Singular:       "vitesscluster",
		ShortNames:     []string{"vtcl"},
		NewFunc:        func() runtime.Object { return &vitess.VitessCluster{} },
		NewList:        func() runtime.Object { return &vitess.VitessClusterList{} },
		Strategy:       NewStrategy(scheme, allowVtctldAddressAnnotation),
		StatusStrategy: NewStatusStrategy(scheme),
		Table:          table,
	})
}
