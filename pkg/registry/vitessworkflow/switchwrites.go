package vitessworkflow

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// SwitchWritesREST serves vitessworkflows/<name>/switchwrites: writes move to the workflow's
// target, once its reads have.
type SwitchWritesREST struct {
	actions *actions
}

var _ rest.NamedCreater = &SwitchWritesREST{}

func (r *SwitchWritesREST) New() runtime.Object { return &vitess.VitessSwitchWritesRequest{} }
func (r *SwitchWritesREST) Destroy()            {}

func (r *SwitchWritesREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	types := []string{"primary"}
	return r.actions.run(ctx, name, obj, createValidation, options, action{
		name: vitess.ActionSwitchWrites, reason: "SwitchWrites", tabletTypes: types,
		refuse: func(status *vitess.VitessWorkflowStatus) string {
			switch {
			case status.WritesSwitched:
				return "writes are already switched"
			case !readsSwitched(status, "rdonly", "replica"):
				// Reads go first, so that a problem with the target shows while writes can
				// still be served by the source.
				return "switch reads (rdonly and replica) before writes; traffic state: " + status.TrafficState
			}
			return ""
		},
		check: switchTraffic(false),
	})
}
