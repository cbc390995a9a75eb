package node_test

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// snapshotKeyspace restores commerce, as its full backup fullBackup had it, into a new keyspace
// for inspection (a Vitess SNAPSHOT keyspace): a user bound to edit adds the keyspace to the
// cluster, its tablet restores that backup with no primary, and vtgate serves its rows (31, where
// commerce has 40 by now) beside commerce's, which stay as they are.
func snapshotKeyspace(b backupTest, clusterName, gatewayAddress string, fullBackup *v1alpha1.VitessBackup) {
	ctx, t := b.ctx, b.t
	t.Helper()
	api := b.asEditor()
	clusters := api.VitessV1alpha1().VitessClusters(b.namespace)
	cluster, err := clusters.Get(ctx, clusterName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	commerce := cluster.Spec.Keyspaces[0]
	template := commerce.Partitionings[0].Equal.ShardTemplate.DeepCopy()
	template.TabletPools = template.TabletPools[:1] // the replicas, in the volume's location
	template.TabletPools[0].Replicas = 1
	snapshot := v1alpha1.VitessKeyspaceTemplate{
		Name:           "snapshot",
		TurndownPolicy: v1alpha1.TurndownPolicyImmediate,
		Partitionings:  []v1alpha1.VitessKeyspacePartitioning{{Equal: &v1alpha1.VitessKeyspaceEqualPartitioning{Parts: 1, ShardTemplate: *template}}},
		Snapshot:       &v1alpha1.VitessKeyspaceSnapshot{BaseKeyspace: "commerce", Time: fullBackup.Status.Time},
	}
	cluster.Spec.Keyspaces = append(cluster.Spec.Keyspaces, snapshot)
	asked := time.Now()
	if _, err := clusters.Update(ctx, cluster, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("adding the snapshot keyspace: %v", err)
	}
	shardName := names.Shard(clusterName, "snapshot", "x-x")
	var shard *v1alpha1.VitessShard
	waitFor(ctx, t, "the snapshot keyspace's tablet Ready", func(ctx context.Context) (bool, error) {
		shard, err = api.VitessV1alpha1().VitessShards(b.namespace).Get(ctx, shardName, metav1.GetOptions{})
		return err == nil && meta.IsStatusConditionTrue(shard.Status.Conditions, v1alpha1.ConditionReady), nil
	})
	t.Logf("snapshot keyspace of commerce as of %s (backup %s) Ready %s after it was added",
		fullBackup.Status.Time.UTC().Format(time.RFC3339), fullBackup.Status.Name, time.Since(asked).Round(time.Second))
	if shard.Status.PrimaryAlias != "" {
		t.Errorf("the snapshot shard has a primary, %s", shard.Status.PrimaryAlias)
	}
	inSnapshot := vitess.OpenVtgate(t, gatewayAddress, "snapshot@replica")
	waitFor(ctx, t, "vtgate serving the snapshot's 31 customers", func(ctx context.Context) (bool, error) {
		return customers(ctx, inSnapshot) == 31, nil
	})
	if n := customers(ctx, vitess.OpenVtgate(t, gatewayAddress, "commerce")); n != 40 {
		t.Errorf("commerce has %d customers beside its snapshot, want 40", n)
	}
}
