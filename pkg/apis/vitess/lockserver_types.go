package vitess

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LockserverSpec selects either an etcd cluster deployed for Vitess or an existing lockserver.
type LockserverSpec struct {
	// External connects to an existing lockserver instead of deploying one.
	External *VitessLockserverParams
	// Etcd deploys an etcd cluster as the lockserver.
	Etcd *EtcdLockserverTemplate
}

// VitessLockserverParams is what Vitess needs to reach a lockserver.
type VitessLockserverParams struct {
	// Implementation is the Vitess topo plugin, e.g. "etcd2".
	Implementation string
	// Address is the host:port of the lockserver's client endpoint.
	Address string
	// RootPath prefixes every key this cluster stores in the lockserver.
	RootPath string
}

// EtcdLockserverTemplate configures an etcd cluster deployed as a Vitess lockserver.
type EtcdLockserverTemplate struct {
	// Image is the etcd container image.
	Image string
	// ImagePullPolicy for the etcd image.
	ImagePullPolicy corev1.PullPolicy
	// ImagePullSecrets for the etcd image.
	ImagePullSecrets []corev1.LocalObjectReference
	// Resources reserved for each etcd member.
	Resources corev1.ResourceRequirements
	// DataVolumeClaimTemplate is the PVC spec of each member's data volume.
	DataVolumeClaimTemplate *corev1.PersistentVolumeClaimSpec
	// ExtraFlags are passed to etcd as --key=value.
	ExtraFlags map[string]string
	// ExtraEnv adds environment variables to etcd.
	ExtraEnv []corev1.EnvVar
	// ExtraVolumes adds volumes to each member's Pod.
	ExtraVolumes []corev1.Volume
	// ExtraVolumeMounts adds mounts to the etcd container.
	ExtraVolumeMounts []corev1.VolumeMount
	// Affinity replaces the default scheduling rules.
	Affinity *corev1.Affinity
	// Annotations are added to each member's Pod.
	Annotations map[string]string
	// ExtraLabels are added to each member's Pod.
	ExtraLabels map[string]string
	// Tolerations are added to each member's Pod.
	Tolerations []corev1.Toleration
	// CreatePDB creates a PodDisruptionBudget that keeps a quorum. Default: true.
	CreatePDB *bool
	// CreateClientService creates the Service clients use. Default: true.
	CreateClientService *bool
	// CreatePeerService creates the headless Service members use to find each other. Default: true.
	CreatePeerService *bool
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// EtcdLockserver is an etcd cluster that serves as a Vitess lockserver.
// A VitessCluster creates and owns one for its global lockserver.
type EtcdLockserver struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Spec   EtcdLockserverSpec
	Status EtcdLockserverStatus
}

// EtcdLockserverSpec is the desired etcd cluster.
type EtcdLockserverSpec struct {
	EtcdLockserverTemplate
	// Zone confines the members to one failure domain (topology.kubernetes.io/zone).
	Zone string
}

// EtcdLockserverStatus is the observed state of an etcd cluster.
type EtcdLockserverStatus struct {
	// ObservedGeneration is the generation this status describes.
	ObservedGeneration int64
	// Conditions: Ready, Progressing, Degraded.
	Conditions []metav1.Condition
	// ClientServiceName is the Service that Vitess connects to.
	ClientServiceName string
	// Members counts etcd members: deployed and passing their readiness probe.
	Members ReadyCount
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// EtcdLockserverList is a list of EtcdLockservers.
type EtcdLockserverList struct {
	metav1.TypeMeta
	metav1.ListMeta
	Items []EtcdLockserver
}
