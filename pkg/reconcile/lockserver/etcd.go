package lockserver

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
)

// The objects of an EtcdLockserver: EtcdMembers member Pods, each with its own PVC, a client
// Service, a headless peer Service through which members find each other by DNS, and a
// PodDisruptionBudget that keeps a quorum through voluntary disruptions.

const (
	etcdPeerPort    = 2380
	etcdMetricsPort = 2381
	etcdDataDir     = "/var/etcd"
	etcdUID         = 65532
)

var defaultEtcdStorage = resource.MustParse("1Gi")

func etcdLabels(lockserver *v1alpha1.EtcdLockserver) map[string]string {
	labels := map[string]string{vitess.LabelComponent: vitess.ComponentEtcd, vitess.LabelLockserver: lockserver.Name}
	if cluster := lockserver.Labels[vitess.LabelCluster]; cluster != "" {
		labels[vitess.LabelCluster] = cluster
	}
	return labels
}

func etcdSelector(lockserver *v1alpha1.EtcdLockserver) map[string]string {
	return map[string]string{vitess.LabelComponent: vitess.ComponentEtcd, vitess.LabelLockserver: lockserver.Name}
}

func lockserverOwner(lockserver *v1alpha1.EtcdLockserver) []metav1.OwnerReference {
	return []metav1.OwnerReference{*metav1.NewControllerRef(lockserver, v1alpha1.SchemeGroupVersion.WithKind("EtcdLockserver"))}
}

func etcdPeerURL(lockserver *v1alpha1.EtcdLockserver, index int) string {
	return fmt.Sprintf("http://%s.%s.%s.svc:%d", names.EtcdMemberPodName(lockserver.Name, index),
		names.EtcdPeerServiceName(lockserver.Name), lockserver.Namespace, etcdPeerPort)
}

// etcdMemberPod is member index (1-based) of the lockserver. Its data lives on the PVC of the
// same name, which outlives the Pod.
func etcdMemberPod(lockserver *v1alpha1.EtcdLockserver, index int) *corev1.Pod {
	spec := &lockserver.Spec
	name := names.EtcdMemberPodName(lockserver.Name, index)
	var initialCluster []string
	for member := 1; member <= names.EtcdMembers; member++ {
		initialCluster = append(initialCluster, names.EtcdMemberPodName(lockserver.Name, member)+"="+etcdPeerURL(lockserver, member))
	}
	flags := map[string]string{
		"name":                        name,
		"data-dir":                    etcdDataDir + "/data",
		"listen-client-urls":          fmt.Sprintf("http://0.0.0.0:%d", objects.EtcdClientPort),
		"advertise-client-urls":       fmt.Sprintf("http://%s.%s.%s.svc:%d", name, names.EtcdPeerServiceName(lockserver.Name), lockserver.Namespace, objects.EtcdClientPort),
		"listen-peer-urls":            fmt.Sprintf("http://0.0.0.0:%d", etcdPeerPort),
		"initial-advertise-peer-urls": etcdPeerURL(lockserver, index),
		"listen-metrics-urls":         fmt.Sprintf("http://0.0.0.0:%d", etcdMetricsPort),
		"initial-cluster":             strings.Join(initialCluster, ","),
		"initial-cluster-state":       "new",
		"initial-cluster-token":       lockserver.Name,
	}
	for flag, value := range spec.ExtraFlags {
		flags[flag] = value
	}
	labels := etcdLabels(lockserver)
	labels[vitess.LabelEtcdIndex] = fmt.Sprint(index)
	for k, v := range spec.ExtraLabels {
		labels[k] = v
	}
	image := spec.Image
	if image == "" {
		image = vitess.DefaultEtcdImage
	}
	health := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromInt32(etcdMetricsPort)}}, PeriodSeconds: 10}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: lockserver.Namespace, Labels: labels, Annotations: objects.CopyMap(spec.Annotations),
			OwnerReferences: lockserverOwner(lockserver),
		},
		Spec: corev1.PodSpec{
			// Hostname and subdomain give the member the DNS name its peer URL advertises.
			Hostname:         name,
			Subdomain:        names.EtcdPeerServiceName(lockserver.Name),
			ImagePullSecrets: spec.ImagePullSecrets,
			Affinity:         spec.Affinity,
			Tolerations:      spec.Tolerations,
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](etcdUID), RunAsGroup: ptr.To[int64](etcdUID), FSGroup: ptr.To[int64](etcdUID),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name:            "etcd",
				Image:           image,
				ImagePullPolicy: spec.ImagePullPolicy,
				Command:         []string{"etcd"},
				Args:            objects.FlagArgs(flags),
				Env:             spec.ExtraEnv,
				Ports: []corev1.ContainerPort{
					{Name: "client", ContainerPort: objects.EtcdClientPort, Protocol: corev1.ProtocolTCP},
					{Name: "peer", ContainerPort: etcdPeerPort, Protocol: corev1.ProtocolTCP},
					{Name: "metrics", ContainerPort: etcdMetricsPort, Protocol: corev1.ProtocolTCP},
				},
				Resources:      spec.Resources,
				ReadinessProbe: health,
				LivenessProbe:  &corev1.Probe{ProbeHandler: health.ProbeHandler, PeriodSeconds: 10, FailureThreshold: 30},
				VolumeMounts:   append([]corev1.VolumeMount{{Name: "data", MountPath: etcdDataDir}}, spec.ExtraVolumeMounts...),
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
			Volumes: append([]corev1.Volume{{
				Name:         "data",
				VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: names.EtcdMemberPVCName(lockserver.Name, index)}},
			}}, spec.ExtraVolumes...),
		},
	}
	objects.StampSpecHash(pod)
	return pod
}

// etcdMemberPVC is the data volume of member index. It has no owner: it is kept when the
// lockserver or its cluster is deleted, so that no data is lost by a deletion.
func etcdMemberPVC(lockserver *v1alpha1.EtcdLockserver, index int) *corev1.PersistentVolumeClaim {
	spec := corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: defaultEtcdStorage}},
	}
	if lockserver.Spec.DataVolumeClaimTemplate != nil {
		spec = *lockserver.Spec.DataVolumeClaimTemplate.DeepCopy()
	}
	labels := etcdLabels(lockserver)
	labels[vitess.LabelEtcdIndex] = fmt.Sprint(index)
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: names.EtcdMemberPVCName(lockserver.Name, index), Namespace: lockserver.Namespace, Labels: labels},
		Spec:       spec,
	}
}

// etcdServices are the client Service Vitess connects to and the headless peer Service.
func etcdServices(lockserver *v1alpha1.EtcdLockserver) []*corev1.Service {
	var services []*corev1.Service
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: lockserver.Namespace, Labels: etcdLabels(lockserver), OwnerReferences: lockserverOwner(lockserver)}
	}
	if ptr.Deref(lockserver.Spec.CreateClientService, true) {
		services = append(services, &corev1.Service{
			ObjectMeta: meta(names.EtcdClientServiceName(lockserver.Name)),
			Spec: corev1.ServiceSpec{
				Selector: etcdSelector(lockserver),
				Ports:    []corev1.ServicePort{{Name: "client", Port: objects.EtcdClientPort, TargetPort: intstr.FromString("client"), Protocol: corev1.ProtocolTCP}},
			},
		})
	}
	if ptr.Deref(lockserver.Spec.CreatePeerService, true) {
		services = append(services, &corev1.Service{
			ObjectMeta: meta(names.EtcdPeerServiceName(lockserver.Name)),
			Spec: corev1.ServiceSpec{
				ClusterIP: corev1.ClusterIPNone,
				Selector:  etcdSelector(lockserver),
				// Members must resolve each other before they are ready: readiness needs a quorum.
				PublishNotReadyAddresses: true,
				Ports: []corev1.ServicePort{
					{Name: "peer", Port: etcdPeerPort, TargetPort: intstr.FromString("peer"), Protocol: corev1.ProtocolTCP},
					{Name: "client", Port: objects.EtcdClientPort, TargetPort: intstr.FromString("client"), Protocol: corev1.ProtocolTCP},
				},
			},
		})
	}
	return services
}

// etcdPDB keeps a majority of members through voluntary disruptions.
func etcdPDB(lockserver *v1alpha1.EtcdLockserver) *policyv1.PodDisruptionBudget {
	if !ptr.Deref(lockserver.Spec.CreatePDB, true) {
		return nil
	}
	quorum := intstr.FromInt32(names.EtcdMembers/2 + 1)
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: names.EtcdPDBName(lockserver.Name), Namespace: lockserver.Namespace,
			Labels: etcdLabels(lockserver), OwnerReferences: lockserverOwner(lockserver)},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &quorum, Selector: &metav1.LabelSelector{MatchLabels: etcdSelector(lockserver)}},
	}
}
