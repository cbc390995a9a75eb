package node_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopRealCluster()
	os.Exit(code)
}

// realCluster is a control plane whose only node is the real one, with our server registered:
// the reconciler's pods land on that node and run, as on a one-node cluster. The tests that
// use it share it, each in namespaces of its own; TestMain stops it.
type realCluster struct {
	cp     *framework.ControlPlane
	server *framework.Server
}

var (
	sharedMu sync.Mutex
	shared   *realCluster
)

// sharedRealCluster starts the shared cluster unless it runs.
func sharedRealCluster(t testing.TB) *realCluster {
	t.Helper()
	skipUnlessIntegration(t)
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		return shared
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	// Kept under .local so that the logs of a failed run can be read afterwards.
	dir := filepath.Join(root, ".local", "node-cluster")
	if err := framework.RemoveClusterDir(dir); err != nil {
		t.Fatal(err)
	}
	cp, err := framework.Start(ctx, framework.Options{Dir: dir, RealNode: true, Nodes: framework.NoNodes, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	server, err := cp.StartVitessAPIServer(ctx, framework.ServerOptions{})
	if err != nil {
		_ = cp.Stop()
		t.Fatalf("%v (logs in %s)", err, cp.LogDir())
	}
	shared = &realCluster{cp: cp, server: server}
	return shared
}

// stopRealCluster stops the shared cluster if it runs: TestMain does at the end, and a test that
// needs a real node of its own does first, since one real node runs on a machine at a time.
func stopRealCluster() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		_ = shared.cp.Stop()
		shared = nil
	}
}

func skipUnlessIntegration(t testing.TB) {
	if os.Getenv("VITESS_APISERVER_INTEGRATION") != "1" {
		t.Skip("set VITESS_APISERVER_INTEGRATION=1 to run tests that start a local control plane")
	}
}
