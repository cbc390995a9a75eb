package cluster

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
)

// vtgate, the MySQL-speaking query router, runs as a Deployment in every cell, behind a Service
// per cell and a cluster-wide one that applications use.

const (
	// vtgateAuthDir is where the static authentication file is mounted.
	vtgateAuthDir = "/vt/secrets/vtgate-static-auth"
)

// vtgateDeployment runs vtgate in a cell, with the cell's static users file when it names one.
func vtgateDeployment(cluster *v1alpha1.VitessCluster, cell v1alpha1.VitessCellTemplate) *appsv1.Deployment {
	component := objects.StatelessComponent{
		Name:       vitess.ComponentVtgate,
		Deployment: names.VtgateDeploymentName(cluster.Name, cell.Name),
		Cell:       cell.Name,
		Spec:       cell.Gateway.ComponentSpec,
		Replicas:   ptr.Deref(cell.Gateway.Replicas, 1),
		Image:      cluster.Spec.Images.Vtgate,
		PullPolicy: cluster.Spec.ImagePullPolicies.Vtgate,
		Flags: map[string]string{
			"cell":                   cell.Name,
			"cells-to-watch":         cell.Name,
			"tablet-types-to-wait":   "PRIMARY,REPLICA",
			"service-map":            "grpc-vtgateservice",
			"mysql-server-port":      "3306",
			"mysql-auth-server-impl": "none",
		},
		Ports: []corev1.ContainerPort{{Name: "mysql", ContainerPort: objects.MysqlPort, Protocol: corev1.ProtocolTCP}},
	}
	if static := cell.Gateway.Authentication.Static; static != nil && static.Secret != nil {
		volume := static.Secret.VolumeName
		if volume == "" {
			volume = "vtgate-static-auth"
		}
		component.Flags["mysql-auth-server-impl"] = "static"
		component.Flags["mysql-auth-server-static-file"] = vtgateAuthDir + "/" + static.Secret.Key
		component.Volumes = []corev1.Volume{{Name: volume, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: static.Secret.Name, Items: []corev1.KeyToPath{{Key: static.Secret.Key, Path: static.Secret.Key}},
		}}}}
		component.Mounts = []corev1.VolumeMount{{Name: volume, MountPath: vtgateAuthDir, ReadOnly: true}}
	}
	return component.Build(ownedByCluster(cluster))
}

// vtgateServices are the cell's Service and the cluster-wide one. The cluster-wide Service has
// no cell label, so `planetscale.com/component=vtgate,!planetscale.com/cell` finds it, as with
// the vitess-operator.
func vtgateServices(cluster *v1alpha1.VitessCluster) []*corev1.Service {
	mysql := corev1.ServicePort{Name: "mysql", Port: objects.MysqlPort, TargetPort: intstr.FromString("mysql"), Protocol: corev1.ProtocolTCP}
	services := []*corev1.Service{componentService(cluster, names.VtgateClusterServiceName(cluster.Name), objects.ComponentSelector(cluster.Name, vitess.ComponentVtgate), mysql)}
	for _, cell := range cluster.Spec.Cells {
		selector := objects.ComponentSelector(cluster.Name, vitess.ComponentVtgate)
		selector[vitess.LabelCell] = cell.Name
		services = append(services, componentService(cluster, names.VtgateServiceName(cluster.Name, cell.Name), selector, mysql))
	}
	return services
}
