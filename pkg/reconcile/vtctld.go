package reconcile

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
)

// vtctld, the Vitess dashboard and control API, runs as a Deployment in each dashboard cell behind
// one cluster-wide Service.

const (
	componentVtctld = "vtctld"
	// DefaultVitessImage is used for a component whose image the cluster does not name.
	DefaultVitessImage = "vitess/lite:v24.0.0"
	vitessWebPort      = 15000
	vitessGRPCPort     = 15999
	// vitessUID is the user the vitess/lite images run as.
	vitessUID = 999
)

// vtctldCells are the cells that run vtctld: the dashboard's, or every cell.
func vtctldCells(cluster *v1alpha1.VitessCluster) []string {
	if dashboard := cluster.Spec.VitessDashboard; dashboard != nil && len(dashboard.Cells) > 0 {
		return dashboard.Cells
	}
	var cells []string
	for _, cell := range cluster.Spec.Cells {
		cells = append(cells, cell.Name)
	}
	return cells
}

func vtctldSelector(cluster *v1alpha1.VitessCluster) map[string]string {
	return map[string]string{LabelComponent: componentVtctld, LabelCluster: cluster.Name}
}

// vtctldDeployment runs vtctld in one cell.
func vtctldDeployment(cluster *v1alpha1.VitessCluster, cell string) *appsv1.Deployment {
	dashboard := cluster.Spec.VitessDashboard
	if dashboard == nil {
		dashboard = &v1alpha1.VitessDashboardSpec{}
	}
	lockserver := globalLockserverParams(cluster)
	flags := map[string]string{
		"cell":                       cell,
		"topo-implementation":        lockserver.Implementation,
		"topo-global-server-address": lockserver.Address,
		"topo-global-root":           lockserver.RootPath,
		"port":                       fmt.Sprint(vitessWebPort),
		"grpc-port":                  fmt.Sprint(vitessGRPCPort),
		"service-map":                "grpc-vtctl,grpc-vtctld",
		"logtostderr":                "true",
	}
	for _, extra := range []map[string]string{cluster.Spec.ExtraVitessFlags, dashboard.ExtraFlags} {
		for flag, value := range extra {
			flags[flag] = value
		}
	}
	labels := vtctldSelector(cluster)
	labels[LabelCell] = cell
	podLabels := copyMap(labels)
	for k, v := range dashboard.ExtraLabels {
		podLabels[k] = v
	}
	image := cluster.Spec.Images.Vtctld
	if image == "" {
		image = DefaultVitessImage
	}
	health := corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/debug/health", Port: intstr.FromString("web")}}
	deployment := &appsv1.Deployment{
		ObjectMeta: childMeta(cluster, names.VtctldDeploymentName(cluster.Name, cell), copyMap(labels)),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(ptr.Deref(dashboard.Replicas, 1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: copyMap(dashboard.Annotations)},
				Spec: corev1.PodSpec{
					ImagePullSecrets: cluster.Spec.ImagePullSecrets,
					Affinity:         dashboard.Affinity,
					Tolerations:      dashboard.Tolerations,
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](vitessUID), RunAsGroup: ptr.To[int64](vitessUID), FSGroup: ptr.To[int64](vitessUID),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{{
						Name:            componentVtctld,
						Image:           image,
						ImagePullPolicy: cluster.Spec.ImagePullPolicies.Vtctld,
						Command:         []string{"/vt/bin/vtctld"},
						Args:            flagArgs(flags),
						Env:             dashboard.ExtraEnv,
						Ports: []corev1.ContainerPort{
							{Name: "web", ContainerPort: vitessWebPort, Protocol: corev1.ProtocolTCP},
							{Name: "grpc", ContainerPort: vitessGRPCPort, Protocol: corev1.ProtocolTCP},
						},
						Resources:      dashboard.Resources,
						ReadinessProbe: &corev1.Probe{ProbeHandler: health, PeriodSeconds: 10},
						LivenessProbe:  &corev1.Probe{ProbeHandler: health, PeriodSeconds: 10, FailureThreshold: 30},
						VolumeMounts:   dashboard.ExtraVolumeMounts,
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
							Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
						},
					}},
					Volumes: dashboard.ExtraVolumes,
				},
			},
		},
	}
	stampHash(&deployment.ObjectMeta, deployment.Spec)
	return deployment
}

// vtctldService is the cluster's vtctld Service: the web dashboard and the gRPC API that
// vtctldclient and this server's actions use.
func vtctldService(cluster *v1alpha1.VitessCluster) *corev1.Service {
	labels := vtctldSelector(cluster)
	return &corev1.Service{
		ObjectMeta: childMeta(cluster, names.VtctldServiceName(cluster.Name), copyMap(labels)),
		Spec: corev1.ServiceSpec{
			Selector: labels,
			Ports: []corev1.ServicePort{
				{Name: "web", Port: vitessWebPort, TargetPort: intstr.FromString("web"), Protocol: corev1.ProtocolTCP},
				{Name: "grpc", Port: vitessGRPCPort, TargetPort: intstr.FromString("grpc"), Protocol: corev1.ProtocolTCP},
			},
		},
	}
}
