package vitessworkflow

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// cancelRefusal is why a workflow whose writes moved is not cancelled: that would delete the data
// that serves writes.
const cancelRefusal = "writes are switched to the target: reverse the traffic first, or complete the workflow"

// CancelREST serves vitessworkflows/<name>/cancel: a workflow whose writes have not moved is
// deleted in Vitess with what it copied.
type CancelREST struct {
	actions *actions
}

var _ rest.NamedCreater = &CancelREST{}

func (r *CancelREST) New() runtime.Object { return &vitess.VitessCancelRequest{} }
func (r *CancelREST) Destroy()            {}

func (r *CancelREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	return r.actions.run(ctx, name, obj, createValidation, options, action{
		name: vitess.ActionCancel, reason: "Cancel",
		refuse: func(status *vitess.VitessWorkflowStatus) string {
			if status.WritesSwitched {
				return cancelRefusal
			}
			return ""
		},
		// Vitess has no dry run of a cancel: what it says of the traffic now is asked instead, since
		// the status mirrors it only every few seconds.
		check: func(ctx context.Context, client *vtctld.Client, workflow *vitess.VitessWorkflow, _ []string) (string, error) {
			state, err := client.Workflow(ctx, workflow.Spec.TargetKeyspace, workflow.Name)
			if err != nil {
				return "", err
			}
			if vtctld.WritesSwitched(state.TrafficState) {
				return "", apierrors.NewConflict(vitess.Resource("vitessworkflows"), workflow.Name, errors.New(cancelRefusal))
			}
			return fmt.Sprintf("would delete workflow %s and what it copied (%s)", workflow.Name, state.TrafficState), nil
		},
	})
}
