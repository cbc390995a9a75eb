package vitessworkflow

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

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
		name: "cancel", reason: "Cancel",
		refuse: func(status *vitess.VitessWorkflowStatus) string {
			if status.WritesSwitched {
				// Cancelling now would delete the data that serves writes.
				return "writes are switched to the target: reverse the traffic first, or complete the workflow"
			}
			return ""
		},
	})
}
