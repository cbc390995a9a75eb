package integration

import (
	"fmt"
	"slices"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/test/scenario"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// TestTopologyRegistration runs a real vtctld on a real etcd topology and points a cluster at it:
// the reconciler registers the cluster's cell and keyspace in Vitess, reports it in their
// status, says so when vtctld goes away and recovers when it returns; and a shard whose keyspace
// has turndownPolicy RequireIdle is kept while the topology says it serves, and turned down once
// it does not.
func TestTopologyRegistration(t *testing.T) {
	ctx := testContext(t)
	topo, vtctld := vitess.StartForTest(ctx, t, vitess.DataDir(t, "vitess", t.Name()))
	raw := vitess.RawClient(t, vtctld.GRPCAddress)

	ns := newNamespace(t, "topology")
	pools := "[{cell: zone1, type: replica, replicas: 1}]"
	mustApply(t, realVitessCluster(ns, topo, vtctld, scenario.Keyspace("commerce", pools, 1)))
	api := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1()
	cellName, keyspaceName := names.Cell("demo", "zone1"), names.Keyspace("demo", "commerce")
	var lastSeen string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last Registered conditions seen: %s", lastSeen)
		}
	})
	registered := func(want bool, reason string) (bool, error) {
		cell, err := api.VitessCells(ns).Get(ctx, cellName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		keyspace, err := api.VitessKeyspaces(ns).Get(ctx, keyspaceName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, conditions := range [][]metav1.Condition{cell.Status.Conditions, keyspace.Status.Conditions} {
			condition := meta.FindStatusCondition(conditions, "Registered")
			lastSeen = fmt.Sprintf("%+v", condition)
			if condition == nil || (condition.Status == metav1.ConditionTrue) != want || condition.Reason != reason {
				return false, fmt.Errorf("Registered condition %+v", condition)
			}
		}
		return cell.Status.Registered == want && keyspace.Status.Registered == want, nil
	}
	eventually(t, "cell and keyspace registered", func() (bool, error) { return registered(true, "InTopology") })
	cells, err := raw.GetCellInfoNames(ctx, &vtctldatapb.GetCellInfoNamesRequest{})
	if err != nil || !slices.Contains(cells.GetNames(), "zone1") {
		t.Fatalf("cells in the topology: %v (%v)", cells.GetNames(), err)
	}
	keyspace, err := raw.GetKeyspace(ctx, &vtctldatapb.GetKeyspaceRequest{Keyspace: "commerce"})
	if err != nil || keyspace.GetKeyspace().GetKeyspace().GetDurabilityPolicy() != "none" {
		t.Fatalf("keyspace commerce in the topology: %v (%v)", keyspace, err)
	}

	// vtctld away: reported, and recovered from once it returns.
	vtctld.Stop()
	eventually(t, "vtctld reported unreachable", func() (bool, error) { return registered(false, "VtctldUnreachable") })
	if err := vtctld.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "registered again after vtctld returned", func() (bool, error) { return registered(true, "InTopology") })

	// The unsharded shard serves once Vitess has a record of it in its serving graph.
	if _, err := raw.CreateShard(ctx, &vtctldatapb.CreateShardRequest{Keyspace: "commerce", ShardName: "-"}); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.RebuildKeyspaceGraph(ctx, &vtctldatapb.RebuildKeyspaceGraphRequest{Keyspace: "commerce", Cells: []string{"zone1"}}); err != nil {
		t.Fatal(err)
	}
	oldShard := names.Shard("demo", "commerce", "x-x")
	eventually(t, "shard - reported serving", func() (bool, error) {
		shard, err := api.VitessShards(ns).Get(ctx, oldShard, metav1.GetOptions{})
		return err == nil && shard.Status.Serving, err
	})
	mustApply(t, realVitessCluster(ns, topo, vtctld, scenario.Keyspace("commerce", pools, 1, 2)))
	mustApply(t, realVitessCluster(ns, topo, vtctld, scenario.Keyspace("commerce", pools, 2)))
	eventually(t, "turndown of the serving shard held", func() (bool, error) {
		keyspace, err := api.VitessKeyspaces(ns).Get(ctx, keyspaceName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		progressing := meta.FindStatusCondition(keyspace.Status.Conditions, "Progressing")
		return progressing != nil && progressing.Reason == "TurndownPending" && slices.Equal(keyspace.Status.ServingShards, []string{"-"}), nil
	})
	if _, err := api.VitessShards(ns).Get(ctx, oldShard, metav1.GetOptions{}); err != nil {
		t.Fatalf("the serving shard was turned down: %v", err)
	}
	// Vitess itself refuses to delete a serving shard; once it no longer has the shard, nothing is
	// routed to it and the shard goes.
	if _, err := raw.DeleteShards(ctx, &vtctldatapb.DeleteShardsRequest{Shards: []*vtctldatapb.Shard{{Keyspace: "commerce", Name: "-"}}, Force: true, EvenIfServing: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.RebuildKeyspaceGraph(ctx, &vtctldatapb.RebuildKeyspaceGraphRequest{Keyspace: "commerce", Cells: []string{"zone1"}, AllowPartial: true}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "idle shard turned down", func() (bool, error) {
		_, err := api.VitessShards(ns).Get(ctx, oldShard, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if _, err := api.VitessClusters(ns).Patch(ctx, "demo", types.MergePatchType, []byte(`{"metadata":{"annotations":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}
