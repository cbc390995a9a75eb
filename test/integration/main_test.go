// Package integration tests vitess-apiserver through a real kube-apiserver's aggregation layer,
// with kube-controller-manager, kube-scheduler and kwok nodes, driven by real kubectl and the
// generated client-go packages. The tests share one control plane; each works in namespaces of
// its own.
package integration

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
	"github.com/vitess-apiserver/vitess-apiserver/test/scenario"
)

var (
	controlPlane *framework.ControlPlane
	server       *framework.Server
	repoRoot     string
)

func TestMain(m *testing.M) {
	if os.Getenv("VITESS_APISERVER_INTEGRATION") != "1" {
		fmt.Println("integration tests skipped: set VITESS_APISERVER_INTEGRATION=1 (make test-integration does)")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var err error
	if repoRoot, err = framework.RepoRoot(); err != nil {
		log.Print(err)
		return 1
	}
	// Kept under .local so that the logs of a failed run can be read afterwards.
	dir := filepath.Join(repoRoot, ".local", "integration")
	if err := os.RemoveAll(dir); err != nil {
		log.Print(err)
		return 1
	}
	controlPlane, err = framework.Start(ctx, framework.Options{Dir: dir, Nodes: 1, Logf: log.Printf})
	if err != nil {
		log.Printf("starting the control plane: %v", err)
		return 1
	}
	defer func() { _ = controlPlane.Stop() }()
	// The server keeps its objects in an etcd of its own, as installed (artifacts/install.yaml), so
	// that its process is only the server when its memory and CPU are measured.
	etcd, err := framework.StartEtcd(ctx, controlPlane.Tools().Etcd, filepath.Join(dir, "vitess-apiserver-etcd"), filepath.Join(controlPlane.LogDir(), "vitess-apiserver-etcd.log"))
	if err != nil {
		log.Printf("starting the server's etcd: %v", err)
		return 1
	}
	defer etcd.Stop()
	// The tests that run real Vitess run it on loopback, outside the cluster, and point their
	// VitessClusters at its vtctld.
	serverOptions := framework.ServerOptions{EtcdServers: []string{etcd.URL}, ExtraArgs: []string{"--allow-vtctld-address-annotation"}}
	if server, err = controlPlane.StartVitessAPIServer(ctx, serverOptions); err != nil {
		log.Printf("starting vitess-apiserver: %v (logs in %s)", err, controlPlane.LogDir())
		return 1
	}
	code := m.Run()
	if code != 0 {
		log.Printf("logs of the control plane and vitess-apiserver: %s", controlPlane.LogDir())
	}
	return code
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func kubeClient(t testing.TB) kubernetes.Interface {
	return kubernetes.NewForConfigOrDie(controlPlane.AdminConfig())
}

func vitessClient(t *testing.T, config *rest.Config) versioned.Interface {
	client, err := versioned.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// newNamespace creates a namespace for one test and deletes it when the test ends.
func newNamespace(t *testing.T, prefix string) string {
	t.Helper()
	return scenario.NewNamespace(testContext(t), t, controlPlane, prefix)
}

// kubectl runs kubectl as the cluster admin and fails the test if it fails.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := controlPlane.Kubectl(testContext(t), args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// kubectlWithInput runs kubectl with stdin and returns its output and error.
func kubectlWithInput(t *testing.T, input string, args ...string) (string, error) {
	t.Helper()
	out, errOut, err := controlPlane.KubectlInput(testContext(t), input, args...)
	return out + errOut, err
}

// mustApply applies a manifest with kubectl and fails the test if it is refused.
func mustApply(t *testing.T, manifest string, args ...string) string {
	t.Helper()
	out, err := kubectlWithInput(t, manifest, append([]string{"apply", "-f", "-"}, args...)...)
	if err != nil {
		t.Fatalf("kubectl apply: %v\n%s\nmanifest:\n%s", err, out, manifest)
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// straightToServer is config sent straight to our server instead of through kube-apiserver's
// aggregator.
func straightToServer(config *rest.Config) *rest.Config {
	straight := rest.CopyConfig(config)
	straight.Host = server.URL()
	straight.TLSClientConfig.CAData, straight.TLSClientConfig.CAFile = server.CACert(), ""
	return straight
}

// eventually polls cond until it holds or the test's context ends.
func eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	scenario.Eventually(testContext(t), t, what, cond)
}

func vitessClientForBench() (versioned.Interface, error) {
	config := controlPlane.AdminConfig()
	// Client-side throttling would measure the limiter, not the servers.
	config.QPS, config.Burst = 1000, 1000
	return versioned.NewForConfig(config)
}
