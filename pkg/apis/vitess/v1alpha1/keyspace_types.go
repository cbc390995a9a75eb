package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VitessKeyspaceTemplate declares a keyspace within a VitessCluster.
type VitessKeyspaceTemplate struct {
	// Name of the keyspace, as Vitess and applications know it. Immutable.
	Name string `json:"name"`
	// DatabaseName is the MySQL database behind the keyspace. Default: vt_<name>.
	// +optional
	DatabaseName string `json:"databaseName,omitempty"`
	// DurabilityPolicy is the Vitess durability policy: none, semi_sync or cross_cell. Default: none.
	// +optional
	DurabilityPolicy string `json:"durabilityPolicy,omitempty"`
	// TurndownPolicy says when a shard no longer in any partitioning may be turned down:
	// RequireIdle (once nothing is routed to it) or Immediate. Default: RequireIdle.
	// +optional
	TurndownPolicy VitessKeyspaceTurndownPolicy `json:"turndownPolicy,omitempty"`
	// VitessOrchestrator deploys vtorc for every shard.
	// +optional
	VitessOrchestrator *VitessOrchestratorSpec `json:"vitessOrchestrator,omitempty"`
	// Partitionings split the keyspace into shards. There are at most two: the serving one,
	// and during a reshard the one it becomes.
	// +listType=atomic
	Partitionings []VitessKeyspacePartitioning `json:"partitionings"`
	// Annotations are added to every Pod of the keyspace.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
	// ExtraLabels are added to every Pod of the keyspace.
	// +optional
	ExtraLabels map[string]string `json:"extraLabels,omitempty"`
}

// VitessKeyspaceTurndownPolicy says when an unwanted shard may be turned down.
type VitessKeyspaceTurndownPolicy string

const (
	TurndownPolicyRequireIdle VitessKeyspaceTurndownPolicy = "RequireIdle"
	TurndownPolicyImmediate   VitessKeyspaceTurndownPolicy = "Immediate"
)

// VitessOrchestratorSpec deploys vtorc.
type VitessOrchestratorSpec struct {
	ComponentSpec `json:",inline"`
}

// VitessKeyspacePartitioning is one way to split a keyspace into shards. Set exactly one of equal and custom.
type VitessKeyspacePartitioning struct {
	// Equal splits the keyspace into parts of equal size.
	// +optional
	Equal *VitessKeyspaceEqualPartitioning `json:"equal,omitempty"`
	// Custom lists the shards' key ranges explicitly.
	// +optional
	Custom *VitessKeyspaceCustomPartitioning `json:"custom,omitempty"`
}

// VitessKeyspaceEqualPartitioning splits a keyspace into equal parts.
type VitessKeyspaceEqualPartitioning struct {
	// Parts is the number of shards, 1 to 65536; one VitessCluster has at most 1024 shards and 4096
	// tablets in all. Immutable.
	Parts int32 `json:"parts"`
	// HexWidth is accepted for compatibility with the vitess-operator, which no longer uses it:
	// key ranges are as Vitess generates them (2 hex digits for up to 256 parts, 4 beyond).
	// 0, or an even number from 2 to 16 wide enough for parts. Immutable.
	// +optional
	HexWidth int32 `json:"hexWidth,omitempty"`
	// ShardTemplate configures every shard of the partitioning.
	ShardTemplate VitessShardTemplate `json:"shardTemplate"`
}

// VitessKeyspaceCustomPartitioning lists shards by key range.
type VitessKeyspaceCustomPartitioning struct {
	// Shards cover the whole keyspace, in order, without gaps or overlaps. Their key ranges are immutable.
	// +listType=atomic
	Shards []VitessKeyspaceKeyRangeShard `json:"shards"`
}

// VitessKeyspaceKeyRangeShard is one shard of a custom partitioning.
type VitessKeyspaceKeyRangeShard struct {
	// KeyRange of the shard.
	KeyRange            VitessKeyRange `json:"keyRange"`
	VitessShardTemplate `json:",inline"`
}

// VitessShardTemplate configures the tablets of a shard.
type VitessShardTemplate struct {
	// DatabaseInitScriptSecret holds the SQL run when a tablet's mysqld is initialised.
	DatabaseInitScriptSecret SecretSource `json:"databaseInitScriptSecret"`
	// TabletPools are the groups of tablets of the shard, one per cell, type and name.
	// +listType=atomic
	TabletPools []VitessShardTabletPool `json:"tabletPools,omitempty"`
	// Replication tunes how the shard's replication is set up.
	// +optional
	Replication *VitessReplicationSpec `json:"replication,omitempty"`
	// Annotations are added to the shard's Pods.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
	// ExtraLabels are added to the shard's Pods.
	// +optional
	ExtraLabels map[string]string `json:"extraLabels,omitempty"`
}

// VitessReplicationSpec tunes shard replication.
type VitessReplicationSpec struct {
	// InitializePrimary elects a primary when the shard has none. Unset means true.
	// +optional
	InitializePrimary *bool `json:"initializePrimary,omitempty"`
	// InitializeBackup takes a first backup of an empty shard so new tablets can restore. Unset means true.
	// +optional
	InitializeBackup *bool `json:"initializeBackup,omitempty"`
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
	Cell string `json:"cell"`
	// Type of the tablets: replica or rdonly.
	Type VitessTabletPoolType `json:"type"`
	// Name tells apart pools of the same cell and type.
	// +optional
	Name string `json:"name,omitempty"`
	// Replicas is the number of tablets in the pool, 0 to 64.
	Replicas int32 `json:"replicas"`
	// Vttablet configures the vttablet container.
	// +optional
	Vttablet *VttabletSpec `json:"vttablet,omitempty"`
	// Mysqld configures the mysqld container.
	// +optional
	Mysqld *MysqldSpec `json:"mysqld,omitempty"`
	// MysqldExporter configures the metrics exporter container.
	// +optional
	MysqldExporter *MysqldExporterSpec `json:"mysqldExporter,omitempty"`
	// DataVolumeClaimTemplate is the spec of each tablet's data PVC.
	// +optional
	DataVolumeClaimTemplate *corev1.PersistentVolumeClaimSpec `json:"dataVolumeClaimTemplate,omitempty"`
	// BackupLocationName selects one of the cluster's backup locations.
	// +optional
	BackupLocationName string `json:"backupLocationName,omitempty"`
	// ExtraVolumes adds volumes to the tablet Pods.
	// +optional
	// +listType=atomic
	ExtraVolumes []corev1.Volume `json:"extraVolumes,omitempty"`
	// ExtraVolumeMounts adds mounts to the vttablet and mysqld containers.
	// +optional
	// +listType=atomic
	ExtraVolumeMounts []corev1.VolumeMount `json:"extraVolumeMounts,omitempty"`
	// InitContainers run before the tablet's containers.
	// +optional
	// +listType=atomic
	InitContainers []corev1.Container `json:"initContainers,omitempty"`
	// SidecarContainers run beside the tablet's containers.
	// +optional
	// +listType=atomic
	SidecarContainers []corev1.Container `json:"sidecarContainers,omitempty"`
	// Affinity replaces the default scheduling rules.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
	// NodeSelector constrains the tablet Pods to matching Nodes.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Tolerations are added to the tablet Pods.
	// +optional
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// TopologySpreadConstraints are added to the tablet Pods.
	// +optional
	// +listType=atomic
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
	// Annotations are added to the tablet Pods.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
	// ExtraLabels are added to the tablet Pods.
	// +optional
	ExtraLabels map[string]string `json:"extraLabels,omitempty"`
}

// VttabletSpec configures the vttablet container.
type VttabletSpec struct {
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
	// ExtraFlags are passed to vttablet as --key=value.
	// +optional
	ExtraFlags map[string]string `json:"extraFlags,omitempty"`
	// +optional
	// +listType=atomic
	ExtraEnv []corev1.EnvVar `json:"extraEnv,omitempty"`
}

// MysqldSpec configures the mysqld container.
type MysqldSpec struct {
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
	// ConfigOverrides is appended to the generated my.cnf.
	// +optional
	ConfigOverrides string `json:"configOverrides,omitempty"`
}

// MysqldExporterSpec configures the metrics exporter container.
type MysqldExporterSpec struct {
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
	// ExtraFlags are passed to the exporter as --key=value.
	// +optional
	ExtraFlags map[string]string `json:"extraFlags,omitempty"`
}

// +genclient
// +genclient:method=MoveTables,verb=create,subresource=movetables,input=VitessMoveTablesRequest,result=VitessWorkflow
// +genclient:method=Reshard,verb=create,subresource=reshard,input=VitessReshardRequest,result=VitessWorkflow
// +genclient:method=GetVSchema,verb=get,subresource=vschema,result=VitessKeyspaceVSchema
// +genclient:method=UpdateVSchema,verb=update,subresource=vschema,input=VitessKeyspaceVSchema,result=VitessKeyspaceVSchema
// +genclient:method=ApplySchema,verb=create,subresource=schema,input=VitessSchemaRequest,result=VitessSchemaRequest
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessKeyspace is one keyspace of a VitessCluster, with its shards. The owning VitessCluster
// writes its spec; its action subresources (vschema, schema, movetables, reshard) act on Vitess.
type VitessKeyspace struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VitessKeyspaceSpec   `json:"spec,omitempty"`
	Status VitessKeyspaceStatus `json:"status,omitempty"`
}

// VitessKeyspaceSpec is a keyspace as its cluster declares it, with the cluster-wide settings it needs.
type VitessKeyspaceSpec struct {
	VitessKeyspaceTemplate `json:",inline"`
	// Cluster is the name of the owning VitessCluster.
	Cluster string `json:"cluster"`
	// GlobalLockserver is how the keyspace's components reach the global topology.
	// +optional
	GlobalLockserver VitessLockserverParams `json:"globalLockserver,omitempty"`
	// Images of the keyspace's components.
	// +optional
	Images VitessImages `json:"images,omitempty"`
	// ZoneMap maps each cell to its zone.
	// +optional
	ZoneMap map[string]string `json:"zoneMap,omitempty"`
	// ExtraVitessFlags are passed to every Vitess component of the keyspace.
	// +optional
	ExtraVitessFlags map[string]string `json:"extraVitessFlags,omitempty"`
}

// VitessKeyspaceStatus is the observed state of a keyspace.
type VitessKeyspaceStatus struct {
	// ObservedGeneration is the generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, Progressing, Degraded.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Shards counts the keyspace's shards: desired and serving.
	// +optional
	Shards ReadyCount `json:"shards,omitempty"`
	// Tablets counts the keyspace's tablets: desired and ready.
	// +optional
	Tablets ReadyCount `json:"tablets,omitempty"`
	// ServingShards lists the shards that serve the primary tablet type, by name.
	// +optional
	// +listType=atomic
	ServingShards []string `json:"servingShards,omitempty"`
	// Registered is true once the keyspace exists in the Vitess topology.
	// +optional
	Registered bool `json:"registered,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessKeyspaceList is a list of VitessKeyspaces.
type VitessKeyspaceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VitessKeyspace `json:"items"`
}
