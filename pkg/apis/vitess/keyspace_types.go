package vitess

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VitessKeyspaceTemplate declares a keyspace within a VitessCluster.
type VitessKeyspaceTemplate struct {
	// Name of the keyspace, as Vitess and applications know it. Immutable.
	Name string
	// DatabaseName is the MySQL database behind the keyspace. Default: vt_<name>.
	DatabaseName string
	// DurabilityPolicy is the Vitess durability policy: none, semi_sync or cross_cell. Default: none.
	DurabilityPolicy string
	// TurndownPolicy says when a shard no longer in any partitioning may be turned down:
	// RequireIdle (once nothing is routed to it) or Immediate. Default: RequireIdle.
	TurndownPolicy VitessKeyspaceTurndownPolicy
	// VitessOrchestrator deploys vtorc for every shard.
	VitessOrchestrator *VitessOrchestratorSpec
	// Partitionings split the keyspace into shards. There are at most two: the serving one,
	// and during a reshard the one it becomes.
	Partitionings []VitessKeyspacePartitioning
	// Annotations are added to every Pod of the keyspace.
	Annotations map[string]string
	// ExtraLabels are added to every Pod of the keyspace.
	ExtraLabels map[string]string
	// Snapshot makes the keyspace a read-only copy of another keyspace as its backups had it.
	Snapshot *VitessKeyspaceSnapshot
}

// EffectiveDatabaseName is the MySQL database behind the keyspace: DatabaseName, or Vitess'
// default vt_<name>.
func (t *VitessKeyspaceTemplate) EffectiveDatabaseName() string {
	if t.DatabaseName != "" {
		return t.DatabaseName
	}
	return "vt_" + t.Name
}

// VitessKeyspaceSnapshot is a Vitess SNAPSHOT keyspace's base keyspace and time.
type VitessKeyspaceSnapshot struct {
	BaseKeyspace string
	Time         metav1.Time
}

// VitessKeyspaceTurndownPolicy says when an unwanted shard may be turned down.
type VitessKeyspaceTurndownPolicy string

const (
	TurndownPolicyRequireIdle VitessKeyspaceTurndownPolicy = "RequireIdle"
	TurndownPolicyImmediate   VitessKeyspaceTurndownPolicy = "Immediate"
)

// VitessOrchestratorSpec deploys vtorc.
type VitessOrchestratorSpec struct {
	ComponentSpec
}

// VitessKeyspacePartitioning is one way to split a keyspace into shards. Set exactly one of equal and custom.
type VitessKeyspacePartitioning struct {
	// Equal splits the keyspace into parts of equal size.
	Equal *VitessKeyspaceEqualPartitioning
	// Custom lists the shards' key ranges explicitly.
	Custom *VitessKeyspaceCustomPartitioning
}

// VitessKeyspaceEqualPartitioning splits a keyspace into equal parts.
type VitessKeyspaceEqualPartitioning struct {
	// Parts is the number of shards, 1 to 65536; one VitessCluster has at most 1024 shards and 4096
	// tablets in all. Immutable.
	Parts int32
	// HexWidth is accepted for compatibility with the vitess-operator, which no longer uses it:
	// key ranges are as Vitess generates them (2 hex digits for up to 256 parts, 4 beyond).
	// 0, or an even number from 2 to 16 wide enough for parts. Immutable.
	HexWidth int32
	// ShardTemplate configures every shard of the partitioning.
	ShardTemplate VitessShardTemplate
}

// VitessKeyspaceCustomPartitioning lists shards by key range.
type VitessKeyspaceCustomPartitioning struct {
	// Shards cover the whole keyspace, in order, without gaps or overlaps. Their key ranges are immutable.
	Shards []VitessKeyspaceKeyRangeShard
}

// VitessKeyspaceKeyRangeShard is one shard of a custom partitioning.
type VitessKeyspaceKeyRangeShard struct {
	// KeyRange of the shard.
	KeyRange VitessKeyRange
	VitessShardTemplate
}

// VitessShardTemplate configures the tablets of a shard.
type VitessShardTemplate struct {
	// DatabaseInitScriptSecret holds the SQL run when a tablet's mysqld is initialised.
	DatabaseInitScriptSecret SecretSource
	// TabletPools are the groups of tablets of the shard, one per cell, type and name.
	TabletPools []VitessShardTabletPool
	// Replication tunes how the shard's replication is set up.
	Replication *VitessReplicationSpec
	// Annotations are added to the shard's Pods.
	Annotations map[string]string
	// ExtraLabels are added to the shard's Pods.
	ExtraLabels map[string]string
}

// VitessReplicationSpec tunes shard replication.
type VitessReplicationSpec struct {
	// InitializePrimary elects a primary when the shard has none. Unset means true.
	InitializePrimary *bool
	// InitializeBackup takes a first backup of an empty shard so new tablets can restore. Unset means true.
	InitializeBackup *bool
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
	Cell string
	// Type of the tablets: replica or rdonly.
	Type VitessTabletPoolType
	// Name tells apart pools of the same cell and type.
	Name string
	// Replicas is the number of tablets in the pool, 0 to 64.
	Replicas int32
	// Vttablet configures the vttablet container.
	Vttablet *VttabletSpec
	// Mysqld configures the mysqld container.
	Mysqld *MysqldSpec
	// MysqldExporter configures the metrics exporter container.
	MysqldExporter *MysqldExporterSpec
	// DataVolumeClaimTemplate is the spec of each tablet's data PVC.
	DataVolumeClaimTemplate *corev1.PersistentVolumeClaimSpec
	// BackupLocationName selects one of the cluster's backup locations.
	BackupLocationName string
	// ExtraVolumes adds volumes to the tablet Pods.
	ExtraVolumes []corev1.Volume
	// ExtraVolumeMounts adds mounts to the vttablet and mysqld containers.
	ExtraVolumeMounts []corev1.VolumeMount
	// InitContainers run before the tablet's containers.
	InitContainers []corev1.Container
	// SidecarContainers run beside the tablet's containers.
	SidecarContainers []corev1.Container
	// Affinity replaces the default scheduling rules.
	Affinity *corev1.Affinity
	// NodeSelector constrains the tablet Pods to matching Nodes.
	NodeSelector map[string]string
	// Tolerations are added to the tablet Pods.
	Tolerations []corev1.Toleration
	// TopologySpreadConstraints are added to the tablet Pods.
	TopologySpreadConstraints []corev1.TopologySpreadConstraint
	// Annotations are added to the tablet Pods.
	Annotations map[string]string
	// ExtraLabels are added to the tablet Pods.
	ExtraLabels map[string]string
}

// VttabletSpec configures the vttablet container.
type VttabletSpec struct {
	Resources corev1.ResourceRequirements
	// ExtraFlags are passed to vttablet as --key=value.
	ExtraFlags map[string]string
	ExtraEnv   []corev1.EnvVar
}

// MysqldSpec configures the mysqld container.
type MysqldSpec struct {
	Resources corev1.ResourceRequirements
	// ConfigOverrides is appended to the generated my.cnf.
	ConfigOverrides string
}

// MysqldExporterSpec configures the metrics exporter container.
type MysqldExporterSpec struct {
	Resources corev1.ResourceRequirements
	// ExtraFlags are passed to the exporter as --key=value.
	ExtraFlags map[string]string
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessKeyspace is one keyspace of a VitessCluster, with its shards. The owning VitessCluster
// writes its spec; its action subresources (vschema, schema, movetables, reshard) act on Vitess.
type VitessKeyspace struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Spec   VitessKeyspaceSpec
	Status VitessKeyspaceStatus
}

// VitessKeyspaceSpec is a keyspace as its cluster declares it, with the cluster-wide settings it needs.
type VitessKeyspaceSpec struct {
	VitessKeyspaceTemplate
	// Cluster is the name of the owning VitessCluster.
	Cluster string
	// GlobalLockserver is how the keyspace's components reach the global topology.
	GlobalLockserver VitessLockserverParams
	// Images of the keyspace's components.
	Images VitessImages
	// ZoneMap maps each cell to its zone.
	ZoneMap map[string]string
	// ExtraVitessFlags are passed to every Vitess component of the keyspace.
	ExtraVitessFlags map[string]string
}

// VitessKeyspaceStatus is the observed state of a keyspace.
type VitessKeyspaceStatus struct {
	// ObservedGeneration is the generation this status describes.
	ObservedGeneration int64
	// Conditions: Ready, Progressing, Degraded.
	Conditions []metav1.Condition
	// Shards counts the keyspace's shards: desired and serving.
	Shards ReadyCount
	// Tablets counts the keyspace's tablets: desired and ready.
	Tablets ReadyCount
	// ServingShards lists the shards that serve the primary tablet type, by name.
	ServingShards []string
	// Registered is true once the keyspace exists in the Vitess topology.
	Registered bool
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessKeyspaceList is a list of VitessKeyspaces.
type VitessKeyspaceList struct {
	metav1.TypeMeta
	metav1.ListMeta
	Items []VitessKeyspace
}
