package vitess

import (
	corev1 "k8s.io/api/core/v1"
)

// SecretSource names one key of a Secret in the object's namespace.
type SecretSource struct {
	// Name of the Secret.
	Name string
	// Key within the Secret's data.
	Key string
	// VolumeName overrides the name of the volume the Secret is mounted as.
	VolumeName string
}

// VitessKeyRange is a range of keyspace IDs, as hex strings. An empty start or end is unbounded.
type VitessKeyRange struct {
	// Start is the inclusive lower bound, hex encoded. Empty means the beginning of the keyspace.
	Start string
	// End is the exclusive upper bound, hex encoded. Empty means the end of the keyspace.
	End string
}

// ComponentSpec holds the deployment settings every Vitess component shares.
type ComponentSpec struct {
	// Resources reserved for each container of the component.
	Resources corev1.ResourceRequirements
	// ExtraFlags are passed to the Vitess binary as --key=value, overriding the defaults.
	ExtraFlags map[string]string
	// ExtraEnv adds or overrides environment variables.
	ExtraEnv []corev1.EnvVar
	// ExtraVolumes adds volumes to the Pod.
	ExtraVolumes []corev1.Volume
	// ExtraVolumeMounts adds mounts to the main container.
	ExtraVolumeMounts []corev1.VolumeMount
	// Affinity replaces the default scheduling rules.
	Affinity *corev1.Affinity
	// Annotations are added to the component's Pods.
	Annotations map[string]string
	// ExtraLabels are added to the component's Pods.
	ExtraLabels map[string]string
	// Tolerations are added to the component's Pods.
	Tolerations []corev1.Toleration
}

// Condition types reported by every kind.
const (
	// ConditionReady is True when the object's components are all serving.
	ConditionReady = "Ready"
	// ConditionProgressing is True while the object is converging on its spec.
	ConditionProgressing = "Progressing"
	// ConditionDegraded is True when something stops the object from converging.
	ConditionDegraded = "Degraded"
)
