package cluster

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

func exampleCluster() *v1alpha1.VitessCluster {
	template := v1alpha1.VitessShardTemplate{
		DatabaseInitScriptSecret: v1alpha1.SecretSource{Name: "example-cluster-config", Key: "init_db.sql"},
		TabletPools:              []v1alpha1.VitessShardTabletPool{{Cell: "zone1", Type: v1alpha1.TabletPoolTypeReplica, Replicas: 3}},
	}
	cluster := &v1alpha1.VitessCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "example", Namespace: "example", UID: "cluster-uid"},
		Spec: v1alpha1.VitessClusterSpec{
			GlobalLockserver: v1alpha1.LockserverSpec{Etcd: &v1alpha1.EtcdLockserverTemplate{}},
			Cells:            []v1alpha1.VitessCellTemplate{{Name: "zone1", Zone: "us-east-1a"}},
			Keyspaces: []v1alpha1.VitessKeyspaceTemplate{
				{Name: "commerce", Partitionings: []v1alpha1.VitessKeyspacePartitioning{{Equal: &v1alpha1.VitessKeyspaceEqualPartitioning{Parts: 1, ShardTemplate: template}}}},
				{Name: "customer", Partitionings: []v1alpha1.VitessKeyspacePartitioning{
					{Equal: &v1alpha1.VitessKeyspaceEqualPartitioning{Parts: 1, ShardTemplate: template}},
					{Equal: &v1alpha1.VitessKeyspaceEqualPartitioning{Parts: 2, ShardTemplate: template}},
				}},
			},
		},
	}
	return cluster
}

// The names are the vitess-operator's for its example cluster (see pkg/reconcile/names).
func TestDesiredChildren(t *testing.T) {
	desired, err := desiredChildren(exampleCluster())
	if err != nil {
		t.Fatal(err)
	}
	if desired.Lockserver == nil || desired.Lockserver.Name != "example-etcd-faf13de3" {
		t.Errorf("lockserver: %+v", desired.Lockserver)
	}
	if len(desired.Cells) != 1 || desired.Cells[0].Name != "example-zone1-5abb61ae" {
		t.Fatalf("cells: %+v", desired.Cells)
	}
	cell := desired.Cells[0]
	if cell.Spec.GlobalLockserver.Address != "example-etcd-faf13de3-client.example.svc:2379" || cell.Spec.GlobalLockserver.RootPath != "/vitess/example/global" {
		t.Errorf("cell's global lockserver: %+v", cell.Spec.GlobalLockserver)
	}
	if owner := metav1.GetControllerOf(cell); owner == nil || owner.UID != "cluster-uid" || owner.Kind != "VitessCluster" {
		t.Errorf("cell's controller: %+v", owner)
	}
	if len(desired.Keyspaces) != 2 || desired.Keyspaces[0].Name != "example-commerce-fb9b866a" || desired.Keyspaces[0].Spec.ZoneMap["zone1"] != "us-east-1a" {
		t.Fatalf("keyspaces: %+v", desired.Keyspaces)
	}
	if shards := desired.Shards["example-commerce-fb9b866a"]; len(shards) != 1 || shards[0].Name != "example-commerce-x-x-0f5afee6" || shards[0].Spec.Name != "-" {
		t.Errorf("commerce shards: %+v", shards)
	}
	var customer []string
	for _, shard := range desired.Shards[desired.Keyspaces[1].Name] {
		customer = append(customer, shard.Spec.Name)
		if shard.Labels[vitess.LabelShard] == "" || shard.Labels[vitess.LabelKeyspace] != "customer" || shard.Spec.Cluster != "example" {
			t.Errorf("shard %s: labels %v cluster %q", shard.Name, shard.Labels, shard.Spec.Cluster)
		}
	}
	if got := len(customer); got != 3 {
		t.Errorf("customer's shards are the union of its partitionings (-, -80, 80-), got %v", customer)
	}
}

func TestExternalLockserverIsNotDeployed(t *testing.T) {
	cluster := exampleCluster()
	cluster.Spec.GlobalLockserver = v1alpha1.LockserverSpec{External: &v1alpha1.VitessLockserverParams{Implementation: "etcd2", Address: "etcd.example.com:2379", RootPath: "/vitess"}}
	desired, err := desiredChildren(cluster)
	if err != nil {
		t.Fatal(err)
	}
	if desired.Lockserver != nil {
		t.Errorf("an external lockserver was deployed: %+v", desired.Lockserver)
	}
	if address := desired.Keyspaces[0].Spec.GlobalLockserver.Address; address != "etcd.example.com:2379" {
		t.Errorf("keyspace's lockserver address: %q", address)
	}
}
