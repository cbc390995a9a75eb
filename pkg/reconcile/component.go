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

// The stateless Vitess components (vtctld, vtgate, vtorc) run as a Deployment per cell, from the same
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
	// webOnly components serve no gRPC.
	webOnly bool
	// labels narrow the Deployment's selector beyond component, cluster and cell.
	labels map[string]string
}

func componentSelector(cluster, component string) map[string]string {
	return map[string]string{LabelComponent: component, LabelCluster: cluster}
}

// componentOwner is what a component's objects take from the object that controls them: the
// cluster for vtctld and vtgate, a shard for vtorc and the tablets.
type componentOwner struct {
	cluster          string
	namespace        string
	ref              metav1.OwnerReference
	lockserver       v1alpha1.VitessLockserverParams
	extraVitessFlags map[string]string
	pullSecrets      []corev1.LocalObjectReference
}

func ownedByCluster(cluster *v1alpha1.VitessCluster) componentOwner {
	return componentOwner{
		cluster:          cluster.Name,
		namespace:        cluster.Namespace,
		ref:              *metav1.NewControllerRef(cluster, v1alpha1.SchemeGroupVersion.WithKind("VitessCluster")),
		lockserver:       globalLockserverParams(cluster),
		extraVitessFlags: cluster.Spec.ExtraVitessFlags,
		pullSecrets:      cluster.Spec.ImagePullSecrets,
	}
}

func ownedByShard(shard *v1alpha1.VitessShard) componentOwner {
	return componentOwner{
		cluster:          shard.Spec.Cluster,
		namespace:        shard.Namespace,
		ref:              *metav1.NewControllerRef(shard, v1alpha1.SchemeGroupVersion.WithKind("VitessShard")),
		lockserver:       shard.Spec.GlobalLockserver,
		extraVitessFlags: shard.Spec.ExtraVitessFlags,
		pullSecrets:      shard.Spec.ImagePullSecrets,
	}
}

// meta is the metadata of an object the owner controls; the labels gain the cluster's.
func (o componentOwner) meta(name string, labels map[string]string) metav1.ObjectMeta {
	labels[LabelCluster] = o.cluster
	return metav1.ObjectMeta{Name: name, Namespace: o.namespace, Labels: labels, OwnerReferences: []metav1.OwnerReference{o.ref}}
}

// vitessFlags are the flags every Vitess binary takes: the global topology, where it listens,
// and logging to stderr so that kubectl logs shows it.
func (o componentOwner) vitessFlags(grpc bool) map[string]string {
	flags := map[string]string{
		"topo-implementation":        o.lockserver.Implementation,
		"topo-global-server-address": o.lockserver.Address,
		"topo-global-root":           o.lockserver.RootPath,
		"port":                       fmt.Sprint(vitessWebPort),
		"logtostderr":                "true",
	}
	if grpc {
		flags["grpc-port"] = fmt.Sprint(vitessGRPCPort)
	}
	return flags
}

// nonRootPod runs every container as the Vitess images' user.
var nonRootPod = &corev1.PodSecurityContext{
	RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](vitessUID), RunAsGroup: ptr.To[int64](vitessUID), FSGroup: ptr.To[int64](vitessUID),
	SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
}

// restrictedContainer is a container's share of the restricted Pod Security Standard.
func restrictedContainer() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

// vitessHealth is the health endpoint every Vitess binary serves on its web port.
var vitessHealth = corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/debug/health", Port: intstr.FromString("web")}}

func (c statelessComponent) build(owner componentOwner) *appsv1.Deployment {
	flags := owner.vitessFlags(!c.webOnly)
	for _, layer := range []map[string]string{c.flags, owner.extraVitessFlags, c.spec.ExtraFlags} {
		for flag, value := range layer {
			flags[flag] = value
		}
	}
	labels := componentSelector(owner.cluster, c.name)
	labels[LabelCell] = c.cell
	for k, v := range c.labels {
		labels[k] = v
	}
	podLabels := copyMap(labels)
	for k, v := range c.spec.ExtraLabels {
		podLabels[k] = v
	}
	image := c.image
	if image == "" {
		image = DefaultVitessImage
	}
	ports := []corev1.ContainerPort{{Name: "web", ContainerPort: vitessWebPort, Protocol: corev1.ProtocolTCP}}
	if !c.webOnly {
		ports = append(ports, corev1.ContainerPort{Name: "grpc", ContainerPort: vitessGRPCPort, Protocol: corev1.ProtocolTCP})
	}
	ports = append(ports, c.ports...)
	deployment := &appsv1.Deployment{
		ObjectMeta: owner.meta(c.deployment, copyMap(labels)),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(c.replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: copyMap(c.spec.Annotations)},
				Spec: corev1.PodSpec{
					ImagePullSecrets: owner.pullSecrets,
					Affinity:         c.spec.Affinity,
					Tolerations:      c.spec.Tolerations,
					SecurityContext:  nonRootPod,
					Containers: []corev1.Container{{
						Name:            c.name,
						Image:           image,
						ImagePullPolicy: c.pullPolicy,
						Command:         []string{"/vt/bin/" + c.name},
						Args:            flagArgs(flags),
						Env:             c.spec.ExtraEnv,
						Ports:           ports,
						Resources:       c.spec.Resources,
						ReadinessProbe:  &corev1.Probe{ProbeHandler: vitessHealth, PeriodSeconds: 10},
						LivenessProbe:   &corev1.Probe{ProbeHandler: vitessHealth, PeriodSeconds: 10, FailureThreshold: 30},
						VolumeMounts:    append(c.mounts, c.spec.ExtraVolumeMounts...),
						SecurityContext: restrictedContainer(),
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
		ObjectMeta: ownedByCluster(cluster).meta(name, copyMap(selector)),
		Spec: corev1.ServiceSpec{
			Selector: selector,
			Ports: append([]corev1.ServicePort{
				{Name: "web", Port: vitessWebPort, TargetPort: intstr.FromString("web"), Protocol: corev1.ProtocolTCP},
				{Name: "grpc", Port: vitessGRPCPort, TargetPort: intstr.FromString("grpc"), Protocol: corev1.ProtocolTCP},
			}, extra...),
		},
	}
}
