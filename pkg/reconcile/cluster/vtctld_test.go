package cluster

import (
	"slices"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

func TestVtctld(t *testing.T) {
	cluster := exampleCluster()
	cluster.Spec.VitessDashboard = &v1alpha1.VitessDashboardSpec{Replicas: ptr.To[int32](2)}
	cluster.Spec.VitessDashboard.ExtraFlags = map[string]string{"security-policy": "read-only"}
	if cells := vtctldCells(cluster); !slices.Equal(cells, []string{"zone1"}) {
		t.Errorf("vtctld cells default to every cell: %v", cells)
	}
	deployment := vtctldDeployment(cluster, "zone1")
	if deployment.Name != "example-zone1-vtctld-1d4dcad0" || *deployment.Spec.Replicas != 2 {
		t.Errorf("deployment %s with %d replicas", deployment.Name, *deployment.Spec.Replicas)
	}
	args := deployment.Spec.Template.Spec.Containers[0].Args
	for _, want := range []string{"--cell=zone1", "--topo-implementation=etcd2", "--topo-global-root=/vitess/example/global",
		"--topo-global-server-address=example-etcd-faf13de3-client.example.svc:2379", "--security-policy=read-only"} {
		if !slices.Contains(args, want) {
			t.Errorf("vtctld args lack %s: %v", want, args)
		}
	}
	if service := vtctldService(cluster); service.Name != "example-vtctld-625ee430" || service.Spec.Selector[vitess.LabelComponent] != "vtctld" {
		t.Errorf("service %s selecting %v", service.Name, service.Spec.Selector)
	}
	before := deployment.Annotations[vitess.AnnotationSpecHash]
	cluster.Spec.Images.Vtctld = "vitess/lite:v24.0.1"
	if vtctldDeployment(cluster, "zone1").Annotations[vitess.AnnotationSpecHash] == before {
		t.Errorf("a new image kept the deployment's hash")
	}
}
