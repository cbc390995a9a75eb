package vitess

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessShard is one shard of a keyspace: a key range and the tablets that hold it.
// A VitessKeyspace's shards are the union of its partitionings, one per distinct key range.
type VitessShard struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Spec   VitessShardSpec
	Status VitessShardStatus
}

// VitessShardSpec is a shard as its keyspace declares it.
type VitessShardSpec struct {
	VitessShardTemplate
	// Name of the shard as Vitess knows it, e.g. "-80" or "-". Immutable.
	Name string
	// KeyspaceName is the keyspace the shard belongs to. Immutable.
	KeyspaceName string
	// KeyRange of the shard. Immutable.
	KeyRange VitessKeyRange
	// Cluster is the name of the owning VitessCluster.
	Cluster string
	// DurabilityPolicy of the keyspace.
	DurabilityPolicy string
	// GlobalLockserver is how the shard's components reach the global topology.
	GlobalLockserver VitessLockserverParams
	// Images of the shard's components.
	Images VitessImages
	// ZoneMap maps each cell to its zone.
	ZoneMap map[string]string
	// ExtraVitessFlags are passed to every Vitess component of the shard.
	ExtraVitessFlags map[string]string
	// DatabaseName is the MySQL database behind the keyspace; empty means "vt_<keyspace>".
	DatabaseName string
	// ImagePullPolicies of the shard's components.
	ImagePullPolicies VitessImagePullPolicies
	// ImagePullSecrets for the shard's images.
	ImagePullSecrets []corev1.LocalObjectReference
	// UpdateStrategy says when changed tablet Pods may be replaced.
	UpdateStrategy *VitessClusterUpdateStrategy
	// VitessOrchestrator, when set, runs VTOrc for the shard in every cell that has its tablets.
	VitessOrchestrator *VitessOrchestratorSpec
	// BackupLocations are the cluster's backup locations; a tablet pool's BackupLocationName picks one.
	BackupLocations []VitessBackupLocation
	// BackupEngine is the cluster's backup engine.
	BackupEngine VitessBackupEngine
	// BackupRetention is the cluster's backup retention: which of the shard's backups are pruned.
	BackupRetention *VitessBackupRetention
	// KeyspaceSnapshot is the keyspace's snapshot, for a shard of a snapshot keyspace.
	KeyspaceSnapshot *VitessKeyspaceSnapshot
}

// VitessShardStatus is the observed state of a shard.
type VitessShardStatus struct {
	// ObservedGeneration is the generation this status describes.
	ObservedGeneration int64
	// Conditions: Ready, Progressing, Degraded; BackedUp when the shard makes its first backup.
	Conditions []metav1.Condition
	// Tablets counts the shard's tablets: desired and ready.
	Tablets ReadyCount
	// PrimaryAlias is the tablet alias of the shard's primary, when one is elected.
	PrimaryAlias string
	// Serving is true while the shard serves the primary tablet type.
	Serving bool
	// PendingAction is the backup or restore requested through vitessshards/backup,
	// vitesskeyspaces/backup or vitessshards/restore that the reconcile loop is carrying out or
	// about to; one at a time.
	PendingAction *VitessShardPendingAction
	// LastBackup is the shard's newest complete backup in vtctld's backup location.
	LastBackup *VitessBackupRecord
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessShardList is a list of VitessShards.
type VitessShardList struct {
	metav1.TypeMeta
	metav1.ListMeta
	Items []VitessShard
}
