package integration

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestExamples applies this project's examples from artifacts/examples, the way `make run`
// applies them. The operator's examples have TestOperatorExamples.
func TestExamples(t *testing.T) {
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
