package vitesskeyspace

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/tools/events"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

// NewStorage returns the storage of vitesskeyspaces and vitesskeyspaces/status.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (rest.Storage, rest.Storage, error) {
	return registry.NewStores(optsGetter, registry.Kind{
		Resource:         "vitesskeyspaces",
		Singular:         "vitesskeyspace",
		ShortNames:       []string{"vtks"},
		NewFunc:          func() runtime.Object { return &vitess.VitessKeyspace{} },
		NewList:          func() runtime.Object { return &vitess.VitessKeyspaceList{} },
		Strategy:         NewStrategy(scheme),
		StatusStrategy:   NewStatusStrategy(scheme),
		Table:            table,
		SelectableFields: selectableFields,
	})
}

// NewActions returns the keyspace's action subresources, keyed by subresource name. They read
// keyspaces from keyspaces, store the workflows they start in workflows and reach Vitess through
// the vtctld of the keyspace's cluster.
func NewActions(keyspaces rest.Getter, workflows rest.Creater, admit registry.WorkflowAdmission, vtctlds registry.Vtctlds, recorder events.EventRecorder) map[string]rest.Storage {
	starter := &workflowStarter{keyspaces: keyspaces, workflows: workflows, admit: admit, events: recorder}
	keyspace := &keyspaceVtctld{keyspaces: keyspaces, vtctlds: vtctlds, events: recorder}
	return map[string]rest.Storage{
		"movetables": &MoveTablesREST{starter: starter},
		"reshard":    &ReshardREST{starter: starter},
		"vschema":    &VSchemaREST{keyspace: keyspace},
		"schema":     &SchemaREST{keyspace: keyspace},
	}
}
