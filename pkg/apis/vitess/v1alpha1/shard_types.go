package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +genclient:method=Backup,verb=create,subresource=backup,input=VitessBackupRequest,result=VitessShard
// +genclient:method=Restore,verb=create,subresource=restore,input=VitessRestoreRequest,result=VitessShard
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessShard is one shard of a keyspace: a key range and the tablets that hold it.
// A VitessKeyspace's shards are the union of its partitionings, one per distinct key range.
type VitessShard struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	Spec   VitessShardSpec   `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
	Status VitessShardStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
}

// VitessShardSpec is a shard as its keyspace declares it.
type VitessShardSpec struct {
	VitessShardTemplate `json:",inline" protobuf:"bytes,1,opt,name=vitessShardTemplate"`
	// Name of the shard as Vitess knows it, e.g. "-80" or "-". Immutable.
	Name string `json:"name" protobuf:"bytes,2,opt,name=name"`
	// KeyspaceName is the keyspace the shard belongs to. Immutable.
	KeyspaceName string `json:"keyspaceName" protobuf:"bytes,3,opt,name=keyspaceName"`
	// KeyRange of the shard. Immutable.
	KeyRange VitessKeyRange `json:"keyRange" protobuf:"bytes,4,opt,name=keyRange"`
	// Cluster is the name of the owning VitessCluster.
	Cluster string `json:"cluster" protobuf:"bytes,5,opt,name=cluster"`
	// DurabilityPolicy of the keyspace.
	// +optional
	DurabilityPolicy string `json:"durabilityPolicy,omitempty" protobuf:"bytes,6,opt,name=durabilityPolicy"`
	// GlobalLockserver is how the shard's components reach the global topology.
	// +optional
	GlobalLockserver VitessLockserverParams `json:"globalLockserver,omitempty" protobuf:"bytes,7,opt,name=globalLockserver"`
	// Images of the shard's components.
	// +optional
	Images VitessImages `json:"images,omitempty" protobuf:"bytes,8,opt,name=images"`
	// ZoneMap maps each cell to its zone.
	// +optional
	ZoneMap map[string]string `json:"zoneMap,omitempty" protobuf:"bytes,9,rep,name=zoneMap"`
	// ExtraVitessFlags are passed to every Vitess component of the shard.
	// +optional
	ExtraVitessFlags map[string]string `json:"extraVitessFlags,omitempty" protobuf:"bytes,10,rep,name=extraVitessFlags"`
	// DatabaseName is the MySQL database behind the keyspace; empty means "vt_<keyspace>".
	// +optional
	DatabaseName string `json:"databaseName,omitempty" protobuf:"bytes,11,opt,name=databaseName"`
	// ImagePullPolicies of the shard's components.
	// +optional
	ImagePullPolicies VitessImagePullPolicies `json:"imagePullPolicies,omitempty" protobuf:"bytes,12,opt,name=imagePullPolicies"`
	// ImagePullSecrets for the shard's images.
	// +optional
	// +listType=atomic
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty" protobuf:"bytes,13,rep,name=imagePullSecrets"`
	// UpdateStrategy says when changed tablet Pods may be replaced.
	// +optional
	UpdateStrategy *VitessClusterUpdateStrategy `json:"updateStrategy,omitempty" protobuf:"bytes,14,opt,name=updateStrategy"`
	// VitessOrchestrator, when set, runs VTOrc for the shard in every cell that has its tablets.
	// +optional
	VitessOrchestrator *VitessOrchestratorSpec `json:"vitessOrchestrator,omitempty" protobuf:"bytes,15,opt,name=vitessOrchestrator"`
	// BackupLocations are the cluster's backup locations; a tablet pool's backupLocationName picks one.
	// +optional
	// +listType=atomic
	BackupLocations []VitessBackupLocation `json:"backupLocations,omitempty" protobuf:"bytes,16,rep,name=backupLocations"`
	// BackupEngine is the cluster's backup engine.
	// +optional
	BackupEngine VitessBackupEngine `json:"backupEngine,omitempty" protobuf:"bytes,17,opt,name=backupEngine,casttype=VitessBackupEngine"`
	// BackupRetention is the cluster's backup retention: which of the shard's backups are pruned.
	// +optional
	BackupRetention *VitessBackupRetention `json:"backupRetention,omitempty" protobuf:"bytes,18,opt,name=backupRetention"`
	// KeyspaceSnapshot is the keyspace's snapshot, for a shard of a snapshot keyspace: its tablets
	// restore the base keyspace's backups and serve them, with no primary.
	// +optional
	KeyspaceSnapshot *VitessKeyspaceSnapshot `json:"keyspaceSnapshot,omitempty" protobuf:"bytes,19,opt,name=keyspaceSnapshot"`
}

// VitessShardStatus is the observed state of a shard.
type VitessShardStatus struct {
	// ObservedGeneration is the generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty" protobuf:"varint,1,opt,name=observedGeneration"`
	// Conditions: Ready, Progressing, Degraded; BackedUp when the shard makes its first backup.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" protobuf:"bytes,2,rep,name=conditions"`
	// Tablets counts the shard's tablets: desired and ready.
	// +optional
	Tablets ReadyCount `json:"tablets,omitempty" protobuf:"bytes,3,opt,name=tablets"`
	// PrimaryAlias is the tablet alias of the shard's primary, when one is elected.
	// +optional
	PrimaryAlias string `json:"primaryAlias,omitempty" protobuf:"bytes,4,opt,name=primaryAlias"`
	// Serving is true while the shard serves the primary tablet type.
	// +optional
	Serving bool `json:"serving,omitempty" protobuf:"varint,5,opt,name=serving"`
	// PendingAction is the backup or restore requested through vitessshards/backup,
	// vitesskeyspaces/backup or vitessshards/restore that the reconcile loop is carrying out or
	// about to; one at a time.
	// +optional
	PendingAction *VitessShardPendingAction `json:"pendingAction,omitempty" protobuf:"bytes,6,opt,name=pendingAction"`
	// LastBackup is the shard's newest complete backup in vtctld's backup location.
	// +optional
	LastBackup *VitessBackupRecord `json:"lastBackup,omitempty" protobuf:"bytes,7,opt,name=lastBackup"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessShardList is a list of VitessShards.
type VitessShardList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	Items           []VitessShard `json:"items" protobuf:"bytes,2,rep,name=items"`
}
