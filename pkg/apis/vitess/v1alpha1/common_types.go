package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
)

// SecretSource names one key of a Secret in the object's namespace.
type SecretSource struct {
	// Name of the Secret.
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`
	// Key within the Secret's data.
	Key string `json:"key" protobuf:"bytes,2,opt,name=key"`
	// VolumeName overrides the name of the volume the Secret is mounted as.
	// +optional
	VolumeName string `json:"volumeName,omitempty" protobuf:"bytes,3,opt,name=volumeName"`
}

// VitessKeyRange is a range of keyspace IDs, as hex strings. An empty start or end is unbounded.
type VitessKeyRange struct {
	// Start is the inclusive lower bound, hex encoded. Empty means the beginning of the keyspace.
	// +optional
	Start string `json:"start" protobuf:"bytes,1,opt,name=start"`
	// End is the exclusive upper bound, hex encoded. Empty means the end of the keyspace.
	// +optional
	End string `json:"end" protobuf:"bytes,2,opt,name=end"`
}

// ComponentSpec holds the deployment settings every Vitess component shares.
type ComponentSpec struct {
	// Resources reserved for each container of the component.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty" protobuf:"bytes,1,opt,name=resources"`
	// ExtraFlags are passed to the Vitess binary as --key=value, overriding the defaults.
	// +optional
	ExtraFlags map[string]string `json:"extraFlags,omitempty" protobuf:"bytes,2,rep,name=extraFlags"`
	// ExtraEnv adds or overrides environment variables.
	// +optional
	// +listType=atomic
	ExtraEnv []corev1.EnvVar `json:"extraEnv,omitempty" protobuf:"bytes,3,rep,name=extraEnv"`
	// ExtraVolumes adds volumes to the Pod.
	// +optional
	// +listType=atomic
	ExtraVolumes []corev1.Volume `json:"extraVolumes,omitempty" protobuf:"bytes,4,rep,name=extraVolumes"`
	// ExtraVolumeMounts adds mounts to the main container.
	// +optional
	// +listType=atomic
	ExtraVolumeMounts []corev1.VolumeMount `json:"extraVolumeMounts,omitempty" protobuf:"bytes,5,rep,name=extraVolumeMounts"`
	// Affinity replaces the default scheduling rules.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty" protobuf:"bytes,6,opt,name=affinity"`
	// Annotations are added to the component's Pods.
	// +optional
	Annotations map[string]string `json:"annotations,omitempty" protobuf:"bytes,7,rep,name=annotations"`
	// ExtraLabels are added to the component's Pods.
	// +optional
	ExtraLabels map[string]string `json:"extraLabels,omitempty" protobuf:"bytes,8,rep,name=extraLabels"`
	// Tolerations are added to the component's Pods.
	// +optional
	// +listType=atomic
	Tolerations []corev1.Toleration `json:"tolerations,omitempty" protobuf:"bytes,9,rep,name=tolerations"`
}

// Condition types reported by every kind.
const (
	// ConditionReady is True when the object's components are all serving.
	ConditionReady = "Ready"
	// ConditionProgressing is True while the object is converging on its spec.
	ConditionProgressing = "Progressing"
	// ConditionDegraded is True when something stops the object from converging.
	ConditionDegraded = "Degraded"
	// ConditionRegistered, on cells and keyspaces, is True once the Vitess topology has them.
	ConditionRegistered = "Registered"
	// ConditionCreated is True once a VitessWorkflow exists in Vitess.
	ConditionCreated = "Created"
	// ConditionBackedUp, on shards with a backup location and initializeBackup, is True once the
	// shard has a complete backup; False says why not yet (its first backup failed, or waits). On
	// a cluster with backup schedules, it is True when the last scheduled backup of every shard
	// succeeded, False when one failed, Unknown until each has run.
	ConditionBackedUp = "BackedUp"
)
