package vitessshard

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// BackupREST serves vitessshards/<name>/backup: the shard is backed up now, by the reconcile
// loop; the response is the shard, with the backup in status.pendingAction.
type BackupREST struct {
	actions *Actions
}

var _ rest.NamedCreater = &BackupREST{}

// NewBackupREST serves vitessshards/backup through actions.
func NewBackupREST(actions *Actions) *BackupREST { return &BackupREST{actions: actions} }

func (r *BackupREST) New() runtime.Object { return &vitess.VitessBackupRequest{} }
func (r *BackupREST) Destroy()            {}

func (r *BackupREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	shard, err := r.actions.get(ctx, name, obj, createValidation)
	if err != nil {
		return nil, err
	}
	request := obj.(*vitess.VitessBackupRequest)
	if err := r.actions.Check(shard); err != nil {
		return nil, err
	}
	if request.Tablet != "" {
		if _, _, err := r.actions.tablet(ctx, shard, "VitessBackupRequest", request.Tablet); err != nil {
			return nil, err
		}
	}
	if len(options.DryRun) > 0 {
		return shard, nil
	}
	return r.actions.Record(ctx, name, BackupAction(request, ""), BackupDescription(request))
}

// BackupAction is the pendingAction that takes the requested backup, under id ("" for a new one).
func BackupAction(request *vitess.VitessBackupRequest, id string) vitess.VitessShardPendingAction {
	return vitess.VitessShardPendingAction{
		Action: vitess.ActionBackup, ID: id, Tablet: request.Tablet, AllowPrimary: request.AllowPrimary, Incremental: request.Incremental,
	}
}

// BackupDescription says what backup was requested, for its Event.
func BackupDescription(request *vitess.VitessBackupRequest) string {
	what := "a backup"
	if request.Incremental {
		what = "an incremental backup"
	}
	if request.Tablet != "" {
		what += " of " + request.Tablet
	}
	return what
}
