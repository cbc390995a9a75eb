package vitessworkflow

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

// NewStorage returns the storage of vitessworkflows and vitessworkflows/status.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (rest.Storage, rest.Storage, error) {
	return registry.NewStores(optsGetter, registry.Kind{
		Resource:         "vitessworkflows",
		Singular:         "vitessworkflow",
		ShortNames:       []string{"vtwf"},
		NewFunc:          func() runtime.Object { return &vitess.VitessWorkflow{} },
		NewList:          func() runtime.Object { return &vitess.VitessWorkflowList{} },
		Strategy:         NewStrategy(scheme),
		StatusStrategy:   NewStatusStrategy(scheme),
		Table:            table,
		SelectableFields: selectableFields,
	})
}
