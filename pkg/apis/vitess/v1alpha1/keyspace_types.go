package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VitessKeyspaceTemplate declares a keyspace within a VitessCluster.
type VitessKeyspaceTemplate struct {
	// Name of the keyspace, as Vitess and applications know it. Immutable.
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`
	// DatabaseName is the MySQL database behind the keyspace. Default: vt_<name>.
	// +optional
	DatabaseName string `json:"databaseName,omitempty" protobuf:"bytes,2,opt,name=databaseName"`
	// DurabilityPolicy is the Vitess durability policy: none, semi_sync or cross_cell. Default: none.
	// +optional
	DurabilityPolicy string `json:"durabilityPolicy,omitempty" protobuf:"bytes,3,opt,name=durabilityPolicy"`
	// TurndownPolicy says when a shard no longer in any partitioning may be turned down:
	// RequireIdle (once nothing is routed to it) or Immediate. Default: RequireIdle.
	// +optional
	TurndownPolicy VitessKeyspaceTurndownPolicy `json:"turndownPolicy,omitempty" protobuf:"bytes,4,opt,name=turndownPolicy,casttype=VitessKeyspaceTurndownPolicy"`
	// VitessOrchestrator deploys vtorc for every shard.
	// +optional
	VitessOrchestrator *VitessOrchestratorSpec `json:"vitessOrchestrator,omitempty" protobuf:"bytes,5,opt,name=vitessOrchestrator"`
	// Partitionings split the keyspace into shards. There are at most two: the serving one,
	// and during a reshard the one it becomes.
	// +listType=atomic
	Partitionings []VitessKeyspacePartitioning `json:"partitionings" protobuf:"bytes,6,rep,name=partitionings"`
	// Annotations are added to every Pod of the keyspace.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty" protobuf:"bytes,7,rep,name=annotations"`
	// ExtraLabels are added to every Pod of the keyspace.
	// +optional
	ExtraLabels map[string]string `json:"extraLabels,omitempty" protobuf:"bytes,8,rep,name=extraLabels"`
	// Snapshot makes the keyspace a read-only copy of another keyspace of the cluster as its
	// backups had it at a time (a Vitess SNAPSHOT keyspace), for inspection or for copying rows
	// back: each tablet restores the base keyspace's newest backup of its shard taken at or before
	// the time (waiting for one if there is none yet) and serves it without replicating. Its
	// shards are among the base keyspace's, its tablet pools use the location the base keyspace's
	// backups are in, no primary is elected and no first backup is made. Tables are reached by
	// naming the keyspace (select ... from <keyspace>.<table>), as Vitess has it. Immutable.
	// +optional
	Snapshot *VitessKeyspaceSnapshot `json:"snapshot,omitempty" protobuf:"bytes,9,opt,name=snapshot"`
}

// VitessKeyspaceSnapshot names what a snapshot keyspace copies.
type VitessKeyspaceSnapshot struct {
	// BaseKeyspace is the keyspace of the cluster whose backups are restored.
	BaseKeyspace string `json:"baseKeyspace" protobuf:"bytes,1,opt,name=baseKeyspace"`
	// Time: the newest backup taken at or before it is restored (a backup's time is in its name
	// and in a VitessBackup's status).
	Time metav1.Time `json:"time" protobuf:"bytes,2,opt,name=time"`
}

// VitessKeyspaceTurndownPolicy says when an unwanted shard may be turned down.
type VitessKeyspaceTurndownPolicy string

const (
	TurndownPolicyRequireIdle VitessKeyspaceTurndownPolicy = "RequireIdle"
	TurndownPolicyImmediate   VitessKeyspaceTurndownPolicy = "Immediate"
)

// VitessOrchestratorSpec deploys vtorc.
type VitessOrchestratorSpec struct {
	ComponentSpec `json:",inline" protobuf:"bytes,1,opt,name=componentSpec"`
}

// VitessKeyspacePartitioning is one way to split a keyspace into shards. Set exactly one of equal and custom.
type VitessKeyspacePartitioning struct {
	// Equal splits the keyspace into parts of equal size.
	// +optional
	Equal *VitessKeyspaceEqualPartitioning `json:"equal,omitempty"`
	// Custom lists the shards' key ranges explicitly.
	// +optional
	Custom *VitessKeyspaceCustomPartitioning `json:"custom,omitempty" protobuf:"bytes,2,opt,name=custom"`
}

// VitessKeyspaceEqualPartitioning splits a keyspace into equal parts.
type VitessKeyspaceEqualPartitioning struct {
	// Parts is the number of shards, 1 to 65536; one VitessCluster has at most 1024 shards and 4096
	// tablets in all. Immutable.
	Parts int32 `json:"parts" protobuf:"varint,1,opt,name=parts"`
	// HexWidth is accepted for compatibility with the vitess-operator, which no longer uses it:
	// key ranges are as Vitess generates them (2 hex digits for up to 256 parts, 4 beyond).
	// 0, or an even number from 2 to 16 wide enough for parts. Immutable.
	// +optional
	HexWidth int32 `json:"hexWidth,omitempty" protobuf:"varint,2,opt,name=hexWidth"`
	// ShardTemplate configures every shard of the partitioning.
	ShardTemplate VitessShardTemplate `json:"shardTemplate" protobuf:"bytes,3,opt,name=shardTemplate"`
}

// VitessKeyspaceCustomPartitioning lists shards by key range.
type VitessKeyspaceCustomPartitioning struct {
	// Shards cover the whole keyspace, in order, without gaps or overlaps. Their key ranges are immutable.
	// +listType=atomic
	Shards []VitessKeyspaceKeyRangeShard `json:"shards" protobuf:"bytes,1,rep,name=shards"`
}

// VitessKeyspaceKeyRangeShard is one shard of a custom partitioning.
type VitessKeyspaceKeyRangeShard struct {
	// KeyRange of the shard.
	KeyRange            VitessKeyRange `json:"keyRange" protobuf:"bytes,1,opt,name=keyRange"`
	VitessShardTemplate `json:",inline" protobuf:"bytes,2,opt,name=vitessShardTemplate"`
}

// VitessShardTemplate configures the tablets of a shard.
type VitessShardTemplate struct {
	// DatabaseInitScriptSecret holds the SQL run when a tablet's mysqld is initialised.
	DatabaseInitScriptSecret SecretSource `json:"databaseInitScriptSecret" protobuf:"bytes,1,opt,name=databaseInitScriptSecret"`
	// TabletPools are the groups of tablets of the shard, one per cell, type and name.
	// +listType=atomic
	TabletPools []VitessShardTabletPool `json:"tabletPools,omitempty" protobuf:"bytes,2,rep,name=tabletPools"`
	// Replication tunes how the shard's replication is set up.
	// +optional
	Replication *VitessReplicationSpec `json:"replication,omitempty" protobuf:"bytes,3,opt,name=replication"`
	// Annotations are added to the shard's Pods.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty" protobuf:"bytes,4,rep,name=annotations"`
	// ExtraLabels are added to the shard's Pods.
	// +optional
	ExtraLabels map[string]string `json:"extraLabels,omitempty" protobuf:"bytes,5,rep,name=extraLabels"`
}

// VitessReplicationSpec tunes shard replication.
type VitessReplicationSpec struct {
	// InitializePrimary elects a primary when the shard has none. Unset means true.
	// +optional
	InitializePrimary *bool `json:"initializePrimary,omitempty" protobuf:"varint,1,opt,name=initializePrimary"`
	// InitializeBackup takes a first backup of an empty shard so new tablets can restore. Unset means true.
	// +optional
	InitializeBackup *bool `json:"initializeBackup,omitempty" protobuf:"varint,2,opt,name=initializeBackup"`
}

// VitessTabletPoolType is the Vitess tablet type of a pool.
type VitessTabletPoolType string

const (
	// TabletPoolTypeReplica tablets may be elected primary.
	TabletPoolTypeReplica VitessTabletPoolType = "replica"
	// TabletPoolTypeRdonly tablets serve batch and analytics reads and are never primary.
	TabletPoolTypeRdonly VitessTabletPoolType = "rdonly"
)

// VitessShardTabletPool is a group of identical tablets in one cell.
type VitessShardTabletPool struct {
	// Cell the tablets run in; it must be declared in the cluster's cells.
	Cell string `json:"cell" protobuf:"bytes,1,opt,name=cell"`
	// Type of the tablets: replica or rdonly.
	Type VitessTabletPoolType `json:"type" protobuf:"bytes,2,opt,name=type,casttype=VitessTabletPoolType"`
	// Name tells apart pools of the same cell and type.
	// +optional
	Name string `json:"name,omitempty" protobuf:"bytes,3,opt,name=name"`
	// Replicas is the number of tablets in the pool, 0 to 64.
	Replicas int32 `json:"replicas" protobuf:"varint,4,opt,name=replicas"`
	// Vttablet configures the vttablet container.
	// +optional
	Vttablet *VttabletSpec `json:"vttablet,omitempty" protobuf:"bytes,5,opt,name=vttablet"`
	// Mysqld configures the mysqld container.
	// +optional
	Mysqld *MysqldSpec `json:"mysqld,omitempty" protobuf:"bytes,6,opt,name=mysqld"`
	// MysqldExporter configures the metrics exporter container.
	// +optional
	MysqldExporter *MysqldExporterSpec `json:"mysqldExporter,omitempty" protobuf:"bytes,7,opt,name=mysqldExporter"`
	// DataVolumeClaimTemplate is the spec of each tablet's data PVC.
	// +optional
	DataVolumeClaimTemplate *corev1.PersistentVolumeClaimSpec `json:"dataVolumeClaimTemplate,omitempty" protobuf:"bytes,8,opt,name=dataVolumeClaimTemplate"`
	// BackupLocationName selects one of the cluster's backup locations.
	// +optional
	BackupLocationName string `json:"backupLocationName,omitempty" protobuf:"bytes,9,opt,name=backupLocationName"`
	// ExtraVolumes adds volumes to the tablet Pods.
	// +optional
	// +listType=atomic
	ExtraVolumes []corev1.Volume `json:"extraVolumes,omitempty" protobuf:"bytes,10,rep,name=extraVolumes"`
	// ExtraVolumeMounts adds mounts to the vttablet and mysqld containers.
	// +optional
	// +listType=atomic
	ExtraVolumeMounts []corev1.VolumeMount `json:"extraVolumeMounts,omitempty" protobuf:"bytes,11,rep,name=extraVolumeMounts"`
	// InitContainers run before the tablet's containers.
	// +optional
	// +listType=atomic
	InitContainers []corev1.Container `json:"initContainers,omitempty" protobuf:"bytes,12,rep,name=initContainers"`
	// SidecarContainers run beside the tablet's containers.
	// +optional
	// +listType=atomic
	SidecarContainers []corev1.Container `json:"sidecarContainers,omitempty" protobuf:"bytes,13,rep,name=sidecarContainers"`
	// Affinity replaces the default scheduling rules.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty" protobuf:"bytes,14,opt,name=affinity"`
	// NodeSelector constrains the tablet Pods to matching Nodes.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty" protobuf:"bytes,15,rep,name=nodeSelector"`
	// Tolerations are added to the tablet Pods.
	// +optional
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty" protobuf:"bytes,16,rep,name=tolerations"`
	// TopologySpreadConstraints are added to the tablet Pods.
	// +optional
	// +listType=atomic
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty" protobuf:"bytes,17,rep,name=topologySpreadConstraints"`
	// Annotations are added to the tablet Pods.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty" protobuf:"bytes,18,rep,name=annotations"`
	// ExtraLabels are added to the tablet Pods.
	// +optional
	ExtraLabels map[string]string `json:"extraLabels,omitempty" protobuf:"bytes,19,rep,name=extraLabels"`
}

// VttabletSpec configures the vttablet container.
type VttabletSpec struct {
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty" protobuf:"bytes,1,opt,name=resources"`
	// ExtraFlags are passed to vttablet as --key=value.
	// +optional
	ExtraFlags map[string]string `json:"extraFlags,omitempty" protobuf:"bytes,2,rep,name=extraFlags"`
	// +optional
	// +listType=atomic
	ExtraEnv []corev1.EnvVar `json:"extraEnv,omitempty" protobuf:"bytes,3,rep,name=extraEnv"`
}

// MysqldSpec configures the mysqld container.
type MysqldSpec struct {
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty" protobuf:"bytes,1,opt,name=resources"`
	// ConfigOverrides is appended to the generated my.cnf.
	// +optional
	ConfigOverrides string `json:"configOverrides,omitempty" protobuf:"bytes,2,opt,name=configOverrides"`
}

// MysqldExporterSpec configures the metrics exporter container.
type MysqldExporterSpec struct {
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty" protobuf:"bytes,1,opt,name=resources"`
	// ExtraFlags are passed to the exporter as --key=value.
	// +optional
	ExtraFlags map[string]string `json:"extraFlags,omitempty" protobuf:"bytes,2,rep,name=extraFlags"`
}

// +genclient
// +genclient:method=MoveTables,verb=create,subresource=movetables,input=VitessMoveTablesRequest,result=VitessWorkflow
// +genclient:method=Reshard,verb=create,subresource=reshard,input=VitessReshardRequest,result=VitessWorkflow
// +genclient:method=GetVSchema,verb=get,subresource=vschema,result=VitessKeyspaceVSchema
// +genclient:method=UpdateVSchema,verb=update,subresource=vschema,input=VitessKeyspaceVSchema,result=VitessKeyspaceVSchema
// +genclient:method=ApplySchema,verb=create,subresource=schema,input=VitessSchemaRequest,result=VitessSchemaRequest
// +genclient:method=Backup,verb=create,subresource=backup,input=VitessBackupRequest,result=VitessKeyspace
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessKeyspace is one keyspace of a VitessCluster, with its shards. The owning VitessCluster
// writes its spec; its action subresources (vschema, schema, movetables, reshard) act on Vitess.
type VitessKeyspace struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	Spec   VitessKeyspaceSpec   `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
	Status VitessKeyspaceStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
}

// VitessKeyspaceSpec is a keyspace as its cluster declares it, with the cluster-wide settings it needs.
type VitessKeyspaceSpec struct {
	VitessKeyspaceTemplate `json:",inline" protobuf:"bytes,1,opt,name=vitessKeyspaceTemplate"`
	// Cluster is the name of the owning VitessCluster.
	Cluster string `json:"cluster" protobuf:"bytes,2,opt,name=cluster"`
	// GlobalLockserver is how the keyspace's components reach the global topology.
	// +optional
	GlobalLockserver VitessLockserverParams `json:"globalLockserver,omitempty" protobuf:"bytes,3,opt,name=globalLockserver"`
	// Images of the keyspace's components.
	// +optional
	Images VitessImages `json:"images,omitempty" protobuf:"bytes,4,opt,name=images"`
	// ZoneMap maps each cell to its zone.
	// +optional
	ZoneMap map[string]string `json:"zoneMap,omitempty" protobuf:"bytes,5,rep,name=zoneMap"`
	// ExtraVitessFlags are passed to every Vitess component of the keyspace.
	// +optional
	ExtraVitessFlags map[string]string `json:"extraVitessFlags,omitempty" protobuf:"bytes,6,rep,name=extraVitessFlags"`
}

// VitessKeyspaceStatus is the observed state of a keyspace.
type VitessKeyspaceStatus struct {
	// ObservedGeneration is the generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty" protobuf:"varint,1,opt,name=observedGeneration"`
	// Conditions: Ready, Progressing, Degraded.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" protobuf:"bytes,2,rep,name=conditions"`
	// Shards counts the keyspace's shards: desired and serving.
	// +optional
	Shards ReadyCount `json:"shards,omitempty" protobuf:"bytes,3,opt,name=shards"`
	// Tablets counts the keyspace's tablets: desired and ready.
	// +optional
	Tablets ReadyCount `json:"tablets,omitempty" protobuf:"bytes,4,opt,name=tablets"`
	// ServingShards lists the shards that serve the primary tablet type, by name.
	// +optional
	// +listType=atomic
	ServingShards []string `json:"servingShards,omitempty" protobuf:"bytes,5,rep,name=servingShards"`
	// Registered is true once the keyspace exists in the Vitess topology.
	// +optional
	Registered bool `json:"registered,omitempty" protobuf:"varint,6,opt,name=registered"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessKeyspaceList is a list of VitessKeyspaces.
type VitessKeyspaceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	Items           []VitessKeyspace `json:"items" protobuf:"bytes,2,rep,name=items"`
}
