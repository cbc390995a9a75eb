package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LockserverSpec selects either an etcd cluster deployed for Vitess or an existing lockserver.
type LockserverSpec struct {
	// External connects to an existing lockserver instead of deploying one.
	// +optional
	External *VitessLockserverParams `json:"external,omitempty" protobuf:"bytes,1,opt,name=external"`
	// Etcd deploys an etcd cluster as the lockserver.
	// +optional
	Etcd *EtcdLockserverTemplate `json:"etcd,omitempty" protobuf:"bytes,2,opt,name=etcd"`
}

// VitessLockserverParams is what Vitess needs to reach a lockserver.
type VitessLockserverParams struct {
	// Implementation is the Vitess topo plugin, e.g. "etcd2".
	Implementation string `json:"implementation" protobuf:"bytes,1,opt,name=implementation"`
	// Address is the host:port of the lockserver's client endpoint.
	Address string `json:"address" protobuf:"bytes,2,opt,name=address"`
	// RootPath prefixes every key this cluster stores in the lockserver.
	RootPath string `json:"rootPath" protobuf:"bytes,3,opt,name=rootPath"`
}

// EtcdLockserverTemplate configures an etcd cluster deployed as a Vitess lockserver.
type EtcdLockserverTemplate struct {
	// Image is the etcd container image.
	// +optional
	Image string `json:"image,omitempty" protobuf:"bytes,1,opt,name=image"`
	// ImagePullPolicy for the etcd image.
	// +optional
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty" protobuf:"bytes,2,opt,name=imagePullPolicy,casttype=k8s.io/api/core/v1.PullPolicy"`
	// ImagePullSecrets for the etcd image.
	// +optional
	// +listType=atomic
	ImagePullSecrets []corev1.LocalObjectReference `json:"imagePullSecrets,omitempty" protobuf:"bytes,3,rep,name=imagePullSecrets"`
	// Resources reserved for each etcd member.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty" protobuf:"bytes,4,opt,name=resources"`
	// DataVolumeClaimTemplate is the PVC spec of each member's data volume.
	// +optional
	DataVolumeClaimTemplate *corev1.PersistentVolumeClaimSpec `json:"dataVolumeClaimTemplate,omitempty" protobuf:"bytes,5,opt,name=dataVolumeClaimTemplate"`
	// ExtraFlags are passed to etcd as --key=value.
	// +optional
	ExtraFlags map[string]string `json:"extraFlags,omitempty" protobuf:"bytes,6,rep,name=extraFlags"`
	// ExtraEnv adds environment variables to etcd.
	// +optional
	// +listType=atomic
	ExtraEnv []corev1.EnvVar `json:"extraEnv,omitempty" protobuf:"bytes,7,rep,name=extraEnv"`
	// ExtraVolumes adds volumes to each member's Pod.
	// +optional
	// +listType=atomic
	ExtraVolumes []corev1.Volume `json:"extraVolumes,omitempty" protobuf:"bytes,8,rep,name=extraVolumes"`
	// ExtraVolumeMounts adds mounts to the etcd container.
	// +optional
	// +listType=atomic
	ExtraVolumeMounts []corev1.VolumeMount `json:"extraVolumeMounts,omitempty" protobuf:"bytes,9,rep,name=extraVolumeMounts"`
	// Affinity replaces the default scheduling rules.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty" protobuf:"bytes,10,opt,name=affinity"`
	// Annotations are added to each member's Pod.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty" protobuf:"bytes,11,rep,name=annotations"`
	// ExtraLabels are added to each member's Pod.
	// +optional
	ExtraLabels map[string]string `json:"extraLabels,omitempty" protobuf:"bytes,12,rep,name=extraLabels"`
	// Tolerations are added to each member's Pod.
	// +optional
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty" protobuf:"bytes,13,rep,name=tolerations"`
	// CreatePDB creates a PodDisruptionBudget that keeps a quorum. Default: true.
	// +optional
	CreatePDB *bool `json:"createPDB,omitempty" protobuf:"varint,14,opt,name=createPDB"`
	// CreateClientService creates the Service clients use. Default: true.
	// +optional
	CreateClientService *bool `json:"createClientService,omitempty" protobuf:"varint,15,opt,name=createClientService"`
	// CreatePeerService creates the headless Service members use to find each other. Default: true.
	// +optional
	CreatePeerService *bool `json:"createPeerService,omitempty" protobuf:"varint,16,opt,name=createPeerService"`
}

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// EtcdLockserver is an etcd cluster that serves as a Vitess lockserver.
// A VitessCluster creates and owns one for its global lockserver.
type EtcdLockserver struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	Spec   EtcdLockserverSpec   `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
	Status EtcdLockserverStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
}

// EtcdLockserverSpec is the desired etcd cluster.
type EtcdLockserverSpec struct {
	EtcdLockserverTemplate `json:",inline" protobuf:"bytes,1,opt,name=etcdLockserverTemplate"`
	// Zone confines the members to one failure domain (topology.kubernetes.io/zone).
	// +optional
	Zone string `json:"zone,omitempty" protobuf:"bytes,2,opt,name=zone"`
}

// EtcdLockserverStatus is the observed state of an etcd cluster.
type EtcdLockserverStatus struct {
	// ObservedGeneration is the generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty" protobuf:"varint,1,opt,name=observedGeneration"`
	// Conditions: Ready, Progressing, Degraded.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" protobuf:"bytes,2,rep,name=conditions"`
	// ClientServiceName is the Service that Vitess connects to.
	// +optional
	ClientServiceName string `json:"clientServiceName,omitempty" protobuf:"bytes,3,opt,name=clientServiceName"`
	// Members counts etcd members: deployed and passing their readiness probe.
	// +optional
	Members ReadyCount `json:"members,omitempty" protobuf:"bytes,4,opt,name=members"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// EtcdLockserverList is a list of EtcdLockservers.
type EtcdLockserverList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	Items           []EtcdLockserver `json:"items" protobuf:"bytes,2,rep,name=items"`
}
