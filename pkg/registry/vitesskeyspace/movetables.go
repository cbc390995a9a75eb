package vitesskeyspace

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

// MoveTablesREST serves vitesskeyspaces/<name>/movetables: a VitessMoveTablesRequest creates a
// MoveTables VitessWorkflow that moves tables into the keyspace.
type MoveTablesREST struct {
	starter *workflowStarter
}

var _ rest.NamedCreater = &MoveTablesREST{}

func (r *MoveTablesREST) New() runtime.Object { return &vitess.VitessMoveTablesRequest{} }
func (r *MoveTablesREST) Destroy()            {}

func (r *MoveTablesREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	if err := registry.AdmitAction(ctx, "VitessKeyspace", name, obj, createValidation); err != nil {
		return nil, err
	}
	request := obj.(*vitess.VitessMoveTablesRequest)
	return r.starter.start(ctx, name, &vitess.VitessWorkflow{
		ObjectMeta: metav1.ObjectMeta{Name: request.Workflow},
		Spec: vitess.VitessWorkflowSpec{
			Type:                  vitess.WorkflowTypeMoveTables,
			SourceKeyspace:        request.SourceKeyspace,
			Tables:                request.Tables,
			AllTables:             request.AllTables,
			VitessWorkflowOptions: request.VitessWorkflowOptions,
		},
	}, options)
}
