package vitesskeyspace

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

// ReshardREST serves vitesskeyspaces/<name>/reshard: a VitessReshardRequest creates a Reshard
// VitessWorkflow in the keyspace. A tenant can be granted this and nothing else.
type ReshardREST struct {
	starter *workflowStarter
}

var _ rest.NamedCreater = &ReshardREST{}

func (r *ReshardREST) New() runtime.Object { return &vitess.VitessReshardRequest{} }
func (r *ReshardREST) Destroy()            {}

func (r *ReshardREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	if err := registry.AdmitAction(ctx, "VitessKeyspace", name, obj, createValidation); err != nil {
		return nil, err
	}
	request := obj.(*vitess.VitessReshardRequest)
	return r.starter.start(ctx, name, &vitess.VitessWorkflow{
		ObjectMeta: metav1.ObjectMeta{Name: request.Workflow},
		Spec: vitess.VitessWorkflowSpec{
			Type:                  vitess.WorkflowTypeReshard,
			SourceShards:          request.SourceShards,
			TargetShards:          request.TargetShards,
			VitessWorkflowOptions: request.VitessWorkflowOptions,
		},
	}, options)
}
