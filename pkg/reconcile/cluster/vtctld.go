package cluster

import (
	"maps"

	"k8s.io/utils/ptr"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
)

// vtctld, the Vitess dashboard and control API, runs as a Deployment in each dashboard cell behind
// one cluster-wide Service.

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

// vtctldDeployment runs vtctld in one cell.
func vtctldDeployment(cluster *v1alpha1.VitessCluster, cell string) *appsv1.Deployment {
	dashboard := cluster.Spec.VitessDashboard
	if dashboard == nil {
		dashboard = &v1alpha1.VitessDashboardSpec{}
	}
	component := objects.StatelessComponent{
		Name:       vitess.ComponentVtctld,
		Deployment: names.VtctldDeploymentName(cluster.Name, cell),
		Cell:       cell,
		Spec:       dashboard.ComponentSpec,
		Replicas:   ptr.Deref(dashboard.Replicas, 1),
		Image:      cluster.Spec.Images.Vtctld,
		PullPolicy: cluster.Spec.ImagePullPolicies.Vtctld,
		Flags:      map[string]string{"cell": cell, "service-map": "grpc-vtctl,grpc-vtctld"},
	}
	// vtctld lists and removes backups, in the first location as the vitess-operator has it.
	if backup := cluster.Spec.Backup; backup != nil && len(backup.Locations) > 0 {
		storage := objects.NewBackupStorage(cluster.Name, backup.Engine, &backup.Locations[0])
		maps.Copy(component.Flags, storage.Flags)
		component.Volumes, component.Mounts, component.Env, component.Annotations = storage.Volumes, storage.Mounts, storage.Env, storage.Annotations
	}
	return component.Build(ownedByCluster(cluster))
}

// vtctldService is the cluster's vtctld Service: the web dashboard and the gRPC API that
// vtctldclient and this server's actions use.
func vtctldService(cluster *v1alpha1.VitessCluster) *corev1.Service {
	return componentService(cluster, names.VtctldServiceName(cluster.Name), objects.ComponentSelector(cluster.Name, vitess.ComponentVtctld))
}
