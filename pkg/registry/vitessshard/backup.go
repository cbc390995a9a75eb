package vitessshard

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// Backups records the backups users ask for in their shards' status (pendingBackup), for the
// reconcile loop to take: a backup may take longer than a request may, and a backup recorded in
// the status is taken exactly once, whichever server leads the loop (see the shard controller).
type Backups struct {
	shards  rest.Getter
	status  rest.Updater
	vtctlds registry.Vtctlds
	events  events.EventRecorder
}

// NewBackups reads shards from shards and records backups through status (vitessshards/status).
func NewBackups(shards rest.Getter, status rest.Updater, vtctlds registry.Vtctlds, recorder events.EventRecorder) *Backups {
	return &Backups{shards: shards, status: status, vtctlds: vtctlds, events: recorder}
}

// Check tells whether the shard can take the backup now: it has a backup location, none of its
// backups is pending, and the tablet the request names, if any, is one of its tablets in Vitess.
func (b *Backups) Check(ctx context.Context, shard *vitess.VitessShard, request *vitess.VitessBackupRequest) error {
	conflict := func(format string, args ...any) error {
		return apierrors.NewConflict(vitess.Resource("vitessshards"), shard.Name, fmt.Errorf(format, args...))
	}
	if len(shard.Spec.BackupLocations) == 0 {
		return conflict("the shard has no backup location: give its VitessCluster spec.backup.locations")
	}
	if pending := shard.Status.PendingBackup; pending != nil {
		return conflict("a backup requested by %s at %s is still being taken", pending.RequestedBy, pending.RequestedAt.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if request.Tablet == "" {
		return nil
	}
	client, err := b.vtctlds.Vtctld(ctx, shard.Namespace, shard.Spec.Cluster)
	if err != nil {
		return err
	}
	tablets, err := client.Tablets(ctx, shard.Spec.KeyspaceName, shard.Spec.Name)
	if err != nil {
		return vtctld.APIError(err, fmt.Sprintf("listing the tablets of shard %s/%s", shard.Spec.KeyspaceName, shard.Spec.Name))
	}
	if !slices.ContainsFunc(tablets, func(t vtctld.Tablet) bool { return t.Alias == request.Tablet }) {
		return apierrors.NewInvalid(vitess.Kind("VitessBackupRequest"), request.Name, field.ErrorList{
			field.NotFound(field.NewPath("tablet"), request.Tablet),
		})
	}
	return nil
}

// Record records the backup as the shard's pendingBackup, under the request's ID (which every
// shard of a keyspace's backup shares), and records an Event on the shard.
func (b *Backups) Record(ctx context.Context, name string, request *vitess.VitessBackupRequest, id string) (*vitess.VitessShard, error) {
	pending := &vitess.VitessPendingBackup{
		ID: id, RequestedBy: registry.Requester(ctx), RequestedAt: metav1.Now(),
		Tablet: request.Tablet, AllowPrimary: request.AllowPrimary, Incremental: request.Incremental,
	}
	var stored *vitess.VitessShard
	var refused error
	// The reconcile loop writes the status too, every few seconds: write on the latest version
	// rather than fail the user's request over that.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		latest, err := b.shards.Get(ctx, name, &metav1.GetOptions{})
		if err != nil {
			return err
		}
		shard := latest.(*vitess.VitessShard).DeepCopy()
		if shard.Status.PendingBackup != nil {
			// Another request came first: not a write to retry.
			refused = b.Check(ctx, shard, &vitess.VitessBackupRequest{})
			return nil
		}
		shard.Status.PendingBackup = pending
		obj, _, err := b.status.Update(ctx, name, rest.DefaultUpdatedObjectInfo(shard), nil, nil, false, &metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		stored = obj.(*vitess.VitessShard)
		return nil
	})
	if err == nil {
		err = refused
	}
	if err != nil {
		return nil, err
	}
	what := "a backup"
	if request.Incremental {
		what = "an incremental backup"
	}
	if request.Tablet != "" {
		what += " of " + request.Tablet
	}
	b.events.Eventf(registry.Reference("VitessShard", stored), nil, corev1.EventTypeNormal, "BackupRequested", "Backup", "%s requested %s", pending.RequestedBy, what)
	return stored, nil
}

// NewID names one backup request.
func NewID() string { return string(uuid.NewUUID()) }

// BackupREST serves vitessshards/<name>/backup: the shard is backed up now, by the reconcile
// loop; the response is the shard, with the backup in status.pendingBackup.
type BackupREST struct {
	backups *Backups
}

var _ rest.NamedCreater = &BackupREST{}

// NewBackupREST serves vitessshards/backup through backups.
func NewBackupREST(backups *Backups) *BackupREST { return &BackupREST{backups: backups} }

func (r *BackupREST) New() runtime.Object { return &vitess.VitessBackupRequest{} }
func (r *BackupREST) Destroy()            {}

func (r *BackupREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	if err := registry.AdmitAction(ctx, "VitessShard", name, obj, createValidation); err != nil {
		return nil, err
	}
	request := obj.(*vitess.VitessBackupRequest)
	got, err := r.backups.shards.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	shard := got.(*vitess.VitessShard)
	if err := r.backups.Check(ctx, shard, request); err != nil {
		return nil, err
	}
	if len(options.DryRun) > 0 {
		return shard, nil
	}
	return r.backups.Record(ctx, name, request, NewID())
}
