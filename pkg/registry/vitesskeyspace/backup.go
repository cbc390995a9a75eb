package vitesskeyspace

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/tools/events"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/vitessshard"
)

// BackupREST serves vitesskeyspaces/<name>/backup: every shard of the keyspace is backed up now,
// as vitessshards/backup would back each up, under one request ID. Every shard is checked before
// any backup is recorded, so a refusal leaves none requested.
type BackupREST struct {
	keyspaces rest.Getter
	shards    rest.Lister
	actions   *vitessshard.Actions
	events    events.EventRecorder
}

var _ rest.NamedCreater = &BackupREST{}

// NewBackupREST reads keyspaces and lists their shards from shards, and records the shards'
// backups through actions.
func NewBackupREST(keyspaces rest.Getter, shards rest.Lister, actions *vitessshard.Actions, recorder events.EventRecorder) *BackupREST {
	return &BackupREST{keyspaces: keyspaces, shards: shards, actions: actions, events: recorder}
}

func (r *BackupREST) New() runtime.Object { return &vitess.VitessBackupRequest{} }
func (r *BackupREST) Destroy()            {}

func (r *BackupREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	if err := registry.AdmitAction(ctx, "VitessKeyspace", name, obj, createValidation); err != nil {
		return nil, err
	}
	request := obj.(*vitess.VitessBackupRequest)
	if request.Tablet != "" {
		return nil, apierrors.NewInvalid(vitess.Kind("VitessBackupRequest"), name, field.ErrorList{
			field.Forbidden(field.NewPath("tablet"), "a keyspace's backup picks a tablet in each shard: back up one tablet through vitessshards/backup"),
		})
	}
	got, err := r.keyspaces.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	keyspace := got.(*vitess.VitessKeyspace)
	shards, err := r.keyspaceShards(ctx, keyspace)
	if err != nil {
		return nil, err
	}
	if len(shards) == 0 {
		return nil, apierrors.NewConflict(vitess.Resource("vitesskeyspaces"), name, fmt.Errorf("the keyspace has no shards yet"))
	}
	for _, shard := range shards {
		if err := r.actions.Check(shard); err != nil {
			return nil, err
		}
	}
	if len(options.DryRun) > 0 {
		return keyspace, nil
	}
	id := vitessshard.NewID()
	var requested []string
	for _, shard := range shards {
		if _, err := r.actions.Record(ctx, shard.Name, vitessshard.BackupAction(request, id), vitessshard.BackupDescription(request)); err != nil {
			if len(requested) > 0 {
				err = errors.Join(err, fmt.Errorf("backups of %v were requested before it failed", requested))
			}
			return nil, err
		}
		requested = append(requested, shard.Spec.Name)
	}
	r.events.Eventf(registry.Reference("VitessKeyspace", keyspace), nil, corev1.EventTypeNormal, "BackupRequested", "Backup",
		"%s requested a backup of shards %v", registry.Requester(ctx), requested)
	return keyspace, nil
}

// keyspaceShards lists the VitessShards the keyspace controls. Labels find them; the controller
// reference decides, as anyone may label a shard.
func (r *BackupREST) keyspaceShards(ctx context.Context, keyspace *vitess.VitessKeyspace) ([]*vitess.VitessShard, error) {
	selector := labels.SelectorFromSet(labels.Set{vitess.LabelCluster: keyspace.Spec.Cluster, vitess.LabelKeyspace: keyspace.Spec.Name})
	obj, err := r.shards.List(ctx, &metainternalversion.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	var shards []*vitess.VitessShard
	for i := range obj.(*vitess.VitessShardList).Items {
		shard := &obj.(*vitess.VitessShardList).Items[i]
		if metav1.IsControlledBy(shard, keyspace) {
			shards = append(shards, shard)
		}
	}
	return shards, nil
}
