package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"
	vtctlservicepb "vitess.io/vitess/go/vt/proto/vtctlservice"

	vitessapi "github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// kindFixture is a minimal valid object of one kind, as kubectl users write it.
type kindFixture struct {
	resource string
	name     string
	manifest func(namespace string) string
}

func clusterManifest(namespace, name string) string {
	return fmt.Sprintf(`apiVersion: vitess.planetscale.com/v1alpha1
kind: VitessCluster
metadata:
  name: %s
  namespace: %s
spec:
  cells:
  - name: zone1
  keyspaces:
  - name: commerce
    partitionings:
    - equal:
        parts: 1
        shardTemplate:
          databaseInitScriptSecret: {name: init, key: init_db.sql}
          tabletPools:
          - {cell: zone1, type: replica, replicas: 2}
`, name, namespace)
}

var kindFixtures = []kindFixture{
	{resource: "vitessclusters", name: "demo", manifest: func(ns string) string { return clusterManifest(ns, "demo") }},
	{resource: "etcdlockservers", name: "demo-etcd", manifest: func(ns string) string {
		return fmt.Sprintf(`apiVersion: vitess.planetscale.com/v1alpha1
kind: EtcdLockserver
metadata: {name: demo-etcd, namespace: %s}
spec:
  image: quay.io/coreos/etcd:v3.7.0
`, ns)
	}},
	{resource: "vitesscells", name: "demo-zone1", manifest: func(ns string) string {
		return fmt.Sprintf(`apiVersion: vitess.planetscale.com/v1alpha1
kind: VitessCell
metadata: {name: demo-zone1, namespace: %s}
spec:
  name: zone1
  gateway: {replicas: 2}
`, ns)
	}},
	{resource: "vitesskeyspaces", name: "demo-commerce", manifest: func(ns string) string {
		return fmt.Sprintf(`apiVersion: vitess.planetscale.com/v1alpha1
kind: VitessKeyspace
metadata: {name: demo-commerce, namespace: %s}
spec:
  name: commerce
  cluster: demo
  partitionings:
  - equal:
      parts: 2
      shardTemplate:
        databaseInitScriptSecret: {name: init, key: init_db.sql}
`, ns)
	}},
	{resource: "vitessshards", name: "demo-commerce-x-80", manifest: func(ns string) string {
		return fmt.Sprintf(`apiVersion: vitess.planetscale.com/v1alpha1
kind: VitessShard
metadata: {name: demo-commerce-x-80, namespace: %s}
spec:
  name: "-80"
  keyspaceName: commerce
  cluster: demo
  keyRange: {start: "", end: "80"}
  databaseInitScriptSecret: {name: init, key: init_db.sql}
`, ns)
	}},
	{resource: "vitessworkflows", name: "commerce2customer", manifest: func(ns string) string {
		return fmt.Sprintf(`apiVersion: vitess.planetscale.com/v1alpha1
kind: VitessWorkflow
metadata: {name: commerce2customer, namespace: %s}
spec:
  type: MoveTables
  cluster: demo
  sourceKeyspace: commerce
  targetKeyspace: customer
  tables: [customer, corder]
`, ns)
	}},
}

// startVitessWithZone1 starts a topology and a vtctld for the test (vitess.StartForTest) with
// cell zone1 registered in it, and returns them with a client of vtctld's own gRPC API.
func startVitessWithZone1(ctx context.Context, t testing.TB, dir string, options ...vitess.VtctldOption) (*vitess.Topology, *vitess.Vtctld, vtctlservicepb.VtctldClient) {
	t.Helper()
	topo, vtctld := vitess.StartForTest(ctx, t, dir, options...)
	raw := vitess.RawClient(t, vtctld.GRPCAddress)
	if _, err := raw.AddCellInfo(ctx, &vtctldatapb.AddCellInfoRequest{
		Name:     "zone1",
		CellInfo: &topodatapb.CellInfo{ServerAddress: topo.Address, Root: vitess.CellRoot("zone1")},
	}); err != nil {
		t.Fatal(err)
	}
	return topo, vtctld, raw
}

// realVitessCluster is the VitessCluster "demo" in namespace, run by a test's real Vitess: its
// global lockserver is topo's etcd, and the server reaches vtctld at its loopback address.
// keyspaces are spec.keyspaces' items (see scenario.Keyspace); none when empty.
func realVitessCluster(namespace string, topo *vitess.Topology, vtctld *vitess.Vtctld, keyspaces ...string) string {
	return realVitessClusterVia(namespace, topo, vtctld.GRPCAddress, keyspaces...)
}

// realVitessClusterVia is realVitessCluster with the server reaching vtctld at vtctldAddress,
// e.g. a framework.Relay's.
func realVitessClusterVia(namespace string, topo *vitess.Topology, vtctldAddress string, keyspaces ...string) string {
	manifest := fmt.Sprintf(`apiVersion: vitess.planetscale.com/v1alpha1
kind: VitessCluster
metadata:
  name: demo
  namespace: %s
  annotations: {%s: "%s"}
spec:
  globalLockserver:
    external: {implementation: etcd2, address: "%s", rootPath: %s}
  cells:
  - name: zone1
`, namespace, vitessapi.AnnotationVtctldAddress, vtctldAddress, topo.Address, vitess.GlobalRoot)
	if len(keyspaces) > 0 {
		manifest += "  keyspaces:" + strings.Join(keyspaces, "")
	}
	return manifest
}
