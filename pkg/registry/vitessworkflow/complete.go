package vitessworkflow

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// CompleteREST serves vitessworkflows/<name>/complete: once all traffic has moved, the source
// tables are dropped (MoveTables) or the source shards stop serving (Reshard), and the workflow
// ends.
type CompleteREST struct {
	actions *actions
}

var _ rest.NamedCreater = &CompleteREST{}

func (r *CompleteREST) New() runtime.Object { return &vitess.VitessCompleteRequest{} }
func (r *CompleteREST) Destroy()            {}

func (r *CompleteREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	return r.actions.run(ctx, name, obj, createValidation, options, action{
		name: vitess.ActionComplete, reason: "Complete",
		refuse: func(status *vitess.VitessWorkflowStatus) string {
			if !status.WritesSwitched || !readsSwitched(status, "rdonly", "replica") {
				return "complete drops the source: switch reads and writes first; traffic state: " + status.TrafficState
			}
			return ""
		},
		check: func(ctx context.Context, client *vtctld.Client, workflow *vitess.VitessWorkflow, _ []string) (string, error) {
			return client.CompleteWorkflow(ctx, workflow.Spec.TargetKeyspace, workflow.Name, true)
		},
	})
}
