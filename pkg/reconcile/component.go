package reconcile

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

// The stateless Vitess components (vtctld, vtgate) run as a Deployment per cell, from the same
// kind of Pod: one Vitess binary as a non-root user, its flags rendered in a stable order, the
// topology flags every component needs, and health probes on its web port.

const (
	// DefaultVitessImage is used for a component whose image the cluster does not name.
	DefaultVitessImage = "vitess/lite:v24.0.0"
	vitessWebPort      = 15000
	vitessGRPCPort     = 15999
	// vitessUID is the user the vitess/lite images run as.
	vitessUID = 999
)

// statelessComponent is one component's Deployment in one cell.
type statelessComponent struct {
	name       string // the component, e.g. "vtgate"; also the container name
	deployment string // the Deployment's name
	cell       string
	spec       v1alpha1.ComponentSpec
	replicas   int32
	image      string
	pullPolicy corev1.PullPolicy
	flags      map[string]string
	ports      []corev1.ContainerPort
	volumes    []corev1.Volume
	mounts     []corev1.VolumeMount
}

func componentSelector(cluster *v1alpha1.VitessCluster, component string) map[string]string {
	return map[string]string{LabelComponent: component, LabelCluster: cluster.Name}
}

// topologyFlags point a component at the cluster's global topology.
func topologyFlags(cluster *v1alpha1.VitessCluster) map[string]string {
	lockserver := globalLockserverParams(cluster)
	return map[string]string{
		"topo-implementation":        lockserver.Implementation,
		"topo-global-server-address": lockserver.Address,
		"topo-global-root":           lockserver.RootPath,
		"port":                       fmt.Sprint(vitessWebPort),
		"grpc-port":                  fmt.Sprint(vitessGRPCPort),
		"logtostderr":                "true",
	}
}

func (c statelessComponent) build(cluster *v1alpha1.VitessCluster) *appsv1.Deployment {
	flags := topologyFlags(cluster)
	for _, layer := range []map[string]string{c.flags, cluster.Spec.ExtraVitessFlags, c.spec.ExtraFlags} {
		for flag, value := range layer {
			flags[flag] = value
		}
	}
	labels := componentSelector(cluster, c.name)
	labels[LabelCell] = c.cell
	podLabels := copyMap(labels)
	for k, v := range c.spec.ExtraLabels {
		podLabels[k] = v
	}
	image := c.image
	if image == "" {
		image = DefaultVitessImage
	}
	health := corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/debug/health", Port: intstr.FromString("web")}}
	ports := append([]corev1.ContainerPort{
		{Name: "web", ContainerPort: vitessWebPort, Protocol: corev1.ProtocolTCP},
		{Name: "grpc", ContainerPort: vitessGRPCPort, Protocol: corev1.ProtocolTCP},
	}, c.ports...)
	deployment := &appsv1.Deployment{
		ObjectMeta: childMeta(cluster, c.deployment, copyMap(labels)),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(c.replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: copyMap(c.spec.Annotations)},
				Spec: corev1.PodSpec{
					ImagePullSecrets: cluster.Spec.ImagePullSecrets,
					Affinity:         c.spec.Affinity,
					Tolerations:      c.spec.Tolerations,
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](vitessUID), RunAsGroup: ptr.To[int64](vitessUID), FSGroup: ptr.To[int64](vitessUID),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{{
						Name:            c.name,
						Image:           image,
						ImagePullPolicy: c.pullPolicy,
						Command:         []string{"/vt/bin/" + c.name},
						Args:            flagArgs(flags),
						Env:             c.spec.ExtraEnv,
						Ports:           ports,
						Resources:       c.spec.Resources,
						ReadinessProbe:  &corev1.Probe{ProbeHandler: health, PeriodSeconds: 10},
						LivenessProbe:   &corev1.Probe{ProbeHandler: health, PeriodSeconds: 10, FailureThreshold: 30},
						VolumeMounts:    append(c.mounts, c.spec.ExtraVolumeMounts...),
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
							Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
						},
					}},
					Volumes: append(c.volumes, c.spec.ExtraVolumes...),
				},
			},
		},
	}
	stampHash(&deployment.ObjectMeta, deployment.Spec)
	return deployment
}

// componentService exposes a component's web and gRPC ports, and any more it names.
func componentService(cluster *v1alpha1.VitessCluster, name string, selector map[string]string, extra ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: childMeta(cluster, name, copyMap(selector)),
		Spec: corev1.ServiceSpec{
			Selector: selector,
			Ports: append([]corev1.ServicePort{
				{Name: "web", Port: vitessWebPort, TargetPort: intstr.FromString("web"), Protocol: corev1.ProtocolTCP},
				{Name: "grpc", Port: vitessGRPCPort, TargetPort: intstr.FromString("grpc"), Protocol: corev1.ProtocolTCP},
			}, extra...),
		},
	}
}
