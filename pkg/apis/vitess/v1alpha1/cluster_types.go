package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessCluster is a whole Vitess deployment: its lockserver, cells, keyspaces and their shards.
// All user configuration lives here; the VitessCell, VitessKeyspace, VitessShard and
// EtcdLockserver objects it owns are derived from it.
type VitessCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	Spec   VitessClusterSpec   `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
	Status VitessClusterStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
}

// VitessClusterSpec is the desired cluster. Field names follow the vitess-operator's
// planetscale.com/v2 VitessCluster, so its manifests apply with only the apiVersion changed.
type VitessClusterSpec struct {
	// Images of the Vitess components.
	// +optional
	Images VitessImages `json:"images,omitempty" protobuf:"bytes,1,opt,name=images"`
	// ImagePullPolicies of the Vitess components.
	// +optional
	ImagePullPolicies VitessImagePullPolicies `json:"imagePullPolicies,omitempty" protobuf:"bytes,2,opt,name=imagePullPolicies"`
	// ImagePullSecrets for every Vitess image.
	// +optional
	// +listType=atomic
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty" protobuf:"bytes,3,rep,name=imagePullSecrets"`
	// Backup configures where and how Vitess backups are stored.
	// +optional
	Backup *ClusterBackupSpec `json:"backup,omitempty" protobuf:"bytes,4,opt,name=backup"`
	// GlobalLockserver is the global topology store. Default: deploy an etcd cluster.
	// +optional
	GlobalLockserver LockserverSpec `json:"globalLockserver,omitempty" protobuf:"bytes,5,opt,name=globalLockserver"`
	// VitessDashboard deploys vtctld.
	// +optional
	VitessDashboard *VitessDashboardSpec `json:"vitessDashboard,omitempty" protobuf:"bytes,6,opt,name=vitessDashboard"`
	// Cells are the failure domains keyspaces deploy to; each runs its own vtgate.
	// +listType=map
	// +listMapKey=name
	// +patchMergeKey=name
	// +patchStrategy=merge
	Cells []VitessCellTemplate `json:"cells" patchStrategy:"merge" patchMergeKey:"name" protobuf:"bytes,7,rep,name=cells"`
	// Keyspaces are the logical databases.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +patchMergeKey=name
	// +patchStrategy=merge
	Keyspaces []VitessKeyspaceTemplate `json:"keyspaces,omitempty" patchStrategy:"merge" patchMergeKey:"name" protobuf:"bytes,8,rep,name=keyspaces"`
	// ExtraVitessFlags are passed to vtctld, vtgate and vttablet alike.
	// +optional
	ExtraVitessFlags map[string]string `json:"extraVitessFlags,omitempty" protobuf:"bytes,9,rep,name=extraVitessFlags"`
	// UpdateStrategy says when changes that restart Pods are rolled out.
	// +optional
	UpdateStrategy *VitessClusterUpdateStrategy `json:"updateStrategy,omitempty" protobuf:"bytes,10,opt,name=updateStrategy"`
}

// VitessImages are the container images (with tags) of the Vitess components.
type VitessImages struct {
	// +optional
	Vtctld string `json:"vtctld,omitempty" protobuf:"bytes,1,opt,name=vtctld"`
	// +optional
	Vtgate string `json:"vtgate,omitempty" protobuf:"bytes,2,opt,name=vtgate"`
	// +optional
	Vttablet string `json:"vttablet,omitempty" protobuf:"bytes,3,opt,name=vttablet"`
	// +optional
	Vtorc string `json:"vtorc,omitempty" protobuf:"bytes,4,opt,name=vtorc"`
	// +optional
	Vtbackup string `json:"vtbackup,omitempty" protobuf:"bytes,5,opt,name=vtbackup"`
	// Mysqld is the mysqld image, keyed by the Vitess MySQL flavor it is compatible with.
	// +optional
	Mysqld *MysqldImage `json:"mysqld,omitempty" protobuf:"bytes,6,opt,name=mysqld"`
	// +optional
	MysqldExporter string `json:"mysqldExporter,omitempty" protobuf:"bytes,7,opt,name=mysqldExporter"`
}

// MysqldImage is a mysqld image and the MySQL flavor it speaks. Set exactly one field.
type MysqldImage struct {
	// +optional
	Mysql56Compatible string `json:"mysql56Compatible,omitempty" protobuf:"bytes,1,opt,name=mysql56Compatible"`
	// +optional
	Mysql80Compatible string `json:"mysql80Compatible,omitempty" protobuf:"bytes,2,opt,name=mysql80Compatible"`
	// +optional
	Mysql84Compatible string `json:"mysql84Compatible,omitempty" protobuf:"bytes,3,opt,name=mysql84Compatible"`
	// +optional
	MariadbCompatible string `json:"mariadbCompatible,omitempty" protobuf:"bytes,4,opt,name=mariadbCompatible"`
	// +optional
	Mariadb103Compatible string `json:"mariadb103Compatible,omitempty" protobuf:"bytes,5,opt,name=mariadb103Compatible"`
}

// VitessImagePullPolicies are the pull policies of the Vitess component images.
type VitessImagePullPolicies struct {
	// +optional
	Vtctld corev1.PullPolicy `json:"vtctld,omitempty" protobuf:"bytes,1,opt,name=vtctld,casttype=k8s.io/api/core/v1.PullPolicy"`
	// +optional
	Vtgate corev1.PullPolicy `json:"vtgate,omitempty" protobuf:"bytes,2,opt,name=vtgate,casttype=k8s.io/api/core/v1.PullPolicy"`
	// +optional
	Vttablet corev1.PullPolicy `json:"vttablet,omitempty" protobuf:"bytes,3,opt,name=vttablet,casttype=k8s.io/api/core/v1.PullPolicy"`
	// +optional
	Vtorc corev1.PullPolicy `json:"vtorc,omitempty" protobuf:"bytes,4,opt,name=vtorc,casttype=k8s.io/api/core/v1.PullPolicy"`
	// +optional
	Vtbackup corev1.PullPolicy `json:"vtbackup,omitempty" protobuf:"bytes,5,opt,name=vtbackup,casttype=k8s.io/api/core/v1.PullPolicy"`
	// +optional
	Mysqld corev1.PullPolicy `json:"mysqld,omitempty" protobuf:"bytes,6,opt,name=mysqld,casttype=k8s.io/api/core/v1.PullPolicy"`
	// +optional
	MysqldExporter corev1.PullPolicy `json:"mysqldExporter,omitempty" protobuf:"bytes,7,opt,name=mysqldExporter,casttype=k8s.io/api/core/v1.PullPolicy"`
}

// ClusterBackupSpec configures Vitess backups.
type ClusterBackupSpec struct {
	// Locations where backups are stored; at least one.
	// +listType=atomic
	Locations []VitessBackupLocation `json:"locations" protobuf:"bytes,1,rep,name=locations"`
	// Engine is the Vitess backup engine: builtin or xtrabackup. Default: builtin. xtrabackup
	// needs an image that carries it (the vitess/lite image built here for the tests does not).
	// +optional
	Engine VitessBackupEngine `json:"engine,omitempty" protobuf:"bytes,2,opt,name=engine,casttype=VitessBackupEngine"`
	// Retention, when set, prunes each shard's old backups from the first location, the one
	// vtctld reads; a backup in another location is neither listed nor pruned.
	// +optional
	Retention *VitessBackupRetention `json:"retention,omitempty" protobuf:"bytes,4,opt,name=retention"`
	// Schedules take backups on a schedule, as the vitess-operator's backup.schedules: each
	// strategy becomes one CronJob per shard it covers, owned by the cluster and named
	// <cluster>-<schedule>-<keyspace>-<shard>-<hash> (kubectl get cronjobs -l
	// planetscale.com/backup-schedule=<schedule>). Its Jobs ask the cluster's vtctld to back the
	// shard up (vtctldclient BackupShard), which picks a healthy non-primary tablet. Needs a
	// backup location.
	// +optional
	// +listType=map
	// +listMapKey=name
	Schedules []VitessBackupScheduleTemplate `json:"schedules,omitempty" protobuf:"bytes,3,rep,name=schedules"`
}

// VitessBackupScheduleTemplate is one backup schedule.
type VitessBackupScheduleTemplate struct {
	// Name of the schedule, unique in the cluster: letters, digits and "-".
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`
	// Schedule in cron format ("*/5 * * * *"), in the kube-controller-manager's time zone (UTC
	// unless it runs otherwise). Exactly one of schedule and frequency.
	// +optional
	Schedule string `json:"schedule,omitempty" protobuf:"bytes,2,opt,name=schedule"`
	// Frequency is how often to back up, one of 1m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 24h: each
	// shard gets a cron schedule of that period at its own offset (status: its CronJob's
	// schedule), so shards do not all back up at once. Exactly one of schedule and frequency.
	// +optional
	Frequency string `json:"frequency,omitempty" protobuf:"bytes,3,opt,name=frequency"`
	// BackupMethod is how each backup is taken. vtctldclient (the default here): a Job asks
	// vtctld to back the shard up from one of its serving non-primary tablets. vtbackup, the
	// vitess-operator's default, is refused: this server does not run vtbackup Jobs yet.
	// +optional
	BackupMethod VitessBackupMethod `json:"backupMethod,omitempty" protobuf:"bytes,4,opt,name=backupMethod,casttype=VitessBackupMethod"`
	// Strategies are what the schedule backs up; each is its own CronJob per shard.
	// +listType=map
	// +listMapKey=name
	Strategies []VitessBackupScheduleStrategy `json:"strategies" protobuf:"bytes,5,rep,name=strategies"`
	// Resources of each Job's container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty" protobuf:"bytes,6,opt,name=resources"`
	// SuccessfulJobsHistoryLimit is how many succeeded Jobs each CronJob keeps. Default: 3.
	// +optional
	SuccessfulJobsHistoryLimit *int32 `json:"successfulJobsHistoryLimit,omitempty" protobuf:"varint,7,opt,name=successfulJobsHistoryLimit"`
	// FailedJobsHistoryLimit is how many failed Jobs each CronJob keeps. Default: 1.
	// +optional
	FailedJobsHistoryLimit *int32 `json:"failedJobsHistoryLimit,omitempty" protobuf:"varint,8,opt,name=failedJobsHistoryLimit"`
	// Suspend stops new runs (a running one finishes) until it is false again.
	// +optional
	Suspend *bool `json:"suspend,omitempty" protobuf:"varint,9,opt,name=suspend"`
	// StartingDeadlineSeconds: a run that could not start within this many seconds of its time is
	// skipped and counts as missed.
	// +optional
	StartingDeadlineSeconds *int64 `json:"startingDeadlineSeconds,omitempty" protobuf:"varint,10,opt,name=startingDeadlineSeconds"`
	// ConcurrencyPolicy: Forbid (default) skips a run while the shard's last one still runs;
	// Allow runs them side by side.
	// +optional
	ConcurrencyPolicy VitessBackupConcurrencyPolicy `json:"concurrencyPolicy,omitempty" protobuf:"bytes,11,opt,name=concurrencyPolicy,casttype=VitessBackupConcurrencyPolicy"`
	// AllowedMissedRun is how many missed runs are looked back over before a schedule gives up on
	// them and waits for its next time. Only 100 (the default) is accepted: Kubernetes' CronJob
	// controller, which runs the schedules, has that bound built in.
	// +optional
	AllowedMissedRun *int32 `json:"allowedMissedRun,omitempty" protobuf:"varint,12,opt,name=allowedMissedRun"`
	// JobTimeoutMinute stops a backup Job that runs longer (its activeDeadlineSeconds). Default: 10.
	// +optional
	JobTimeoutMinute int32 `json:"jobTimeoutMinute,omitempty" protobuf:"varint,13,opt,name=jobTimeoutMinute"`
	// Annotations are added to the Jobs' Pods.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty" protobuf:"bytes,14,rep,name=annotations"`
	// Affinity of the Jobs' Pods.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty" protobuf:"bytes,15,opt,name=affinity"`
	// Tolerations of the Jobs' Pods.
	// +optional
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty" protobuf:"bytes,16,rep,name=tolerations"`
}

// VitessBackupMethod is how a scheduled backup is taken: vtctldclient or vtbackup.
type VitessBackupMethod string

const (
	VitessBackupMethodVtctldclient VitessBackupMethod = "vtctldclient"
	VitessBackupMethodVtbackup     VitessBackupMethod = "vtbackup"
)

// VitessBackupScope is what one strategy of a schedule backs up: Shard, Keyspace or Cluster.
type VitessBackupScope string

const (
	VitessBackupScopeShard    VitessBackupScope = "Shard"
	VitessBackupScopeKeyspace VitessBackupScope = "Keyspace"
	VitessBackupScopeCluster  VitessBackupScope = "Cluster"
)

// VitessBackupConcurrencyPolicy is whether a shard's scheduled backup may start while its last
// one runs: Allow or Forbid.
type VitessBackupConcurrencyPolicy string

const (
	VitessBackupConcurrencyAllow  VitessBackupConcurrencyPolicy = "Allow"
	VitessBackupConcurrencyForbid VitessBackupConcurrencyPolicy = "Forbid"
)

// VitessBackupScheduleStrategy is what a schedule backs up.
type VitessBackupScheduleStrategy struct {
	// Name of the strategy, unique in its schedule.
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`
	// Scope: Shard (default) backs up keyspace's shard; Keyspace every shard of keyspace; Cluster
	// every shard of every keyspace that no Keyspace-scope strategy of the cluster's schedules
	// covers, so such a strategy overrides the cluster-wide one for its keyspace.
	// +optional
	Scope VitessBackupScope `json:"scope,omitempty" protobuf:"bytes,2,opt,name=scope,casttype=VitessBackupScope"`
	// Keyspace: a keyspace of the cluster, for the Shard and Keyspace scopes.
	// +optional
	Keyspace string `json:"keyspace,omitempty" protobuf:"bytes,3,opt,name=keyspace"`
	// Shard: one of the keyspace's shards ("-", "-80"), for the Shard scope.
	// +optional
	Shard string `json:"shard,omitempty" protobuf:"bytes,4,opt,name=shard"`
	// ExtraFlags are added to vtctldclient BackupShard as --name=value, e.g. allow-primary: "true",
	// incremental-from-pos: "auto", upgrade-safe: "true".
	// +optional
	ExtraFlags map[string]string `json:"extraFlags,omitempty" protobuf:"bytes,5,rep,name=extraFlags"`
}

// VitessBackupRetention is which of a shard's backups are kept, as vtbackup's
// --min_retention_time and --min_retention_count decide: a backup is pruned only when it is
// older than minRetentionTime and at least minRetentionCount newer complete backups remain.
// Incremental backups count like full ones: a shard that takes one full backup a day and
// incremental ones every hour keeps as many full backups as fit in minRetentionTime, not
// minRetentionCount. A point-in-time restore needs a full backup from before the time restored
// to, so keep a count and a time that span one. No backup is pruned while a restore is pending
// on the shard.
type VitessBackupRetention struct {
	// MinRetentionTime: a backup younger than this is never pruned, e.g. 168h for a week.
	MinRetentionTime *metav1.Duration `json:"minRetentionTime" protobuf:"bytes,1,opt,name=minRetentionTime"`
	// MinRetentionCount: the newest this-many complete backups are never pruned, however old.
	// The newest backup counts only if Vitess confirms it complete: v24 reports no backup's
	// status, and it may be one still being made. At least 1. Default: 1.
	// +optional
	MinRetentionCount int32 `json:"minRetentionCount,omitempty" protobuf:"varint,2,opt,name=minRetentionCount"`
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
	// +optional
	Name string `json:"name,omitempty" protobuf:"bytes,1,opt,name=name"`
	// GCS stores backups in a Google Cloud Storage bucket.
	// +optional
	GCS *GCSBackupLocation `json:"gcs,omitempty" protobuf:"bytes,2,opt,name=gcs"`
	// S3 stores backups in an S3-compatible bucket.
	// +optional
	S3 *S3BackupLocation `json:"s3,omitempty" protobuf:"bytes,3,opt,name=s3"`
	// Azblob stores backups in an Azure Blob Storage container.
	// +optional
	Azblob *AzblobBackupLocation `json:"azblob,omitempty" protobuf:"bytes,6,opt,name=azblob"`
	// Ceph stores backups in a Ceph object store.
	// +optional
	Ceph *CephBackupLocation `json:"ceph,omitempty" protobuf:"bytes,7,opt,name=ceph"`
	// Volume stores backups in a volume mounted into the Pods that back up and restore.
	// +optional
	Volume *corev1.VolumeSource `json:"volume,omitempty" protobuf:"bytes,4,opt,name=volume"`
	// VolumeSubPath is the directory within volume that holds the backups. Default: its root.
	// +optional
	VolumeSubPath string `json:"volumeSubPath,omitempty" protobuf:"bytes,8,opt,name=volumeSubPath"`
	// Annotations are added to Pods that use this location.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty" protobuf:"bytes,5,rep,name=annotations"`
}

// GCSBackupLocation is a Google Cloud Storage bucket.
type GCSBackupLocation struct {
	Bucket string `json:"bucket" protobuf:"bytes,1,opt,name=bucket"`
	// +optional
	KeyPrefix string `json:"keyPrefix,omitempty" protobuf:"bytes,2,opt,name=keyPrefix"`
	// +optional
	AuthSecret *SecretSource `json:"authSecret,omitempty" protobuf:"bytes,3,opt,name=authSecret"`
}

// S3BackupLocation is an S3-compatible bucket.
type S3BackupLocation struct {
	Region string `json:"region" protobuf:"bytes,1,opt,name=region"`
	Bucket string `json:"bucket" protobuf:"bytes,2,opt,name=bucket"`
	// +optional
	Endpoint string `json:"endpoint,omitempty" protobuf:"bytes,3,opt,name=endpoint"`
	// +optional
	KeyPrefix string `json:"keyPrefix,omitempty" protobuf:"bytes,4,opt,name=keyPrefix"`
	// +optional
	ForcePathStyle bool `json:"forcePathStyle,omitempty" protobuf:"varint,5,opt,name=forcePathStyle"`
	// +optional
	AuthSecret *SecretSource `json:"authSecret,omitempty" protobuf:"bytes,6,opt,name=authSecret"`
	// MinPartSize is the smallest part, in bytes, of a multipart upload. Default: Vitess' (5 MiB).
	// +optional
	MinPartSize int64 `json:"minPartSize,omitempty" protobuf:"varint,7,opt,name=minPartSize"`
}

// AzblobBackupLocation is an Azure Blob Storage container.
type AzblobBackupLocation struct {
	Account   string `json:"account" protobuf:"bytes,1,opt,name=account"`
	Container string `json:"container" protobuf:"bytes,2,opt,name=container"`
	// +optional
	KeyPrefix string `json:"keyPrefix,omitempty" protobuf:"bytes,3,opt,name=keyPrefix"`
	// AuthSecret holds the account key.
	AuthSecret SecretSource `json:"authSecret" protobuf:"bytes,4,opt,name=authSecret"`
}

// CephBackupLocation is a Ceph object store.
type CephBackupLocation struct {
	// AuthSecret holds the ceph_backup_config.json Vitess reads (endpoint, credentials, bucket).
	AuthSecret SecretSource `json:"authSecret" protobuf:"bytes,1,opt,name=authSecret"`
}

// VitessDashboardSpec deploys vtctld.
type VitessDashboardSpec struct {
	ComponentSpec `json:",inline" protobuf:"bytes,1,opt,name=componentSpec"`
	// Cells in which to deploy vtctld. Default: all cells.
	// +optional
	// +listType=atomic
	Cells []string `json:"cells,omitempty" protobuf:"bytes,2,rep,name=cells"`
	// Replicas is the number of vtctld Pods per cell. Default: 1.
	// +optional
	Replicas *int32 `json:"replicas,omitempty" protobuf:"varint,3,opt,name=replicas"`
}

// VitessClusterUpdateStrategy says how Pod-restarting changes are rolled out.
type VitessClusterUpdateStrategy struct {
	// Type is Immediate (roll out at once) or External (wait until released). Default: Immediate.
	// +optional
	Type *VitessClusterUpdateStrategyType `json:"type,omitempty" protobuf:"bytes,1,opt,name=type,casttype=VitessClusterUpdateStrategyType"`
	// External tunes the External strategy.
	// +optional
	External *ExternalVitessClusterUpdateStrategyOptions `json:"external,omitempty" protobuf:"bytes,2,opt,name=external"`
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
	// +optional
	// +listType=atomic
	AllowResourceChanges []corev1.ResourceName `json:"allowResourceChanges,omitempty" protobuf:"bytes,1,rep,name=allowResourceChanges,casttype=k8s.io/api/core/v1.ResourceName"`
}

// VitessClusterStatus is the observed state of a cluster.
type VitessClusterStatus struct {
	// ObservedGeneration is the generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty" protobuf:"varint,1,opt,name=observedGeneration"`
	// Conditions: Ready, Progressing, Degraded; BackedUp when the cluster has backup schedules.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" protobuf:"bytes,2,rep,name=conditions"`
	// GatewayServiceName is the cluster-wide vtgate Service.
	// +optional
	GatewayServiceName string `json:"gatewayServiceName,omitempty" protobuf:"bytes,3,opt,name=gatewayServiceName"`
	// GatewayEndpoint is host:port applications connect to with a MySQL client.
	// +optional
	GatewayEndpoint string `json:"gatewayEndpoint,omitempty" protobuf:"bytes,4,opt,name=gatewayEndpoint"`
	// VitessDashboardServiceName is the vtctld Service.
	// +optional
	VitessDashboardServiceName string `json:"vitessDashboardServiceName,omitempty" protobuf:"bytes,5,opt,name=vitessDashboardServiceName"`
	// Cells counts the cells whose vtgate serves, of those declared.
	// +optional
	Cells ReadyCount `json:"cells,omitempty" protobuf:"bytes,6,opt,name=cells"`
	// Keyspaces counts the keyspaces whose shards all serve, of those declared.
	// +optional
	Keyspaces ReadyCount `json:"keyspaces,omitempty" protobuf:"bytes,7,opt,name=keyspaces"`
	// Tablets counts tablets across the cluster: desired and ready.
	// +optional
	Tablets ReadyCount `json:"tablets,omitempty" protobuf:"bytes,8,opt,name=tablets"`
}

// ReadyCount is how many of a desired number of things are ready.
type ReadyCount struct {
	// +optional
	Desired int32 `json:"desired" protobuf:"varint,1,opt,name=desired"`
	// +optional
	Ready int32 `json:"ready" protobuf:"varint,2,opt,name=ready"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessClusterList is a list of VitessClusters.
type VitessClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	Items           []VitessCluster `json:"items" protobuf:"bytes,2,rep,name=items"`
}
