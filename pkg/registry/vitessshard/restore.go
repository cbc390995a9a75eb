package vitessshard

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// RestoreREST serves vitessshards/<name>/restore: a tablet of the shard is restored from a
// backup, by the reconcile loop, once Vitess has said in a dry run that it can be; the response
// is the shard, with the restore in status.pendingAction.
type RestoreREST struct {
	actions *Actions
}

var _ rest.NamedCreater = &RestoreREST{}

// NewRestoreREST serves vitessshards/restore through actions.
func NewRestoreREST(actions *Actions) *RestoreREST { return &RestoreREST{actions: actions} }

func (r *RestoreREST) New() runtime.Object { return &vitess.VitessRestoreRequest{} }
func (r *RestoreREST) Destroy()            {}

func (r *RestoreREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	shard, err := r.actions.get(ctx, name, obj, createValidation)
	if err != nil {
		return nil, err
	}
	request := obj.(*vitess.VitessRestoreRequest)
	if errs := validateRestore(request); len(errs) > 0 {
		return nil, apierrors.NewInvalid(vitess.Kind("VitessRestoreRequest"), name, errs)
	}
	if err := r.actions.Check(shard); err != nil {
		return nil, err
	}
	tablet, client, err := r.actions.tablet(ctx, shard, "VitessRestoreRequest", request.Tablet)
	if err != nil {
		return nil, err
	}
	if tablet.Type == "PRIMARY" {
		return nil, conflict(shard, "tablet %s is the shard's primary: reparent away from it first", tablet.Alias)
	}
	checkCtx, cancel := context.WithTimeout(ctx, registry.CheckTimeout)
	defer cancel()
	target := vtctld.RestoreTo(request.BackupTime, request.RestoreToTimestamp, request.RestoreToPosition)
	check := target
	check.DryRun = true
	if err := client.WithTimeout(registry.CheckTimeout).Restore(checkCtx, request.Tablet, check); err != nil {
		return nil, vtctld.RefusalError(err, fmt.Sprintf("restore of tablet %s", request.Tablet))
	}
	if len(options.DryRun) > 0 {
		return shard, nil
	}
	return r.actions.Record(ctx, name, vitess.VitessShardPendingAction{
		Action: vitess.ActionRestore, Tablet: request.Tablet,
		BackupTime: request.BackupTime, RestoreToTimestamp: request.RestoreToTimestamp, RestoreToPosition: request.RestoreToPosition,
	}, "a restore of "+request.Tablet+" to "+target.String())
}

func validateRestore(request *vitess.VitessRestoreRequest) field.ErrorList {
	var errs field.ErrorList
	if request.Tablet == "" {
		errs = append(errs, field.Required(field.NewPath("tablet"), "the alias of the tablet to restore"))
	}
	targets := 0
	for _, set := range []bool{request.BackupTime != nil, request.RestoreToTimestamp != nil, request.RestoreToPosition != ""} {
		if set {
			targets++
		}
	}
	if targets > 1 {
		errs = append(errs, field.Forbidden(field.NewPath("restoreToTimestamp"), "at most one of backupTime, restoreToTimestamp and restoreToPosition"))
	}
	return errs
}
