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
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VitessClusterSpec   `json:"spec,omitempty"`
	Status VitessClusterStatus `json:"status,omitempty"`
}

// VitessClusterSpec is the desired cluster. Field names follow the vitess-operator's
// planetscale.com/v2 VitessCluster, so its manifests apply with only the apiVersion changed.
type VitessClusterSpec struct {
	// Images of the Vitess components.
	// +optional
	Images VitessImages `json:"images,omitempty"`
	// ImagePullPolicies of the Vitess components.
	// +optional
	ImagePullPolicies VitessImagePullPolicies `json:"imagePullPolicies,omitempty"`
	// ImagePullSecrets for every Vitess image.
	// +optional
	// +listType=atomic
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`
	// Backup configures where and how Vitess backups are stored.
	// +optional
	Backup *ClusterBackupSpec `json:"backup,omitempty"`
	// GlobalLockserver is the global topology store. Default: deploy an etcd cluster.
	// +optional
	GlobalLockserver LockserverSpec `json:"globalLockserver,omitempty"`
	// VitessDashboard deploys vtctld.
	// +optional
	VitessDashboard *VitessDashboardSpec `json:"vitessDashboard,omitempty"`
	// Cells are the failure domains keyspaces deploy to; each runs its own vtgate.
	// +listType=map
	// +listMapKey=name
	// +patchMergeKey=name
	// +patchStrategy=merge
	Cells []VitessCellTemplate `json:"cells" patchStrategy:"merge" patchMergeKey:"name"`
	// Keyspaces are the logical databases.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +patchMergeKey=name
	// +patchStrategy=merge
	Keyspaces []VitessKeyspaceTemplate `json:"keyspaces,omitempty" patchStrategy:"merge" patchMergeKey:"name"`
	// ExtraVitessFlags are passed to vtctld, vtgate and vttablet alike.
	// +optional
	ExtraVitessFlags map[string]string `json:"extraVitessFlags,omitempty"`
	// UpdateStrategy says when changes that restart Pods are rolled out.
	// +optional
	UpdateStrategy *VitessClusterUpdateStrategy `json:"updateStrategy,omitempty"`
}

// VitessImages are the container images (with tags) of the Vitess components.
type VitessImages struct {
	// +optional
	Vtctld string `json:"vtctld,omitempty"`
	// +optional
	Vtgate string `json:"vtgate,omitempty"`
	// +optional
	Vttablet string `json:"vttablet,omitempty"`
	// +optional
	Vtorc string `json:"vtorc,omitempty"`
	// +optional
	Vtbackup string `json:"vtbackup,omitempty"`
	// Mysqld is the mysqld image, keyed by the Vitess MySQL flavor it is compatible with.
	// +optional
	Mysqld *MysqldImage `json:"mysqld,omitempty"`
	// +optional
	MysqldExporter string `json:"mysqldExporter,omitempty"`
}

// MysqldImage is a mysqld image and the MySQL flavor it speaks. Set exactly one field.
type MysqldImage struct {
	// +optional
	Mysql56Compatible string `json:"mysql56Compatible,omitempty"`
	// +optional
	Mysql80Compatible string `json:"mysql80Compatible,omitempty"`
	// +optional
	Mysql84Compatible string `json:"mysql84Compatible,omitempty"`
	// +optional
	MariadbCompatible string `json:"mariadbCompatible,omitempty"`
	// +optional
	Mariadb103Compatible string `json:"mariadb103Compatible,omitempty"`
}

// VitessImagePullPolicies are the pull policies of the Vitess component images.
type VitessImagePullPolicies struct {
	// +optional
	Vtctld corev1.PullPolicy `json:"vtctld,omitempty"`
	// +optional
	Vtgate corev1.PullPolicy `json:"vtgate,omitempty"`
	// +optional
	Vttablet corev1.PullPolicy `json:"vttablet,omitempty"`
	// +optional
	Vtorc corev1.PullPolicy `json:"vtorc,omitempty"`
	// +optional
	Vtbackup corev1.PullPolicy `json:"vtbackup,omitempty"`
	// +optional
	Mysqld corev1.PullPolicy `json:"mysqld,omitempty"`
	// +optional
	MysqldExporter corev1.PullPolicy `json:"mysqldExporter,omitempty"`
}

// ClusterBackupSpec configures Vitess backups.
type ClusterBackupSpec struct {
	// Locations where backups are stored; at least one.
	// +listType=atomic
	Locations []VitessBackupLocation `json:"locations"`
	// Engine is the Vitess backup engine: builtin or xtrabackup. Default: builtin.
	// +optional
	Engine VitessBackupEngine `json:"engine,omitempty"`
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
	Name string `json:"name,omitempty"`
	// GCS stores backups in a Google Cloud Storage bucket.
	// +optional
	GCS *GCSBackupLocation `json:"gcs,omitempty"`
	// S3 stores backups in an S3-compatible bucket.
	// +optional
	S3 *S3BackupLocation `json:"s3,omitempty"`
	// Volume stores backups in a volume mounted into the tablet Pods.
	// +optional
	Volume *corev1.VolumeSource `json:"volume,omitempty"`
	// Annotations are added to Pods that use this location.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// GCSBackupLocation is a Google Cloud Storage bucket.
type GCSBackupLocation struct {
	Bucket string `json:"bucket"`
	// +optional
	KeyPrefix string `json:"keyPrefix,omitempty"`
	// +optional
	AuthSecret *SecretSource `json:"authSecret,omitempty"`
}

// S3BackupLocation is an S3-compatible bucket.
type S3BackupLocation struct {
	Region string `json:"region"`
	Bucket string `json:"bucket"`
	// +optional
	Endpoint string `json:"endpoint,omitempty"`
	// +optional
	KeyPrefix string `json:"keyPrefix,omitempty"`
	// +optional
	ForcePathStyle bool `json:"forcePathStyle,omitempty"`
	// +optional
	AuthSecret *SecretSource `json:"authSecret,omitempty"`
}

// VitessDashboardSpec deploys vtctld.
type VitessDashboardSpec struct {
	ComponentSpec `json:",inline"`
	// Cells in which to deploy vtctld. Default: all cells.
	// +optional
	// +listType=atomic
	Cells []string `json:"cells,omitempty"`
	// Replicas is the number of vtctld Pods per cell. Default: 1.
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`
}

// VitessClusterUpdateStrategy says how Pod-restarting changes are rolled out.
type VitessClusterUpdateStrategy struct {
	// Type is Immediate (roll out at once) or External (wait until released). Default: Immediate.
	// +optional
	Type *VitessClusterUpdateStrategyType `json:"type,omitempty"`
	// External tunes the External strategy.
	// +optional
	External *ExternalVitessClusterUpdateStrategyOptions `json:"external,omitempty"`
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
	AllowResourceChanges []corev1.ResourceName `json:"allowResourceChanges,omitempty"`
}

// VitessClusterStatus is the observed state of a cluster.
type VitessClusterStatus struct {
	// ObservedGeneration is the generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, Progressing, Degraded.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// GatewayServiceName is the cluster-wide vtgate Service.
	// +optional
	GatewayServiceName string `json:"gatewayServiceName,omitempty"`
	// GatewayEndpoint is host:port applications connect to with a MySQL client.
	// +optional
	GatewayEndpoint string `json:"gatewayEndpoint,omitempty"`
	// VitessDashboardServiceName is the vtctld Service.
	// +optional
	VitessDashboardServiceName string `json:"vitessDashboardServiceName,omitempty"`
	// Cells counts the cells whose vtgate serves, of those declared.
	// +optional
	Cells ReadyCount `json:"cells,omitempty"`
	// Keyspaces counts the keyspaces whose shards all serve, of those declared.
	// +optional
	Keyspaces ReadyCount `json:"keyspaces,omitempty"`
	// Tablets counts tablets across the cluster: desired and ready.
	// +optional
	Tablets ReadyCount `json:"tablets,omitempty"`
}

// ReadyCount is how many of a desired number of things are ready.
type ReadyCount struct {
	// +optional
	Desired int32 `json:"desired"`
	// +optional
	Ready int32 `json:"ready"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessClusterList is a list of VitessClusters.
type VitessClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VitessCluster `json:"items"`
}
