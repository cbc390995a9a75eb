package cluster

import (
	"slices"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

func TestVtgate(t *testing.T) {
	cluster := exampleCluster()
	cell := cluster.Spec.Cells[0]
	cell.Gateway = v1alpha1.VitessCellGatewaySpec{
		Replicas: ptr.To[int32](2),
		Authentication: v1alpha1.VitessGatewayAuthentication{Static: &v1alpha1.VitessGatewayStaticAuthentication{
			Secret: &v1alpha1.SecretSource{Name: "example-cluster-config", Key: "users.json"},
		}},
	}
	deployment := vtgateDeployment(cluster, cell)
	if deployment.Name != "example-zone1-vtgate-bc6cde92" || *deployment.Spec.Replicas != 2 {
		t.Errorf("deployment %s with %d replicas", deployment.Name, *deployment.Spec.Replicas)
	}
	pod := deployment.Spec.Template.Spec
	for _, want := range []string{"--mysql-auth-server-impl=static", "--mysql-auth-server-static-file=/vt/secrets/vtgate-static-auth/users.json",
		"--cell=zone1", "--mysql-server-port=3306"} {
		if !slices.Contains(pod.Containers[0].Args, want) {
			t.Errorf("vtgate args lack %s: %v", want, pod.Containers[0].Args)
		}
	}
	if len(pod.Volumes) != 1 || pod.Volumes[0].Secret == nil || pod.Volumes[0].Secret.SecretName != "example-cluster-config" {
		t.Errorf("users.json is not mounted from its Secret: %+v", pod.Volumes)
	}
	services := vtgateServices(cluster)
	if len(services) != 2 || services[0].Name != "example-vtgate-ae7df4b6" || services[0].Labels[vitess.LabelCell] != "" ||
		services[1].Name != "example-zone1-vtgate-bc6cde92" || services[1].Labels[vitess.LabelCell] != "zone1" {
		t.Errorf("services: %s %v, %s %v", services[0].Name, services[0].Labels, services[1].Name, services[1].Labels)
	}
}
