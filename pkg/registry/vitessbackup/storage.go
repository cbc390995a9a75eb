// Package vitessbackup serves VitessBackups: the backups of the shards of the namespace's
// VitessClusters, read from each cluster's backup storage through its vtctld (GetBackups) by one
// reader per cluster that every request shares (see package topologycache). Nothing is stored:
// the resource is read-only but for delete, which removes the backup from the backup storage.
package vitessbackup

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/topologycache"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// Values of VitessBackupStatus.Phase: Vitess' BackupInfo statuses.
const (
	PhaseUnknown    = "Unknown"
	PhaseIncomplete = "Incomplete"
	PhaseComplete   = "Complete"
	PhaseInvalid    = "Invalid"
	PhaseValid      = "Valid"
)

// defaultPollInterval is how often a cluster's backups are read. Longer than the tablets' 2 s: a
// backup takes minutes to make and is kept for days, so a few seconds more before one shows
// changes nothing for its readers, while a reading costs a GetBackups per shard, each of which
// has vtctld open the manifest of every backup of the shard in the backup storage (an object
// store, often).
const defaultPollInterval = 5 * time.Second

// Topology is what REST reads and changes of one cluster's Vitess; a *vtctld.Client is one.
type Topology interface {
	Keyspaces(ctx context.Context) ([]vtctld.Keyspace, error)
	Shards(ctx context.Context, keyspace string) ([]vtctld.Shard, error)
	Backups(ctx context.Context, keyspace, shard string) ([]vtctld.Backup, error)
	RemoveBackup(ctx context.Context, keyspace, shard, name string) error
}

var _ Topology = &vtctld.Client{}

// Topologies gives the topology of a VitessCluster.
type Topologies = topologycache.Topologies[Topology]

// VtctldTopologies reads each cluster's topology through its vtctld.
func VtctldTopologies(vtctlds registry.Vtctlds) Topologies {
	return topologycache.VtctldTopologies[Topology](vtctlds)
}

// REST serves vitessbackups. Like vitesstablets it is not in the category the stored kinds share:
// listing it needs a reading of every cluster, and `kubectl get vitess` must not fail while a
// vtctld is unreachable.
type REST struct {
	*topologycache.Store[*vitess.VitessBackup, vitess.VitessBackup]
	topologies Topologies
	// shards and clusters are the stores of VitessShards and VitessClusters, which the Event of a
	// removal is recorded on.
	shards, clusters rest.Getter
	events           events.EventRecorder
	registry.Table[*vitess.VitessBackup]
}

var (
	_ topologycache.Resource = &REST{}
	_ rest.GracefulDeleter   = &REST{}
)

// ClusterStore lists VitessClusters, whose backups are served, and gets one.
type ClusterStore interface {
	topologycache.ClusterLister
	rest.Getter
}

// NewREST serves the backups of the clusters that clusters lists, read from topologies, and
// records the removals on the VitessShards that shards gets. Destroy stops its readers.
func NewREST(clusters ClusterStore, shards rest.Getter, topologies Topologies, recorder events.EventRecorder) *REST {
	return newREST(clusters, shards, topologies, recorder, clock.RealClock{}, defaultPollInterval)
}

func newREST(clusters ClusterStore, shards rest.Getter, topologies Topologies, recorder events.EventRecorder, clock clock.WithTicker, pollInterval time.Duration) *REST {
	store := topologycache.New(clusters, topologycache.Config[*vitess.VitessBackup, vitess.VitessBackup]{
		Resource: vitess.Resource("vitessbackups"),
		Read: func(ctx context.Context, namespace, cluster string) ([]*vitess.VitessBackup, error) {
			return readCluster(ctx, topologies, namespace, cluster)
		},
		NewList:      func() runtime.Object { return &vitess.VitessBackupList{} },
		PollInterval: pollInterval,
		Clock:        clock,
	})
	return &REST{Store: store, topologies: topologies, shards: shards, clusters: clusters, events: recorder, Table: table}
}

func (r *REST) GetSingularName() string { return "vitessbackup" }
func (r *REST) ShortNames() []string    { return []string{"vtb"} }

// Delete removes the backup from the cluster's backup storage (vtctld's RemoveBackup) and records
// an Event BackupRemoved, naming who asked, on its VitessShard, or on its VitessCluster when the
// shard has no object (a shard Vitess has that the server does not manage). A dry run checks that
// the backup exists and the request is admitted, and removes nothing.
func (r *REST) Delete(ctx context.Context, name string, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions) (runtime.Object, bool, error) {
	obj, err := r.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, false, err
	}
	backup := obj.(*vitess.VitessBackup)
	if options != nil && options.Preconditions != nil {
		if rv := options.Preconditions.ResourceVersion; rv != nil && *rv != backup.ResourceVersion {
			return nil, false, apierrors.NewConflict(vitess.Resource("vitessbackups"), name,
				fmt.Errorf("the backup's resourceVersion is %s, not %s as the precondition says", backup.ResourceVersion, *rv))
		}
	}
	if deleteValidation != nil {
		if err := deleteValidation(ctx, backup); err != nil {
			return nil, false, err
		}
	}
	if options != nil && len(options.DryRun) > 0 {
		return backup, true, nil
	}
	s := backup.Status
	action := fmt.Sprintf("removing backup %s of shard %s/%s of cluster %s/%s", s.Name, s.Keyspace, s.Shard, backup.Namespace, s.Cluster)
	topology, err := r.topologies.Topology(ctx, backup.Namespace, s.Cluster)
	if err != nil {
		return nil, false, vtctld.APIError(err, action)
	}
	if err := topology.RemoveBackup(ctx, s.Keyspace, s.Shard, s.Name); err != nil {
		// Vitess raises the backup storage's refusals as plain errors: they are 409s, with its reason.
		return nil, false, vtctld.RefusalError(err, action)
	}
	r.Invalidate(backup.Namespace, s.Cluster)
	r.events.Eventf(r.regarding(ctx, backup), nil, corev1.EventTypeNormal, "BackupRemoved", "RemoveBackup",
		"%s removed backup %s of shard %s/%s", registry.Requester(ctx), s.Name, s.Keyspace, s.Shard)
	return backup, true, nil
}

// regarding is the object a removal's Event is recorded on: the backup's VitessShard, or else its
// VitessCluster.
func (r *REST) regarding(ctx context.Context, backup *vitess.VitessBackup) *corev1.ObjectReference {
	s := backup.Status
	if shard, err := r.shards.Get(ctx, names.Shard(s.Cluster, s.Keyspace, shardSafeName(s.Shard)), &metav1.GetOptions{}); err == nil {
		return registry.Reference("VitessShard", shard.(*vitess.VitessShard))
	}
	if cluster, err := r.clusters.Get(ctx, s.Cluster, &metav1.GetOptions{}); err == nil {
		return registry.Reference("VitessCluster", cluster.(*vitess.VitessCluster))
	}
	// The cluster is gone too: the Event still names the cluster.
	return registry.Reference("VitessCluster", &metav1.ObjectMeta{Namespace: backup.Namespace, Name: s.Cluster})
}

// readCluster reads the backups of every shard of every keyspace of the cluster.
func readCluster(ctx context.Context, topologies Topologies, namespace, cluster string) ([]*vitess.VitessBackup, error) {
	action := fmt.Sprintf("listing the backups of cluster %s/%s", namespace, cluster)
	topology, err := topologies.Topology(ctx, namespace, cluster)
	if err != nil {
		return nil, vtctld.APIError(err, action)
	}
	keyspaces, err := topology.Keyspaces(ctx)
	if err != nil {
		return nil, vtctld.APIError(err, action)
	}
	var backups []*vitess.VitessBackup
	for _, keyspace := range keyspaces {
		shards, err := topology.Shards(ctx, keyspace.Name)
		if err != nil {
			return nil, vtctld.APIError(err, action)
		}
		for _, shard := range shards {
			shardBackups, err := topology.Backups(ctx, keyspace.Name, shard.Name)
			if vtctld.IsNoBackupStorage(err) {
				// A cluster that keeps no backups has none, rather than failing every list of the
				// namespace's backups.
				return nil, nil
			}
			if err != nil {
				return nil, vtctld.APIError(err, action)
			}
			for _, b := range shardBackups {
				backups = append(backups, newBackup(namespace, cluster, keyspace.Name, shard.Name, b))
			}
		}
	}
	return backups, nil
}

// shardSafeName is the shard's name as the operator writes it in names and labels: its range's
// safe name ("x-80"), as these cannot begin or end with "-"; or, for the few shard names Vitess
// accepts that are not ranges, "" (then no label, which no selector written for the operator
// would match).
func shardSafeName(shard string) string {
	keyRange, err := vitess.ParseKeyRange(shard)
	if err != nil {
		return ""
	}
	return keyRange.SafeName()
}

func newBackup(namespace, cluster, keyspace, shard string, b vtctld.Backup) *vitess.VitessBackup {
	labels := map[string]string{
		vitess.LabelCluster:  cluster,
		vitess.LabelKeyspace: keyspace,
	}
	// The cell of the tablet it was taken from, which a selector can pick a cell's backups by.
	if b.TabletCell != "" {
		labels[vitess.LabelCell] = b.TabletCell
	}
	nameShard := shard
	if safe := shardSafeName(shard); safe != "" {
		labels[vitess.LabelShard] = safe
		nameShard = safe
	}
	backup := &vitess.VitessBackup{
		ObjectMeta: metav1.ObjectMeta{
			Name:              names.Backup(cluster, keyspace, nameShard, b.Name),
			Namespace:         namespace,
			Labels:            labels,
			CreationTimestamp: metav1.NewTime(b.Time),
		},
		Status: vitess.VitessBackupStatus{
			Cluster:     cluster,
			Keyspace:    keyspace,
			Shard:       shard,
			Name:        b.Name,
			TabletAlias: b.TabletAlias,
			Time:        metav1.NewTime(b.Time),
			Engine:      b.Engine,
			Phase:       phase(b.Status),
			Complete:    b.Complete,
		},
	}
	return backup
}

// phase is Vitess' BackupInfo status (COMPLETE) as a phase (Complete).
func phase(status string) string {
	switch status {
	case "INCOMPLETE":
		return PhaseIncomplete
	case "COMPLETE":
		return PhaseComplete
	case "INVALID":
		return PhaseInvalid
	case "VALID":
		return PhaseValid
	}
	return PhaseUnknown
}
