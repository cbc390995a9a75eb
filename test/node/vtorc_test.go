package node_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
)

// TestVTOrcOnRealNode is a keyspace that asks for VTOrc with semi-sync durability, as the
// operator's examples do: the reconciler runs a VTOrc Pod for the shard and leaves the first
// election to it. VTOrc must elect the primary (the reconciler records no PrimaryElected Event),
// and vtgate must take writes, which semi-sync acknowledges from a replica.
func TestVTOrcOnRealNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	backend := newRealNodeBackend(ctx, t, "vtorc")
	cp, api, namespace := backend.cp, backend.api, backend.namespace
	keyspace := `
  - name: commerce
    durabilityPolicy: semi_sync
    vitessOrchestrator:
      extraFlags: {instance-poll-time: 3s}
    partitionings:
    - equal:
        parts: 1
        shardTemplate:
          databaseInitScriptSecret: {name: init, key: init_db.sql}
          tabletPools: [{cell: zone1, type: replica, replicas: 3}]
`
	started := time.Now()
	if out, errOut, err := cp.KubectlInput(ctx, backend.Cluster(namespace, keyspace), "apply", "-f", "-"); err != nil {
		t.Fatalf("%v\n%s%s", err, out, errOut)
	}
	core := cp.Client().CoreV1()
	vtorcs := labels.SelectorFromSet(labels.Set{vitess.LabelComponent: "vtorc", vitess.LabelKeyspace: "commerce"}).String()
	waitFor(ctx, t, "the VTOrc Pod Ready", func(ctx context.Context) (bool, error) {
		pods, err := core.Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: vtorcs})
		return err == nil && len(pods.Items) == 1 && framework.PodReady(&pods.Items[0]), nil
	})
	shardName := names.Shard("demo", "commerce", "x-x")
	var primary string
	waitFor(ctx, t, "a primary for commerce/-", func(ctx context.Context) (bool, error) {
		shard, err := api.VitessV1alpha1().VitessShards(namespace).Get(ctx, shardName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		primary = shard.Status.PrimaryAlias
		return primary != "", nil
	})
	t.Logf("VTOrc Ready and %s primary %s after kubectl apply", primary, time.Since(started).Round(time.Second))
	events, err := cp.Client().EventsV1().Events(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, event := range events.Items {
		if event.Reason == "PrimaryElected" {
			t.Errorf("the reconciler elected a primary although VTOrc runs: %s %s: %s", event.Regarding.Kind, event.Regarding.Name, event.Note)
		}
	}
	db := backend.Open(t, "commerce")
	waitFor(ctx, t, "a write through vtgate, acknowledged by a semi-sync replica", func(ctx context.Context) (bool, error) {
		_, err := db.ExecContext(ctx, "create table if not exists notes(id bigint primary key)")
		if err == nil {
			_, err = db.ExecContext(ctx, "replace into notes values (1)")
		}
		return err == nil, nil
	})
}
