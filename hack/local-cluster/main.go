// Command local-cluster runs a local Kubernetes control plane with our aggregated API server
// registered in it, in the foreground until interrupted (`make run`). By default its only node is
// a real one (kubelet and containerd on this machine), so the example cluster really runs and
// leaves a database to connect to; -real-node=false gives kwok nodes instead, where pods are only
// objects.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
)

func main() {
	dir := flag.String("dir", "", "directory for the cluster's state and logs, WIPED at start (default <repo>/.local/cluster)")
	realNode := flag.Bool("real-node", true, "run pods for real on this machine (needs root); false: kwok nodes only")
	nodes := flag.Int("nodes", 0, "number of kwok (fake) nodes; 0 means none with -real-node, else 3")
	noExamples := flag.Bool("no-examples", false, "do not apply any of artifacts/examples/")
	examples := flag.String("examples", "example-cluster.yaml,tenant-rbac.yaml",
		"comma-separated files of artifacts/examples/ to apply at start (the others are later steps of its walkthrough)")
	flag.Parse()
	log.SetFlags(log.Ltime)
	var files []string
	if !*noExamples && *examples != "" {
		files = strings.Split(*examples, ",")
	}
	if !*realNode && *nodes == 0 {
		*nodes = 3
	}
	if err := run(*dir, *nodes, *realNode, files); err != nil {
		log.Fatal(err)
	}
}

func run(dir string, nodes int, realNode bool, examples []string) error {
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

	if err := framework.RemoveClusterDir(dir); err != nil {
		return err
	}
	cp, err := framework.Start(ctx, framework.Options{
		Dir: dir, RepoRoot: root, Tools: &tools, Nodes: nodes, RealNode: realNode,
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

	// make install finds both here: the host-process server it takes over from, and the registry
	// it pushes the server's image to for the real node.
	pid := filepath.Join(dir, framework.ServerName+".pid")
	if err := os.WriteFile(pid, []byte(fmt.Sprint(srv.Pid())), 0o644); err != nil {
		return err
	}
	if realNode {
		registry, err := framework.StartRegistry(ctx, tools.Crane, filepath.Join(dir, "image-registry"))
		if err != nil {
			return err
		}
		defer registry.Stop()
		if err := cp.TrustRegistry(registry.Host); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "registry"), []byte(registry.Host), 0o644); err != nil {
			return err
		}
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
	database := ""
	if realNode && slices.Contains(examples, exampleFile) {
		if database, err = waitForExampleDatabase(ctx, cp, tools); err != nil {
			log.Printf("WARNING: %v (the cluster keeps running, to be looked at)", err)
		}
	}

	fmt.Printf(`
Local cluster running (state and logs in %s).

  export KUBECONFIG=%s
  kubectl get apiservice %s
  kubectl api-resources --api-group=%s
  kubectl get vitess -A
  (next steps of the walkthrough: artifacts/examples/README.md)

kube-apiserver: %s (audit log %s)
%s: %s (data %s, log %s, audit log %s)

%s
Press Ctrl-C to stop.
`, dir, kubeconfig, framework.APIServiceName, framework.APIGroup, cp.URL(), cp.AuditLogPath(),
		framework.ServerName, srv.URL(), srv.DataDir(), srv.LogPath(), srv.AuditLogPath(), database)

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

const (
	// exampleFile is the example that makes a Vitess cluster, example/example.
	exampleFile = "example-cluster.yaml"
	// exampleReadyTimeout bounds the wait for it; on 2 cores it takes a few minutes.
	exampleReadyTimeout = 10 * time.Minute
)

// waitForExampleDatabase waits until the example's VitessCluster is Ready and its vtgate answers
// a query through its Service, and says how to connect.
func waitForExampleDatabase(ctx context.Context, cp *framework.ControlPlane, tools framework.Tools) (string, error) {
	const namespace, name = "example", "example"
	log.Printf("waiting for VitessCluster %s/%s to be Ready (a few minutes: etcd, vtctld, vtgate and three tablets start)", namespace, name)
	vitess, err := versioned.NewForConfig(cp.AdminConfig())
	if err != nil {
		return "", err
	}
	var cluster *v1alpha1.VitessCluster
	err = wait.PollUntilContextTimeout(ctx, 2*time.Second, exampleReadyTimeout, true, func(ctx context.Context) (bool, error) {
		cluster, err = vitess.VitessV1alpha1().VitessClusters(namespace).Get(ctx, name, metav1.GetOptions{})
		return err == nil && meta.IsStatusConditionTrue(cluster.Status.Conditions, v1alpha1.ConditionReady), nil
	})
	if err != nil {
		return "", fmt.Errorf("VitessCluster %s/%s is not Ready after %s: see `kubectl -n %s describe vitesscluster %s` and `kubectl -n %s get pods`",
			namespace, name, exampleReadyTimeout, namespace, name, namespace)
	}
	service, err := cp.Client().CoreV1().Services(namespace).Get(ctx, cluster.Status.GatewayServiceName, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	address := net.JoinHostPort(service.Spec.ClusterIP, "3306")
	// The example's users.json: user "user", no password.
	db, err := sql.Open("mysql", fmt.Sprintf("user@tcp(%s)/commerce", address))
	if err != nil {
		return "", err
	}
	defer db.Close()
	// A query commerce's primary answers, not vtgate itself: vtgate finds a new primary through
	// its own health check, up to a minute after the election.
	err = wait.PollUntilContextTimeout(ctx, 2*time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		var uuid string
		return db.QueryRowContext(ctx, "SELECT @@server_uuid").Scan(&uuid) == nil, nil
	})
	if err != nil {
		return "", fmt.Errorf("vtgate at %s (Service %s/%s) does not reach commerce's primary", address, namespace, service.Name)
	}
	var tablets int
	rows, err := db.QueryContext(ctx, "SHOW VITESS_TABLETS")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	for ; rows.Next(); tablets++ {
	}
	return fmt.Sprintf(`The example database is up: vtgate answers MySQL at %[1]s (Service %[2]s/%[3]s, through
kube-proxy; %[4]d tablets serve it). Connect with user "user" and no password, e.g.

  go run ./hack/sql -addr %[1]s -db commerce 'SHOW TABLES'

or any MySQL 8.0 client: mysql -h %[5]s -P 3306 -u user commerce
(MySQL 9's client, %[6]s/bin/mysql, lacks mysql_native_password, which vtgate asks for.)
Inside the cluster the same database is %[7]s.
`, address, namespace, service.Name, tablets, service.Spec.ClusterIP, tools.MysqlRoot, cluster.Status.GatewayEndpoint), nil
}
