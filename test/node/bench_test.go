package node_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	typed "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned/typed/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
	"github.com/vitess-apiserver/vitess-apiserver/test/scenario"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// BenchmarkExampleToFirstSQL is the time from kubectl apply of the example cluster
// (artifacts/examples/example-cluster.yaml, in a namespace of its own) to the first answer of a
// query that its primary tablet serves, through the vtgate Service: what a user waits for.
func BenchmarkExampleToFirstSQL(b *testing.B) {
	rc := sharedRealCluster(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	root, err := framework.RepoRoot()
	if err != nil {
		b.Fatal(err)
	}
	example, err := os.ReadFile(filepath.Join(root, "artifacts", "examples", "example-cluster.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	api := versioned.NewForConfigOrDie(rc.cp.AdminConfig()).VitessV1alpha1()
	var total time.Duration
	for b.Loop() {
		namespace := "bench-example-" + rand.String(5)
		manifest := strings.ReplaceAll(string(example), "namespace: example\n", "namespace: "+namespace+"\n")
		manifest = strings.Replace(manifest, "kind: Namespace\nmetadata:\n  name: example\n", "kind: Namespace\nmetadata:\n  name: "+namespace+"\n", 1)
		applied := time.Now()
		if out, errOut, err := rc.cp.KubectlInput(ctx, manifest, "apply", "-f", "-"); err != nil {
			b.Fatalf("%v\n%s%s", err, out, errOut)
		}
		var db *sql.DB
		waitFor(ctx, b, "the example's first SQL answer", func(ctx context.Context) (bool, error) {
			if db == nil {
				address, err := gatewayAddress(ctx, rc.cp, api, namespace, "example")
				if err != nil {
					return false, err
				}
				db = vitess.OpenVtgate(b, address, "commerce")
			}
			// information_schema is answered by a tablet of the keyspace, not by vtgate.
			var schema string
			err := db.QueryRowContext(ctx, "select table_schema from information_schema.tables limit 1").Scan(&schema)
			return err == nil, err
		})
		total += time.Since(applied)
		b.StopTimer()
		deleteNamespace(b, rc.cp, namespace)
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s-to-first-sql")
}

// BenchmarkCopyRates copies the same table out of keyspace commerce twice per round: by a
// MoveTables workflow made through our API (the movetables action), and by the same MoveTables
// made with vtctldclient in the vtctld Pod, as users do without us. Both copies are watched the
// same way (vtctld's GetWorkflows and WorkflowStatus, every 200 ms), from the request until every
// stream has left the copy phase; each workflow is then cancelled, which drops the copy, for the
// next round. Rounds alternate which goes first. It reports the rows per second of each and their
// ratio (ours/vtctldclient), medians over the rounds.
//
// VITESS_BENCH_COPY_ROWS (default 2,000) and VITESS_BENCH_COPY_ROUNDS (default 1) size it; make
// bench sets them.
func BenchmarkCopyRates(b *testing.B) {
	rows, rounds := envInt(b, "VITESS_BENCH_COPY_ROWS", 2000), envInt(b, "VITESS_BENCH_COPY_ROUNDS", 1)
	rc := sharedRealCluster(b)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	root, err := framework.RepoRoot()
	if err != nil {
		b.Fatal(err)
	}
	client := versioned.NewForConfigOrDie(rc.cp.AdminConfig())
	api := client.VitessV1alpha1()
	namespace := "bench-copy-" + rand.String(5)
	if _, _, err := rc.cp.Kubectl(ctx, "create", "namespace", namespace); err != nil {
		b.Fatal(err)
	}
	defer deleteNamespace(b, rc.cp, namespace)
	backend := &realNodeBackend{ctx: ctx, cp: rc.cp, api: client, namespace: namespace, initDB: exampleInitDB(b, root)}
	// One tablet a shard (durability none): the copy, not the replicas, is measured.
	const pools = "[{cell: zone1, type: replica, replicas: 1}]"
	keyspaces := []string{"commerce", "ours", "theirs"}
	var specs []string
	for _, keyspace := range keyspaces {
		specs = append(specs, scenario.Keyspace(keyspace, pools, 1))
	}
	if out, errOut, err := rc.cp.KubectlInput(ctx, backend.Cluster(namespace, specs...), "apply", "-f", "-"); err != nil {
		b.Fatalf("%v\n%s%s", err, out, errOut)
	}
	for _, keyspace := range keyspaces {
		waitFor(ctx, b, keyspace+"'s primary", func(ctx context.Context) (bool, error) {
			shard, err := api.VitessShards(namespace).Get(ctx, names.Shard("demo", keyspace, "x-x"), metav1.GetOptions{})
			return err == nil && shard.Status.PrimaryAlias != "", err
		})
	}
	commerce := names.Keyspace("demo", "commerce")
	if _, err := api.VitessKeyspaces(namespace).ApplySchema(ctx, commerce, &v1alpha1.VitessSchemaRequest{
		ObjectMeta: metav1.ObjectMeta{Name: commerce},
		SQL:        "create table customer(customer_id bigint not null, email varbinary(128), note varbinary(255), primary key(customer_id))",
	}, metav1.CreateOptions{}); err != nil {
		b.Fatalf("schema: %v", err)
	}
	address, err := gatewayAddress(ctx, rc.cp, api, namespace, "demo")
	if err != nil {
		b.Fatal(err)
	}
	db := vitess.OpenVtgate(b, address, "commerce")
	const batch = 1000
	for first := 1; first <= rows; first += batch {
		values := make([]string, 0, batch)
		for id := first; id < first+batch && id <= rows; id++ {
			values = append(values, fmt.Sprintf("(%d, 'user%d@example.com', '%s')", id, id, strings.Repeat("x", 200)))
		}
		statement := "insert into customer(customer_id, email, note) values " + strings.Join(values, ", ")
		// vtgate finds the primary through its own health check, which can trail the election.
		waitFor(ctx, b, "a batch of rows written", func(ctx context.Context) (bool, error) {
			_, err := db.ExecContext(ctx, statement)
			return err == nil, err
		})
	}

	cluster, err := api.VitessClusters(namespace).Get(ctx, "demo", metav1.GetOptions{})
	if err != nil {
		b.Fatal(err)
	}
	dashboard, err := rc.cp.Client().CoreV1().Services(namespace).Get(ctx, cluster.Status.VitessDashboardServiceName, metav1.GetOptions{})
	if err != nil {
		b.Fatal(err)
	}
	observer, err := vtctld.Dial(net.JoinHostPort(dashboard.Spec.ClusterIP, "15999"))
	if err != nil {
		b.Fatal(err)
	}
	defer observer.Close()
	vtctldclient := []string{"exec", "-n", namespace, "deploy/" + names.VtctldDeploymentName("demo", "zone1"), "--", "/vt/bin/vtctldclient", "--server=localhost:15999"}

	copies := map[string]func(round int) (time.Duration, func()){
		"ours": func(round int) (time.Duration, func()) {
			ours := names.Keyspace("demo", "ours")
			workflow := fmt.Sprintf("copy%d", round)
			start := time.Now()
			moved, err := api.VitessKeyspaces(namespace).MoveTables(ctx, ours, &v1alpha1.VitessMoveTablesRequest{
				ObjectMeta: metav1.ObjectMeta{Name: ours}, Workflow: workflow, SourceKeyspace: "commerce", Tables: []string{"customer"},
			}, metav1.CreateOptions{})
			if err != nil {
				b.Fatalf("movetables: %v", err)
			}
			took := waitCopied(ctx, b, observer, "ours", workflow, start)
			return took, func() {
				// Deleting the VitessWorkflow cancels it in Vitess, which drops the copy.
				if err := api.VitessWorkflows(namespace).Delete(ctx, moved.Name, metav1.DeleteOptions{}); err != nil {
					b.Fatal(err)
				}
				waitFor(ctx, b, "the VitessWorkflow gone", func(ctx context.Context) (bool, error) {
					_, err := api.VitessWorkflows(namespace).Get(ctx, moved.Name, metav1.GetOptions{})
					return apierrors.IsNotFound(err), err
				})
			}
		},
		"vtctldclient": func(round int) (time.Duration, func()) {
			workflow := fmt.Sprintf("copy%d", round)
			start := time.Now()
			if out, errOut, err := rc.cp.Kubectl(ctx, append(vtctldclient, "MoveTables", "--workflow", workflow, "--target-keyspace", "theirs",
				"create", "--source-keyspace", "commerce", "--tables", "customer")...); err != nil {
				b.Fatalf("vtctldclient MoveTables create: %v\n%s%s", err, out, errOut)
			}
			took := waitCopied(ctx, b, observer, "theirs", workflow, start)
			return took, func() {
				if out, errOut, err := rc.cp.Kubectl(ctx, append(vtctldclient, "MoveTables", "--workflow", workflow, "--target-keyspace", "theirs", "cancel")...); err != nil {
					b.Fatalf("vtctldclient MoveTables cancel: %v\n%s%s", err, out, errOut)
				}
			}
		},
	}
	rates := map[string][]float64{}
	for b.Loop() {
		for round := range rounds {
			order := []string{"ours", "vtctldclient"}
			if round%2 == 1 {
				slices.Reverse(order)
			}
			for _, who := range order {
				took, cancelCopy := copies[who](round)
				rates[who] = append(rates[who], float64(rows)/took.Seconds())
				b.Logf("round %d: %s copied %d rows in %s", round, who, rows, took.Round(time.Millisecond))
				cancelCopy()
			}
		}
	}
	ours, theirs := median(rates["ours"]), median(rates["vtctldclient"])
	b.ReportMetric(ours, "ours-rows/s")
	b.ReportMetric(theirs, "vtctldclient-rows/s")
	b.ReportMetric(ours/theirs, "ratio-movetables-rows/s")
}

// waitCopied waits, polling vtctld every 200 ms, until the workflow's streams have all left the
// copy phase, and returns how long that was after start.
func waitCopied(ctx context.Context, b *testing.B, observer *vtctld.Client, keyspace, workflow string, start time.Time) time.Duration {
	b.Helper()
	for {
		state, err := observer.Workflow(ctx, keyspace, workflow)
		if err == nil && len(state.Streams) > 0 && state.RowsTotal == 0 &&
			!slices.ContainsFunc(state.Streams, func(s vtctld.Stream) bool { return s.State != "Running" }) {
			return time.Since(start)
		}
		select {
		case <-ctx.Done():
			b.Fatalf("workflow %s.%s not copied: last reading %+v, %v", keyspace, workflow, state, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// gatewayAddress is the MySQL address of a cluster's vtgate Service, once the cluster names it.
func gatewayAddress(ctx context.Context, cp *framework.ControlPlane, api typed.VitessV1alpha1Interface, namespace, cluster string) (string, error) {
	found, err := api.VitessClusters(namespace).Get(ctx, cluster, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if found.Status.GatewayServiceName == "" {
		return "", fmt.Errorf("cluster %s/%s names no vtgate Service yet", namespace, cluster)
	}
	service, err := cp.Client().CoreV1().Services(namespace).Get(ctx, found.Status.GatewayServiceName, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(service.Spec.ClusterIP, "3306"), nil
}

func envInt(b *testing.B, name string, fallback int) int {
	text := os.Getenv(name)
	if text == "" {
		return fallback
	}
	n, err := strconv.Atoi(text)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number", name, text)
	}
	return n
}

func median(values []float64) float64 {
	sorted := slices.Sorted(slices.Values(values))
	return sorted[len(sorted)/2]
}
