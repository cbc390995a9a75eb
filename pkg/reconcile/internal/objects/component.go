package objects

import (
	"fmt"
	"maps"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

// The stateless Vitess components (vtctld, vtgate, vtorc) run as a Deployment per cell, from the same
// kind of Pod: one Vitess binary as a non-root user, its flags rendered in a stable order, the
// topology flags every component needs, and health probes on its web port.

const (
	// VitessWebPort and VitessGRPCPort are where every Vitess binary serves.
	VitessWebPort  = 15000
	VitessGRPCPort = 15999
	// MysqlPort is where mysqld and vtgate speak MySQL's protocol.
	MysqlPort = 3306
	// EtcdClientPort is where the deployed etcd serves clients.
	EtcdClientPort = 2379
	// VitessUID is the user the vitess/lite images run as.
	VitessUID = 999
)

// StatelessComponent is one component's Deployment in one cell.
type StatelessComponent struct {
	Name       string // the component, e.g. "vtgate"; also the container name
	Deployment string // the Deployment's name
	Cell       string
	Spec       v1alpha1.ComponentSpec
	Replicas   int32
	Image      string
	PullPolicy corev1.PullPolicy
	Flags      map[string]string
	Ports      []corev1.ContainerPort
	Volumes    []corev1.Volume
	Mounts     []corev1.VolumeMount
	Env        []corev1.EnvVar
	// Annotations are added to the Pods' own (the component spec's win).
	Annotations map[string]string
	// WebOnly components serve no gRPC.
	WebOnly bool
	// Labels narrow the Deployment's selector beyond component, cluster and cell.
	Labels map[string]string
}

// ComponentSelector finds the objects of one component of a cluster.
func ComponentSelector(cluster, component string) map[string]string {
	return map[string]string{vitess.LabelComponent: component, vitess.LabelCluster: cluster}
}

// ComponentOwner is what a component's objects take from the object that controls them: the
// cluster for vtctld and vtgate, a shard for vtorc and the tablets.
type ComponentOwner struct {
	Cluster          string
	Namespace        string
	Ref              metav1.OwnerReference
	Lockserver       v1alpha1.VitessLockserverParams
	ExtraVitessFlags map[string]string
	PullSecrets      []corev1.LocalObjectReference
}

// Meta is the metadata of an object the owner controls; the labels gain the cluster's.
func (o ComponentOwner) Meta(name string, labels map[string]string) metav1.ObjectMeta {
	labels[vitess.LabelCluster] = o.Cluster
	return metav1.ObjectMeta{Name: name, Namespace: o.Namespace, Labels: labels, OwnerReferences: []metav1.OwnerReference{o.Ref}}
}

// VitessFlags are the flags every Vitess binary takes: the global topology, where it listens,
// and logging to stderr so that kubectl logs shows it.
func (o ComponentOwner) VitessFlags(grpc bool) map[string]string {
	flags := map[string]string{
		"topo-implementation":        o.Lockserver.Implementation,
		"topo-global-server-address": o.Lockserver.Address,
		"topo-global-root":           o.Lockserver.RootPath,
		"port":                       fmt.Sprint(VitessWebPort),
		"logtostderr":                "true",
	}
	if grpc {
		flags["grpc-port"] = fmt.Sprint(VitessGRPCPort)
	}
	return flags
}

// NonRootPod runs every container as the Vitess images' user.
var NonRootPod = &corev1.PodSecurityContext{
	RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](VitessUID), RunAsGroup: ptr.To[int64](VitessUID), FSGroup: ptr.To[int64](VitessUID),
	SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
}

// RestrictedContainer is a container's share of the restricted Pod Security Standard.
func RestrictedContainer() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

// VitessHealth is the health endpoint every Vitess binary serves on its web port.
var VitessHealth = corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/debug/health", Port: intstr.FromString("web")}}

// Build is the component's Deployment, controlled by owner.
func (c StatelessComponent) Build(owner ComponentOwner) *appsv1.Deployment {
	flags := owner.VitessFlags(!c.WebOnly)
	for _, layer := range []map[string]string{c.Flags, owner.ExtraVitessFlags, c.Spec.ExtraFlags} {
		for flag, value := range layer {
			flags[flag] = value
		}
	}
	labels := ComponentSelector(owner.Cluster, c.Name)
	labels[vitess.LabelCell] = c.Cell
	for k, v := range c.Labels {
		labels[k] = v
	}
	podLabels := CopyMap(labels)
	for k, v := range c.Spec.ExtraLabels {
		podLabels[k] = v
	}
	image := c.Image
	if image == "" {
		image = vitess.DefaultVitessImage
	}
	ports := []corev1.ContainerPort{{Name: "web", ContainerPort: VitessWebPort, Protocol: corev1.ProtocolTCP}}
	if !c.WebOnly {
		ports = append(ports, corev1.ContainerPort{Name: "grpc", ContainerPort: VitessGRPCPort, Protocol: corev1.ProtocolTCP})
	}
	ports = append(ports, c.Ports...)
	deployment := &appsv1.Deployment{
		ObjectMeta: owner.Meta(c.Deployment, CopyMap(labels)),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(c.Replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: CopyMap(k8slabels.Merge(c.Annotations, c.Spec.Annotations))},
				Spec: corev1.PodSpec{
					ImagePullSecrets: owner.PullSecrets,
					Affinity:         c.Spec.Affinity,
					Tolerations:      c.Spec.Tolerations,
					SecurityContext:  NonRootPod,
					Containers: []corev1.Container{{
						Name:            c.Name,
						Image:           image,
						ImagePullPolicy: c.PullPolicy,
						Command:         []string{"/vt/bin/" + c.Name},
						Args:            FlagArgs(flags),
						Env:             append(slices.Clone(c.Env), c.Spec.ExtraEnv...),
						Ports:           ports,
						Resources:       c.Spec.Resources,
						ReadinessProbe:  &corev1.Probe{ProbeHandler: VitessHealth, PeriodSeconds: 10},
						LivenessProbe:   &corev1.Probe{ProbeHandler: VitessHealth, PeriodSeconds: 10, FailureThreshold: 30},
						VolumeMounts:    append(c.Mounts, c.Spec.ExtraVolumeMounts...),
						SecurityContext: RestrictedContainer(),
					}},
					Volumes: append(c.Volumes, c.Spec.ExtraVolumes...),
				},
			},
		},
	}
	StampHash(&deployment.ObjectMeta, deployment.Spec)
	return deployment
}

// CopyMap is a copy of in, nil when it is empty.
func CopyMap(in map[string]string) map[string]string {
	if len(in) == 0 {
		return nil
	}
	return maps.Clone(in)
}
