package vitessworkflow

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// SwitchReadsREST serves vitessworkflows/<name>/switchreads: reads of rdonly and/or replica
// tablets move to the workflow's target.
type SwitchReadsREST struct {
	actions *actions
}

var _ rest.NamedCreater = &SwitchReadsREST{}

func (r *SwitchReadsREST) New() runtime.Object { return &vitess.VitessSwitchReadsRequest{} }
func (r *SwitchReadsREST) Destroy()            {}

func (r *SwitchReadsREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	readTypes := []string{"rdonly", "replica"}
	types, err := tabletTypes("VitessSwitchReadsRequest", name, obj.(*vitess.VitessSwitchReadsRequest).TabletTypes, readTypes, readTypes)
	if err != nil {
		return nil, err
	}
	return r.actions.run(ctx, name, obj, createValidation, options, action{
		name: vitess.ActionSwitchReads, reason: "SwitchReads", tabletTypes: types,
		check: switchTraffic(false),
	})
}
