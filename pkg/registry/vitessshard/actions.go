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

// Actions records the backups and restores users ask for in their shards' status
// (pendingAction), for the reconcile loop to carry out: they may take longer than a request may,
// and one recorded in the status is carried out exactly once, whichever server leads the loop
// (see the shard controller).
type Actions struct {
	shards  rest.Getter
	status  rest.Updater
	vtctlds registry.Vtctlds
	events  events.EventRecorder
}

// NewActions reads shards from shards and records actions through status (vitessshards/status).
func NewActions(shards rest.Getter, status rest.Updater, vtctlds registry.Vtctlds, recorder events.EventRecorder) *Actions {
	return &Actions{shards: shards, status: status, vtctlds: vtctlds, events: recorder}
}

// Check tells whether the shard can take the action now: it has a backup location and no
// action pending.
func (a *Actions) Check(shard *vitess.VitessShard) error {
	if len(shard.Spec.BackupLocations) == 0 {
		return conflict(shard, "the shard has no backup location: give its VitessCluster spec.backup.locations")
	}
	if pending := shard.Status.PendingAction; pending != nil {
		return conflict(shard, "a %s requested by %s at %s is still being carried out", pending.Action, pending.RequestedBy,
			pending.RequestedAt.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return nil
}

func conflict(shard *vitess.VitessShard, format string, args ...any) error {
	return apierrors.NewConflict(vitess.Resource("vitessshards"), shard.Name, fmt.Errorf(format, args...))
}

// tablet finds the tablet a request names among the shard's tablets in Vitess: 422 when it is
// not one of them.
func (a *Actions) tablet(ctx context.Context, shard *vitess.VitessShard, kind, alias string) (vtctld.Tablet, *vtctld.Client, error) {
	client, err := a.vtctlds.Vtctld(ctx, shard.Namespace, shard.Spec.Cluster)
	if err != nil {
		return vtctld.Tablet{}, nil, err
	}
	tablets, err := client.Tablets(ctx, shard.Spec.KeyspaceName, shard.Spec.Name)
	if err != nil {
		return vtctld.Tablet{}, nil, vtctld.APIError(err, fmt.Sprintf("listing the tablets of shard %s/%s", shard.Spec.KeyspaceName, shard.Spec.Name))
	}
	i := slices.IndexFunc(tablets, func(t vtctld.Tablet) bool { return t.Alias == alias })
	if i < 0 {
		return vtctld.Tablet{}, nil, apierrors.NewInvalid(vitess.Kind(kind), shard.Name, field.ErrorList{
			field.NotFound(field.NewPath("tablet"), alias),
		})
	}
	return tablets[i], client, nil
}

// Record records the action as the shard's pendingAction, under the request's ID (which every
// shard of a keyspace's backup shares), and records an Event on the shard saying what was asked.
func (a *Actions) Record(ctx context.Context, name string, action vitess.VitessShardPendingAction, what string) (*vitess.VitessShard, error) {
	action.RequestedBy, action.RequestedAt = registry.Requester(ctx), metav1.Now()
	if action.ID == "" {
		action.ID = NewID()
	}
	var stored *vitess.VitessShard
	var refused error
	// The reconcile loop writes the status too, every few seconds: write on the latest version
	// rather than fail the user's request over that.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		latest, err := a.shards.Get(ctx, name, &metav1.GetOptions{})
		if err != nil {
			return err
		}
		shard := latest.(*vitess.VitessShard).DeepCopy()
		if refused = a.Check(shard); refused != nil {
			return nil // another request came first: not a write to retry
		}
		shard.Status.PendingAction = &action
		obj, _, err := a.status.Update(ctx, name, rest.DefaultUpdatedObjectInfo(shard), nil, nil, false, &metav1.UpdateOptions{})
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
	reason := map[string]string{vitess.ActionBackup: "BackupRequested", vitess.ActionRestore: "RestoreRequested"}[action.Action]
	a.events.Eventf(registry.Reference("VitessShard", stored), nil, corev1.EventTypeNormal, reason, reason[:len(reason)-len("Requested")],
		"%s requested %s", action.RequestedBy, what)
	return stored, nil
}

// NewID names one request.
func NewID() string { return string(uuid.NewUUID()) }

// get reads the shard an action's URL names, after checking that the request names it too.
func (a *Actions) get(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc) (*vitess.VitessShard, error) {
	if err := registry.AdmitAction(ctx, "VitessShard", name, obj, createValidation); err != nil {
		return nil, err
	}
	got, err := a.shards.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return got.(*vitess.VitessShard), nil
}
