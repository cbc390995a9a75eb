package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExamples applies the vitess-operator's own example manifests with only their apiVersion
// changed, in the order of the seed scenario (101 → 201 → 302 → 306), and then this project's
// examples from artifacts/examples, the way `make run` applies them.
func TestExamples(t *testing.T) {
	t.Run("operator", func(t *testing.T) {
		dir := filepath.Join(repoRoot, "..", "shared", "seed", "operator-examples")
		if _, err := os.Stat(dir); err != nil {
			t.Skipf("operator examples not found beside the repository: %v", err)
		}
		ensureNamespace(t, "example")
		var generation string
		for _, file := range []string{"101_initial_cluster.yaml", "201_customer_tablets.yaml", "302_new_shards.yaml", "306_down_shard_0.yaml"} {
			manifest := strings.ReplaceAll(readFile(t, filepath.Join(dir, file)), "apiVersion: planetscale.com/v2", "apiVersion: vitess.planetscale.com/v1alpha1")
			mustApply(t, manifest)
			next := kubectl(t, "get", "vitesscluster", "example", "-n", "example", "-o", "jsonpath={.metadata.generation}")
			if next == generation {
				t.Errorf("%s did not change the cluster's generation (%s)", file, next)
			}
			generation = next
		}
		keyspaces := kubectl(t, "get", "vitesscluster", "example", "-n", "example", "-o", "jsonpath={.spec.keyspaces[*].name}")
		if keyspaces != "commerce customer" {
			t.Errorf("keyspaces after 306: %q", keyspaces)
		}
		parts := kubectl(t, "get", "vitesscluster", "example", "-n", "example", "-o", "jsonpath={.spec.keyspaces[1].partitionings[*].equal.parts}")
		if parts != "2" {
			t.Errorf("customer's partitionings after 306: %q", parts)
		}
		kubectl(t, "delete", "vitesscluster", "example", "-n", "example")
	})

	t.Run("artifacts", func(t *testing.T) {
		dir := filepath.Join(repoRoot, "artifacts", "examples")
		mustApply(t, readFile(t, filepath.Join(dir, "example-cluster.yaml")))
		// Defaults are stored, so the effective settings are visible.
		for path, want := range map[string]string{
			"{.spec.cells[0].gateway.replicas}":       "1",
			"{.spec.globalLockserver.etcd.createPDB}": "true",
			"{.spec.updateStrategy.type}":             "Immediate",
			"{.spec.keyspaces[0].turndownPolicy}":     "RequireIdle",
		} {
			if got := kubectl(t, "get", "vitesscluster", "example", "-n", "example", "-o", "jsonpath="+path); got != want {
				t.Errorf("%s = %q, want %q", path, got, want)
			}
		}
		for _, file := range []string{"customer-keyspace.yaml", "customer-resharded.yaml", "customer-old-shard-removed.yaml"} {
			mustApply(t, readFile(t, filepath.Join(dir, file)))
		}
		table := kubectl(t, "get", "vitessclusters", "-n", "example")
		for _, column := range []string{"CELLS", "KEYSPACES", "TABLETS", "READY"} {
			if !strings.Contains(table, column) {
				t.Errorf("kubectl get vitessclusters lacks column %s:\n%s", column, table)
			}
		}
		kubectl(t, "delete", "vitesscluster", "example", "-n", "example")
	})
}

// ensureNamespace creates a namespace that examples name explicitly, if it is missing.
func ensureNamespace(t *testing.T, name string) {
	if _, err := controlPlaneKubectlErr(t, "get", "namespace", name); err != nil {
		kubectl(t, "create", "namespace", name)
	}
}
