// Command local-cluster runs a local Kubernetes control plane with kwok nodes and our aggregated
// API server registered in it, in the foreground until interrupted (`make run`).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
)

func main() {
	dir := flag.String("dir", "", "directory for the cluster's state and logs, WIPED at start (default <repo>/.local/cluster)")
	nodes := flag.Int("nodes", 3, "number of kwok (fake) nodes; 0 for none")
	noExamples := flag.Bool("no-examples", false, "do not apply any of artifacts/examples/")
	examples := flag.String("examples", "example-cluster.yaml,tenant-rbac.yaml",
		"comma-separated files of artifacts/examples/ to apply at start (the others are later steps of its walkthrough)")
	flag.Parse()
	log.SetFlags(log.Ltime)
	var files []string
	if !*noExamples && *examples != "" {
		files = strings.Split(*examples, ",")
	}
	if err := run(*dir, *nodes, files); err != nil {
		log.Fatal(err)
	}
}

func run(dir string, nodes int, examples []string) error {
	root, err := framework.RepoRoot()
	if err != nil {
		return err
	}
	if dir == "" {
		dir = filepath.Join(root, ".local", "cluster")
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	if nodes <= 0 {
		nodes = framework.NoNodes
	}

	// Children run in their own process groups, so a Ctrl-C reaches only us and we stop them in
	// order. After the first signal a second one kills us outright (the children then die with us).
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	go func() { <-ctx.Done(); cancel() }()

	log.Print("building tools (cached) and the server")
	tools, err := framework.EnsureTools(root)
	if err != nil {
		return err
	}
	binary, err := framework.BuildServer(root)
	if err != nil {
		return err
	}

	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	cp, err := framework.Start(ctx, framework.Options{
		Dir: dir, RepoRoot: root, Tools: &tools, Nodes: nodes,
		Logf: func(format string, args ...any) { log.Printf(format, args...) },
	})
	if err != nil {
		return err
	}
	defer func() {
		log.Print("stopping")
		if err := cp.Stop(); err != nil {
			log.Print(err)
		}
		log.Print("stopped")
	}()

	srv, err := cp.StartVitessAPIServer(ctx, framework.ServerOptions{
		Binary:  binary,
		DataDir: filepath.Join(dir, framework.ServerName),
	})
	if err != nil {
		return err
	}

	kubeconfig := filepath.Join(root, ".local", "kubeconfig")
	data, err := os.ReadFile(cp.KubeconfigPath())
	if err != nil {
		return err
	}
	if err := os.WriteFile(kubeconfig, data, 0o600); err != nil {
		return err
	}

	applyExamples(ctx, cp, filepath.Join(root, "artifacts", "examples"), examples)

	fmt.Printf(`
Local cluster running (state and logs in %s).

  export KUBECONFIG=%s
  kubectl get apiservice %s
  kubectl api-resources --api-group=%s
  kubectl get vitess -A
  (next steps of the walkthrough: artifacts/examples/README.md)

kube-apiserver: %s (audit log %s)
%s: %s (data %s, log %s, audit log %s)

Press Ctrl-C to stop.
`, dir, kubeconfig, framework.APIServiceName, framework.APIGroup, cp.URL(), cp.AuditLogPath(),
		framework.ServerName, srv.URL(), srv.DataDir(), srv.LogPath(), srv.AuditLogPath())

	<-ctx.Done()
	return nil
}

// applyExamples applies the named manifests of dir, in order. Not every file there is a starting
// point: the customer-*.yaml files are later steps of the walkthrough in its README, each a new
// version of the same VitessCluster, so applying the whole directory would jump to its last step.
// A failure is reported but leaves the cluster running, to be looked at.
func applyExamples(ctx context.Context, cp *framework.ControlPlane, dir string, files []string) {
	var args []string
	for _, f := range files {
		path := filepath.Join(dir, f)
		if _, err := os.Stat(path); err != nil {
			log.Printf("example %s: %v", f, err)
			continue
		}
		args = append(args, "-f", path)
	}
	if len(args) == 0 {
		return
	}
	// The manifests live in namespace example; create it in case they do not.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "example"}}
	if _, err := cp.Client().CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		log.Printf("WARNING: creating namespace example: %v", err)
	}
	out, _, err := cp.Kubectl(ctx, append([]string{"apply"}, args...)...)
	if err != nil {
		log.Printf("WARNING: applying examples failed (the cluster keeps running): %v", err)
		return
	}
	log.Printf("applied examples from %s:\n%s", dir, strings.TrimSpace(out))
}
