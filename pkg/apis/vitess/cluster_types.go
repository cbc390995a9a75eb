package vitess

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessCluster is a whole Vitess deployment: its lockserver, cells, keyspaces and their shards.
// All user configuration lives here; the VitessCell, VitessKeyspace, VitessShard and
// EtcdLockserver objects it owns are derived from it.
type VitessCluster struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Spec   VitessClusterSpec
	Status VitessClusterStatus
}

// VitessClusterSpec is the desired cluster. Field names follow the vitess-operator's
// planetscale.com/v2 VitessCluster, so its manifests apply with only the apiVersion changed.
type VitessClusterSpec struct {
	// Images of the Vitess components.
	Images VitessImages
	// ImagePullPolicies of the Vitess components.
	ImagePullPolicies VitessImagePullPolicies
	// ImagePullSecrets for every Vitess image.
	ImagePullSecrets []corev1.LocalObjectReference
	// Backup configures where and how Vitess backups are stored.
	Backup *ClusterBackupSpec
	// GlobalLockserver is the global topology store. Default: deploy an etcd cluster.
	GlobalLockserver LockserverSpec
	// VitessDashboard deploys vtctld.
	VitessDashboard *VitessDashboardSpec
	// Cells are the failure domains keyspaces deploy to; each runs its own vtgate.
	Cells []VitessCellTemplate
	// Keyspaces are the logical databases.
	Keyspaces []VitessKeyspaceTemplate
	// ExtraVitessFlags are passed to vtctld, vtgate and vttablet alike.
	ExtraVitessFlags map[string]string
	// UpdateStrategy says when changes that restart Pods are rolled out.
	UpdateStrategy *VitessClusterUpdateStrategy
}

// VitessImages are the container images (with tags) of the Vitess components.
type VitessImages struct {
	Vtctld   string
	Vtgate   string
	Vttablet string
	Vtorc    string
	Vtbackup string
	// Mysqld is the mysqld image, keyed by the Vitess MySQL flavor it is compatible with.
	Mysqld         *MysqldImage
	MysqldExporter string
}

// MysqldImage is a mysqld image and the MySQL flavor it speaks. Set exactly one field.
type MysqldImage struct {
	Mysql56Compatible    string
	Mysql80Compatible    string
	Mysql84Compatible    string
	MariadbCompatible    string
	Mariadb103Compatible string
}

// VitessImagePullPolicies are the pull policies of the Vitess component images.
type VitessImagePullPolicies struct {
	Vtctld         corev1.PullPolicy
	Vtgate         corev1.PullPolicy
	Vttablet       corev1.PullPolicy
	Vtorc          corev1.PullPolicy
	Vtbackup       corev1.PullPolicy
	Mysqld         corev1.PullPolicy
	MysqldExporter corev1.PullPolicy
}

// ClusterBackupSpec configures Vitess backups.
type ClusterBackupSpec struct {
	// Locations where backups are stored; at least one.
	Locations []VitessBackupLocation
	// Engine is the Vitess backup engine: builtin or xtrabackup. Default: builtin. xtrabackup
	// needs an image that carries it (the vitess/lite image built here for the tests does not).
	Engine VitessBackupEngine
	// Retention, when set, prunes each shard's old backups from vtctld's location (the first).
	Retention *VitessBackupRetention
	// Schedules take backups on a schedule, each as CronJobs owned by the cluster.
	Schedules []VitessBackupScheduleTemplate
}

// VitessBackupScheduleTemplate is one backup schedule, as the vitess-operator's backup.schedules.
type VitessBackupScheduleTemplate struct {
	Name                       string
	Schedule                   string
	Frequency                  string
	BackupMethod               VitessBackupMethod
	Strategies                 []VitessBackupScheduleStrategy
	Resources                  corev1.ResourceRequirements
	SuccessfulJobsHistoryLimit *int32
	FailedJobsHistoryLimit     *int32
	Suspend                    *bool
	StartingDeadlineSeconds    *int64
	ConcurrencyPolicy          VitessBackupConcurrencyPolicy
	AllowedMissedRun           *int32
	JobTimeoutMinute           int32
	Annotations                map[string]string
	Affinity                   *corev1.Affinity
	Tolerations                []corev1.Toleration
}

// VitessBackupMethod is how a scheduled backup is taken.
type VitessBackupMethod string

const (
	VitessBackupMethodVtctldclient VitessBackupMethod = "vtctldclient"
	VitessBackupMethodVtbackup     VitessBackupMethod = "vtbackup"
)

// VitessBackupScope is what one strategy of a schedule backs up.
type VitessBackupScope string

const (
	VitessBackupScopeShard    VitessBackupScope = "Shard"
	VitessBackupScopeKeyspace VitessBackupScope = "Keyspace"
	VitessBackupScopeCluster  VitessBackupScope = "Cluster"
)

// VitessBackupConcurrencyPolicy is whether a scheduled backup may start while the last one runs.
type VitessBackupConcurrencyPolicy string

const (
	VitessBackupConcurrencyAllow  VitessBackupConcurrencyPolicy = "Allow"
	VitessBackupConcurrencyForbid VitessBackupConcurrencyPolicy = "Forbid"
)

// VitessBackupScheduleStrategy names what a schedule backs up.
type VitessBackupScheduleStrategy struct {
	Name       string
	Scope      VitessBackupScope
	Keyspace   string
	Shard      string
	ExtraFlags map[string]string
}

// VitessBackupRetention is which of a shard's backups are kept, as vtbackup's
// --min_retention_time and --min_retention_count decide: a backup is pruned only when it is
// older than MinRetentionTime and at least MinRetentionCount newer complete backups remain.
// Incremental backups count like full ones. A point-in-time restore needs a full backup from
// before the time, so keep a count and a time that span one.
type VitessBackupRetention struct {
	// MinRetentionTime: a backup younger than this is never pruned. Required.
	MinRetentionTime *metav1.Duration
	// MinRetentionCount: the newest this-many complete backups are never pruned. At least 1;
	// default 1.
	MinRetentionCount int32
}

// VitessBackupEngine is a Vitess backup implementation.
type VitessBackupEngine string

const (
	VitessBackupEngineBuiltin    VitessBackupEngine = "builtin"
	VitessBackupEngineXtraBackup VitessBackupEngine = "xtrabackup"
)

// VitessBackupLocation is one place backups are stored. Set exactly one storage field.
type VitessBackupLocation struct {
	// Name identifies the location; tablet pools select it by backupLocationName. Empty is the default location.
	Name string
	// GCS stores backups in a Google Cloud Storage bucket.
	GCS *GCSBackupLocation
	// S3 stores backups in an S3-compatible bucket.
	S3 *S3BackupLocation
	// Azblob stores backups in an Azure Blob Storage container.
	Azblob *AzblobBackupLocation
	// Ceph stores backups in a Ceph object store.
	Ceph *CephBackupLocation
	// Volume stores backups in a volume mounted into the Pods that back up and restore.
	Volume *corev1.VolumeSource
	// VolumeSubPath is the directory within Volume that holds the backups. Default: its root.
	VolumeSubPath string
	// Annotations are added to Pods that use this location.
	Annotations map[string]string
}

// GCSBackupLocation is a Google Cloud Storage bucket.
type GCSBackupLocation struct {
	Bucket     string
	KeyPrefix  string
	AuthSecret *SecretSource
}

// S3BackupLocation is an S3-compatible bucket.
type S3BackupLocation struct {
	Region         string
	Bucket         string
	Endpoint       string
	KeyPrefix      string
	ForcePathStyle bool
	AuthSecret     *SecretSource
	// MinPartSize is the smallest part, in bytes, of a multipart upload. Default: Vitess' (5 MiB).
	MinPartSize int64
}

// AzblobBackupLocation is an Azure Blob Storage container.
type AzblobBackupLocation struct {
	Account   string
	Container string
	KeyPrefix string
	// AuthSecret holds the account key.
	AuthSecret SecretSource
}

// CephBackupLocation is a Ceph object store.
type CephBackupLocation struct {
	// AuthSecret holds the ceph_backup_config.json Vitess reads (endpoint, credentials, bucket).
	AuthSecret SecretSource
}

// VitessDashboardSpec deploys vtctld.
type VitessDashboardSpec struct {
	ComponentSpec
	// Cells in which to deploy vtctld. Default: all cells.
	Cells []string
	// Replicas is the number of vtctld Pods per cell. Default: 1.
	Replicas *int32
}

// VitessClusterUpdateStrategy says how Pod-restarting changes are rolled out.
type VitessClusterUpdateStrategy struct {
	// Type is Immediate (roll out at once) or External (wait until released). Default: Immediate.
	Type *VitessClusterUpdateStrategyType
	// External tunes the External strategy.
	External *ExternalVitessClusterUpdateStrategyOptions
}

// VitessClusterUpdateStrategyType is a rollout strategy.
type VitessClusterUpdateStrategyType string

const (
	UpdateStrategyImmediate VitessClusterUpdateStrategyType = "Immediate"
	UpdateStrategyExternal  VitessClusterUpdateStrategyType = "External"
)

// ExternalVitessClusterUpdateStrategyOptions tunes the External rollout strategy.
type ExternalVitessClusterUpdateStrategyOptions struct {
	// AllowResourceChanges lists resources whose requests and limits apply immediately anyway.
	AllowResourceChanges []corev1.ResourceName
}

// VitessClusterStatus is the observed state of a cluster.
type VitessClusterStatus struct {
	// ObservedGeneration is the generation this status describes.
	ObservedGeneration int64
	// Conditions: Ready, Progressing, Degraded.
	Conditions []metav1.Condition
	// GatewayServiceName is the cluster-wide vtgate Service.
	GatewayServiceName string
	// GatewayEndpoint is host:port applications connect to with a MySQL client.
	GatewayEndpoint string
	// VitessDashboardServiceName is the vtctld Service.
	VitessDashboardServiceName string
	// Cells counts the cells whose vtgate serves, of those declared.
	Cells ReadyCount
	// Keyspaces counts the keyspaces whose shards all serve, of those declared.
	Keyspaces ReadyCount
	// Tablets counts tablets across the cluster: desired and ready.
	Tablets ReadyCount
}

// ReadyCount is how many of a desired number of things are ready.
type ReadyCount struct {
	Desired int32
	Ready   int32
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessClusterList is a list of VitessClusters.
type VitessClusterList struct {
	metav1.TypeMeta
	metav1.ListMeta
	Items []VitessCluster
}
