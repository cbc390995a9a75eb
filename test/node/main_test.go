package node_test

import (
	"context"
	"fmt"
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
	realClusterOnce sync.Once
	shared          *realCluster
	sharedErr       error
)

// sharedRealCluster starts the shared cluster on first use.
func sharedRealCluster(t *testing.T) *realCluster {
	t.Helper()
	skipUnlessIntegration(t)
	realClusterOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		root, err := framework.RepoRoot()
		if err != nil {
			sharedErr = err
			return
		}
		// Kept under .local so that the logs of a failed run can be read afterwards.
		dir := filepath.Join(root, ".local", "node-cluster")
		if err := os.RemoveAll(dir); err != nil {
			sharedErr = err
			return
		}
		cp, err := framework.Start(ctx, framework.Options{Dir: dir, RealNode: true, Nodes: framework.NoNodes, Logf: t.Logf})
		if err != nil {
			sharedErr = err
			return
		}
		server, err := cp.StartVitessAPIServer(ctx, framework.ServerOptions{})
		if err != nil {
			_ = cp.Stop()
			sharedErr = fmt.Errorf("%w (logs in %s)", err, cp.LogDir())
			return
		}
		shared = &realCluster{cp: cp, server: server}
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

func stopRealCluster() {
	if shared != nil {
		_ = shared.cp.Stop()
	}
}

func skipUnlessIntegration(t *testing.T) {
	if os.Getenv("VITESS_APISERVER_INTEGRATION") != "1" {
		t.Skip("set VITESS_APISERVER_INTEGRATION=1 to run tests that start a local control plane")
	}
}
