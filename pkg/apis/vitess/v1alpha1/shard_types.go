package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessShard is one shard of a keyspace: a key range and the tablets that hold it.
// A VitessKeyspace's shards are the union of its partitionings, one per distinct key range.
type VitessShard struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VitessShardSpec   `json:"spec,omitempty"`
	Status VitessShardStatus `json:"status,omitempty"`
}

// VitessShardSpec is a shard as its keyspace declares it.
type VitessShardSpec struct {
	VitessShardTemplate `json:",inline"`
	// Name of the shard as Vitess knows it, e.g. "-80" or "-". Immutable.
	Name string `json:"name"`
	// KeyspaceName is the keyspace the shard belongs to. Immutable.
	KeyspaceName string `json:"keyspaceName"`
	// KeyRange of the shard. Immutable.
	KeyRange VitessKeyRange `json:"keyRange"`
	// Cluster is the name of the owning VitessCluster.
	Cluster string `json:"cluster"`
	// DurabilityPolicy of the keyspace.
	// +optional
	DurabilityPolicy string `json:"durabilityPolicy,omitempty"`
	// GlobalLockserver is how the shard's components reach the global topology.
	// +optional
	GlobalLockserver VitessLockserverParams `json:"globalLockserver,omitempty"`
	// Images of the shard's components.
	// +optional
	Images VitessImages `json:"images,omitempty"`
	// ZoneMap maps each cell to its zone.
	// +optional
	ZoneMap map[string]string `json:"zoneMap,omitempty"`
	// ExtraVitessFlags are passed to every Vitess component of the shard.
	// +optional
	ExtraVitessFlags map[string]string `json:"extraVitessFlags,omitempty"`
	// DatabaseName is the MySQL database behind the keyspace; empty means "vt_<keyspace>".
	// +optional
	DatabaseName string `json:"databaseName,omitempty"`
	// ImagePullPolicies of the shard's components.
	// +optional
	ImagePullPolicies VitessImagePullPolicies `json:"imagePullPolicies,omitempty"`
	// ImagePullSecrets for the shard's images.
	// +optional
	// +listType=atomic
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty"`
	// UpdateStrategy says when changed tablet Pods may be replaced.
	// +optional
	UpdateStrategy *VitessClusterUpdateStrategy `json:"updateStrategy,omitempty"`
	// VitessOrchestrator, when set, runs VTOrc for the shard in every cell that has its tablets.
	// +optional
	VitessOrchestrator *VitessOrchestratorSpec `json:"vitessOrchestrator,omitempty"`
}

// VitessShardStatus is the observed state of a shard.
type VitessShardStatus struct {
	// ObservedGeneration is the generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, Progressing, Degraded.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Tablets counts the shard's tablets: desired and ready.
	// +optional
	Tablets ReadyCount `json:"tablets,omitempty"`
	// PrimaryAlias is the tablet alias of the shard's primary, when one is elected.
	// +optional
	PrimaryAlias string `json:"primaryAlias,omitempty"`
	// Serving is true while the shard serves the primary tablet type.
	// +optional
	Serving bool `json:"serving,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessShardList is a list of VitessShards.
type VitessShardList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VitessShard `json:"items"`
}
