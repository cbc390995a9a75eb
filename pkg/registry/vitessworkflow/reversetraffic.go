package vitessworkflow

import (
	"context"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// ReverseTrafficREST serves vitessworkflows/<name>/reversetraffic: traffic that moved to the
// target goes back to the source.
type ReverseTrafficREST struct {
	actions *actions
}

var _ rest.NamedCreater = &ReverseTrafficREST{}

func (r *ReverseTrafficREST) New() runtime.Object { return &vitess.VitessReverseTrafficRequest{} }
func (r *ReverseTrafficREST) Destroy()            {}

func (r *ReverseTrafficREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	types, err := tabletTypes("VitessReverseTrafficRequest", name, obj.(*vitess.VitessReverseTrafficRequest).TabletTypes,
		[]string{"rdonly", "replica", "primary"}, nil)
	if err != nil {
		return nil, err
	}
	return r.actions.run(ctx, name, obj, createValidation, options, action{
		name: vitess.ActionReverseTraffic, reason: "ReverseTraffic", tabletTypes: types,
		// By default whatever moved goes back: the reads switched so far, and writes if they were.
		defaultTypes: func(status *vitess.VitessWorkflowStatus) []string {
			types := slices.Clone(status.ReadsSwitched)
			if status.WritesSwitched {
				types = append(types, "primary")
			}
			return types
		},
		refuse: func(status *vitess.VitessWorkflowStatus) string {
			if len(status.ReadsSwitched) == 0 && !status.WritesSwitched {
				return "no traffic has moved to the target"
			}
			return ""
		},
		check: switchTraffic(true),
	})
}
