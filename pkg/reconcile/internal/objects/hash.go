package objects

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// FlagArgs renders flags as --name=value, sorted so that the same flags always make the same Pod.
func FlagArgs(flags map[string]string) []string {
	args := make([]string, 0, len(flags))
	for flag, value := range flags {
		args = append(args, "--"+flag+"="+value)
	}
	sort.Strings(args)
	return args
}

// StampSpecHash records what the Pod was made from.
func StampSpecHash(pod *corev1.Pod) {
	StampHash(&pod.ObjectMeta, struct {
		Labels map[string]string
		Spec   corev1.PodSpec
	}{pod.Labels, pod.Spec})
}

// StampHash records the hash of what an object was made from in its vitess.AnnotationSpecHash.
func StampHash(meta *metav1.ObjectMeta, source any) {
	data, err := json.Marshal(source)
	if err != nil {
		panic(err) // API types always marshal
	}
	sum := sha256.Sum256(data)
	if meta.Annotations == nil {
		meta.Annotations = map[string]string{}
	}
	meta.Annotations[vitess.AnnotationSpecHash] = hex.EncodeToString(sum[:8])
}

// ContainerRunning tells whether the pod's container of that name runs.
func ContainerRunning(pod *corev1.Pod, name string) bool {
	for _, status := range pod.Status.ContainerStatuses {
		if status.Name == name {
			return status.State.Running != nil
		}
	}
	return false
}

// PodReady tells whether the Pod's Ready condition is true.
func PodReady(pod *corev1.Pod) bool {
	for _, condition := range pod.Status.Conditions {
		if condition.Type == corev1.PodReady {
			return condition.Status == corev1.ConditionTrue
		}
	}
	return false
}
