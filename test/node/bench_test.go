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
	"k8s.io/apimachinery/pkg/runtime"
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

// BenchmarkCopyRates compares two copies of the same rows, each made twice per round: by a
// workflow made through our API (an action), and by the same workflow made with vtctldclient in
// the vtctld Pod, as users do without us. MoveTables moves table customer out of keyspace commerce
// (into movea, or moveb); Reshard splits keyspace splita (or splitb), which hold the same rows,
// from - into -80 and 80-. Every copy is watched the same way (vtctld's GetWorkflows and
// WorkflowStatus, every 200 ms), from the request until every stream has left the copy phase; the
// workflow is then cancelled, which drops what it copied, for the next round. Odd rounds swap the
// sides' keyspaces (so that neither keeps the faster tablets), and every other pair of rounds
// swaps which side goes first. It reports the rows per second of each and their ratios
// (ours/vtctldclient), medians over the rounds.
//
// VITESS_BENCH_COPY_ROWS (default 2,000) and VITESS_BENCH_COPY_ROUNDS (default 1) size it; make
// bench sets them.
func BenchmarkCopyRates(b *testing.B) {
	rows, rounds := envInt(b, "VITESS_BENCH_COPY_ROWS", 2000), envInt(b, "VITESS_BENCH_COPY_ROUNDS", 1)
	rc := sharedRealCluster(b)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Minute)
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
	cluster := func(splitParts ...int) string {
		return backend.Cluster(namespace,
			scenario.Keyspace("commerce", pools, 1), scenario.Keyspace("movea", pools, 1), scenario.Keyspace("moveb", pools, 1),
			scenario.Keyspace("splita", pools, splitParts...), scenario.Keyspace("splitb", pools, splitParts...))
	}
	apply := func(manifest string) {
		if out, errOut, err := rc.cp.KubectlInput(ctx, manifest, "apply", "-f", "-"); err != nil {
			b.Fatalf("%v\n%s%s", err, out, errOut)
		}
	}
	waitPrimary := func(keyspace, shard string) {
		waitFor(ctx, b, keyspace+"/"+shard+"'s primary", func(ctx context.Context) (bool, error) {
			found, err := api.VitessShards(namespace).Get(ctx, names.Shard("demo", keyspace, shard), metav1.GetOptions{})
			return err == nil && found.Status.PrimaryAlias != "", err
		})
	}
	apply(cluster(1))
	for _, keyspace := range []string{"commerce", "movea", "moveb", "splita", "splitb"} {
		waitPrimary(keyspace, "x-x")
	}
	address, err := gatewayAddress(ctx, rc.cp, api, namespace, "demo")
	if err != nil {
		b.Fatal(err)
	}
	for _, keyspace := range []string{"commerce", "splita", "splitb"} {
		object := names.Keyspace("demo", keyspace)
		if _, err := api.VitessKeyspaces(namespace).ApplySchema(ctx, object, &v1alpha1.VitessSchemaRequest{
			ObjectMeta: metav1.ObjectMeta{Name: object},
			SQL:        "create table customer(customer_id bigint not null, email varbinary(128), note varbinary(255), primary key(customer_id))",
		}, metav1.CreateOptions{}); err != nil {
			b.Fatalf("schema of %s: %v", keyspace, err)
		}
		if keyspace != "commerce" {
			// Reshard splits by the keyspace's vindex.
			if _, err := api.VitessKeyspaces(namespace).UpdateVSchema(ctx, object, &v1alpha1.VitessKeyspaceVSchema{
				ObjectMeta: metav1.ObjectMeta{Name: object},
				VSchema: runtime.RawExtension{Raw: []byte(`{"sharded": true, "vindexes": {"hash": {"type": "hash"}},
					"tables": {"customer": {"column_vindexes": [{"column": "customer_id", "name": "hash"}]}}}`)},
			}, metav1.UpdateOptions{}); err != nil {
				b.Fatalf("vschema of %s: %v", keyspace, err)
			}
		}
		writeRows(ctx, b, vitess.OpenVtgate(b, address, keyspace), rows)
	}
	// The target shards come after the rows, as a user adds them to split a keyspace that serves.
	apply(cluster(1, 2))
	for _, keyspace := range []string{"splita", "splitb"} {
		waitPrimary(keyspace, "x-80")
		waitPrimary(keyspace, "80-x")
	}

	found, err := api.VitessClusters(namespace).Get(ctx, "demo", metav1.GetOptions{})
	if err != nil {
		b.Fatal(err)
	}
	dashboard, err := rc.cp.Client().CoreV1().Services(namespace).Get(ctx, found.Status.VitessDashboardServiceName, metav1.GetOptions{})
	if err != nil {
		b.Fatal(err)
	}
	observer, err := vtctld.Dial(net.JoinHostPort(dashboard.Spec.ClusterIP, "15999"))
	if err != nil {
		b.Fatal(err)
	}
	defer observer.Close()
	vtctldclient := func(args ...string) {
		command := append([]string{"exec", "-n", namespace, "deploy/" + names.VtctldDeploymentName("demo", "zone1"), "--",
			"/vt/bin/vtctldclient", "--server=localhost:15999"}, args...)
		if out, errOut, err := rc.cp.Kubectl(ctx, command...); err != nil {
			b.Fatalf("vtctldclient %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
		}
	}
	// ourCopy times a workflow made by an action; deleting its VitessWorkflow cancels it in Vitess,
	// which drops the copy.
	ourCopy := func(keyspace, workflow string, act func(object string) (*v1alpha1.VitessWorkflow, error)) (time.Duration, func()) {
		start := time.Now()
		made, err := act(names.Keyspace("demo", keyspace))
		if err != nil {
			b.Fatalf("%s in %s: %v", workflow, keyspace, err)
		}
		took := waitCopied(ctx, b, observer, keyspace, workflow, start)
		return took, func() {
			if err := api.VitessWorkflows(namespace).Delete(ctx, made.Name, metav1.DeleteOptions{}); err != nil {
				b.Fatal(err)
			}
			waitFor(ctx, b, "the VitessWorkflow gone", func(ctx context.Context) (bool, error) {
				_, err := api.VitessWorkflows(namespace).Get(ctx, made.Name, metav1.GetOptions{})
				return apierrors.IsNotFound(err), err
			})
		}
	}
	// theirCopy times the same workflow made with vtctldclient; cancel drops the copy.
	theirCopy := func(command, keyspace, workflow string, create ...string) (time.Duration, func()) {
		start := time.Now()
		vtctldclient(append([]string{command, "--workflow", workflow, "--target-keyspace", keyspace, "create"}, create...)...)
		took := waitCopied(ctx, b, observer, keyspace, workflow, start)
		return took, func() { vtctldclient(command, "--workflow", workflow, "--target-keyspace", keyspace, "cancel") }
	}
	type copier func(keyspace, workflow string) (time.Duration, func())
	comparisons := []struct {
		name         string
		keyspaces    [2]string
		ours, theirs copier
	}{
		{
			name:      "movetables",
			keyspaces: [2]string{"movea", "moveb"},
			ours: func(keyspace, workflow string) (time.Duration, func()) {
				return ourCopy(keyspace, workflow, func(object string) (*v1alpha1.VitessWorkflow, error) {
					return api.VitessKeyspaces(namespace).MoveTables(ctx, object, &v1alpha1.VitessMoveTablesRequest{
						ObjectMeta: metav1.ObjectMeta{Name: object}, Workflow: workflow, SourceKeyspace: "commerce", Tables: []string{"customer"},
					}, metav1.CreateOptions{})
				})
			},
			theirs: func(keyspace, workflow string) (time.Duration, func()) {
				return theirCopy("MoveTables", keyspace, workflow, "--source-keyspace", "commerce", "--tables", "customer")
			},
		},
		{
			name:      "reshard",
			keyspaces: [2]string{"splita", "splitb"},
			ours: func(keyspace, workflow string) (time.Duration, func()) {
				return ourCopy(keyspace, workflow, func(object string) (*v1alpha1.VitessWorkflow, error) {
					return api.VitessKeyspaces(namespace).Reshard(ctx, object, &v1alpha1.VitessReshardRequest{
						ObjectMeta: metav1.ObjectMeta{Name: object}, Workflow: workflow, SourceShards: []string{"-"}, TargetShards: []string{"-80", "80-"},
					}, metav1.CreateOptions{})
				})
			},
			theirs: func(keyspace, workflow string) (time.Duration, func()) {
				return theirCopy("Reshard", keyspace, workflow, "--source-shards=-", "--target-shards=-80,80-")
			},
		},
	}
	rates := map[string][]float64{}
	for b.Loop() {
		for round := range rounds {
			for _, comparison := range comparisons {
				swap := round % 2
				sides := []struct {
					who, keyspace string
					run           copier
				}{
					{"ours", comparison.keyspaces[swap], comparison.ours},
					{"vtctldclient", comparison.keyspaces[1-swap], comparison.theirs},
				}
				if round/2%2 == 1 {
					slices.Reverse(sides)
				}
				for _, side := range sides {
					took, cancelCopy := side.run(side.keyspace, fmt.Sprintf("%s%d", comparison.name, round))
					key := comparison.name + "-" + side.who
					rates[key] = append(rates[key], float64(rows)/took.Seconds())
					b.Logf("round %d: %s by %s in %s copied %d rows in %s", round, comparison.name, side.who, side.keyspace, rows, took.Round(time.Millisecond))
					cancelCopy()
				}
			}
		}
	}
	for _, comparison := range comparisons {
		ours, theirs := median(rates[comparison.name+"-ours"]), median(rates[comparison.name+"-vtctldclient"])
		b.ReportMetric(ours, comparison.name+"-ours-rows/s")
		b.ReportMetric(theirs, comparison.name+"-vtctldclient-rows/s")
		b.ReportMetric(ours/theirs, "ratio-"+comparison.name+"-rows/s")
	}
}

// writeRows writes customers 1 to rows, a thousand to a statement.
func writeRows(ctx context.Context, b *testing.B, db *sql.DB, rows int) {
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
}

// waitCopied waits, polling vtctld every 200 ms, until the workflow's streams have all left the
// copy phase, and returns how long that was after start. vreplication's rows_copied cannot tell, as
// it reads 0 once the copy is done.
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
