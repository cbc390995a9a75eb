package integration

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

// TestRestart stops and starts the server on the same data directory (embedded etcd): every
// object is still there with the same resourceVersion.
func TestRestart(t *testing.T) {
	ns := newNamespace(t, "restart")
	for _, kind := range kindFixtures {
		mustApply(t, kind.manifest(ns))
	}
	client := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1()
	// The reconciler has settled before the snapshot: after the restart it must write nothing.
	waitInSync(t, client.VitessClusters(ns), "demo")
	eventually(t, "cluster Ready", func() (bool, error) {
		cluster, err := client.VitessClusters(ns).Get(testContext(t), "demo", metav1.GetOptions{})
		return err == nil && meta.IsStatusConditionTrue(cluster.Status.Conditions, "Ready"), err
	})
	waitInSync(t, client.VitessClusters(ns), "demo")
	eventually(t, "the workflows' creation in Vitess reported", func() (bool, error) {
		workflows, err := client.VitessWorkflows(ns).List(testContext(t), metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, w := range workflows.Items {
			if meta.FindStatusCondition(w.Status.Conditions, v1alpha1.ConditionCreated) == nil {
				return false, nil
			}
		}
		return true, nil
	})
	versions := func() map[string]string {
		ctx := testContext(t)
		seen := map[string]string{}
		clusters, err := client.VitessClusters(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range clusters.Items {
			seen["cluster/"+c.Name] = c.ResourceVersion
		}
		workflows, err := client.VitessWorkflows(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range workflows.Items {
			seen["workflow/"+w.Name] = w.ResourceVersion
		}
		shards, err := client.VitessShards(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range shards.Items {
			seen["shard/"+s.Name] = s.ResourceVersion
		}
		return seen
	}
	before := versions()
	if err := server.Restart(testContext(t)); err != nil {
		t.Fatal(err)
	}
	after := versions()
	if len(before) < 3 {
		t.Fatalf("expected at least a cluster, a workflow and a shard before the restart, got %v", before)
	}
	for key, version := range before {
		if after[key] != version {
			t.Errorf("%s: resourceVersion %s before the restart, %q after", key, version, after[key])
		}
	}
}
