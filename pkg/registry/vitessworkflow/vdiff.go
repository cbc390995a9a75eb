package vitessworkflow

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// VDiffREST serves vitessworkflows/<name>/vdiff: a VDiff of the workflow starts in Vitess at
// once; the reconcile loop follows it into status.lastVDiff.
type VDiffREST struct {
	actions *actions
}

var _ rest.NamedCreater = &VDiffREST{}

func (r *VDiffREST) New() runtime.Object { return &vitess.VitessVDiffRequest{} }
func (r *VDiffREST) Destroy()            {}

func (r *VDiffREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	return r.actions.run(ctx, name, obj, createValidation, options, action{
		name: vitess.ActionVDiff, reason: "VDiff",
		now: func(ctx context.Context, client *vtctld.Client, workflow *vitess.VitessWorkflow) (string, func(*vitess.VitessWorkflowStatus), error) {
			uuid, err := client.StartVDiff(ctx, workflow.Spec.TargetKeyspace, workflow.Name)
			if err != nil {
				return "", nil, err
			}
			return "VDiff " + uuid + " started", func(status *vitess.VitessWorkflowStatus) {
				status.LastVDiff = &vitess.VitessWorkflowVDiff{UUID: uuid, State: "pending"}
			}, nil
		},
	})
}
