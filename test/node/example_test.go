package node_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	vitessapi "github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
	"github.com/vitess-apiserver/vitess-apiserver/test/scenario"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// realPodsTimeout bounds each wait for real pods: pulling nothing, but initialising MySQL data
// directories and electing primaries on two cores takes minutes.
const realPodsTimeout = 10 * time.Minute

// TestExampleCluster applies artifacts/examples/example-cluster.yaml, as the README says, to a
// cluster whose node really runs pods. The cluster must come up from that alone: three etcd
// members in quorum, vtctld, the cell registered, three tablets with a primary the reconciler
// elected, vtgate serving, the VitessCluster Ready. Then commerce gets its VSchema and schema
// through the subresources, and rows are written and read through the vtgate Service with a MySQL
// driver. Last, the rdonly tablet's Pod is deleted while rows keep being written: the reconciler
// recreates it, its mysqld starts from the data its PVC kept (no new data directory, the same
// server_uuid), and it catches up with what it missed.
func TestExampleCluster(t *testing.T) {
	rc := sharedRealCluster(t)
	cp := rc.cp
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	const namespace, clusterName = "example", "example"
	applied := time.Now()
	if out, errOut, err := cp.Kubectl(ctx, "apply", "-f", filepath.Join(root, "artifacts", "examples", "example-cluster.yaml")); err != nil {
		t.Fatalf("%v\n%s%s", err, out, errOut)
	}
	// Leave the node to the tests after this one.
	t.Cleanup(func() { deleteNamespace(t, cp, namespace) })
	api, err := versioned.NewForConfig(cp.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	vtapi := api.VitessV1alpha1()
	core := cp.Client().CoreV1()

	var cluster *v1alpha1.VitessCluster
	waitFor(ctx, t, "VitessCluster example Ready", func(ctx context.Context) (bool, error) {
		cluster, err = vtapi.VitessClusters(namespace).Get(ctx, clusterName, metav1.GetOptions{})
		return err == nil && meta.IsStatusConditionTrue(cluster.Status.Conditions, v1alpha1.ConditionReady), nil
	})
	t.Logf("VitessCluster example Ready %s after kubectl apply", time.Since(applied).Round(time.Second))

	// Ready because it is.
	lockservers, err := vtapi.EtcdLockservers(namespace).List(ctx, metav1.ListOptions{})
	if err != nil || len(lockservers.Items) != 1 || lockservers.Items[0].Status.Members.Ready != 3 {
		t.Errorf("etcd lockserver: %v %+v, want one with 3 ready members", err, lockservers)
	}
	shards, err := vtapi.VitessShards(namespace).List(ctx, metav1.ListOptions{})
	if err != nil || len(shards.Items) != 1 || shards.Items[0].Status.PrimaryAlias == "" || shards.Items[0].Status.Tablets.Ready != 3 {
		t.Fatalf("shards: %v %+v, want commerce/- with a primary and 3 ready tablets", err, shards)
	}
	gateway, err := core.Services(namespace).Get(ctx, cluster.Status.GatewayServiceName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gatewayAddress := net.JoinHostPort(gateway.Spec.ClusterIP, "3306")
	t.Logf("shard commerce/- primary %s; vtgate Service %s at %s", shards.Items[0].Status.PrimaryAlias, gateway.Name, gatewayAddress)

	commerce := names.Keyspace(clusterName, "commerce")
	if _, err := vtapi.VitessKeyspaces(namespace).UpdateVSchema(ctx, commerce, &v1alpha1.VitessKeyspaceVSchema{
		ObjectMeta: metav1.ObjectMeta{Name: commerce}, VSchema: runtime.RawExtension{Raw: []byte(`{"tables": {"product": {}, "customer": {}}}`)},
	}, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("vschema: %v", err)
	}
	schema := fmt.Sprintf(`{"apiVersion":"vitess.planetscale.com/v1alpha1","kind":"VitessSchemaRequest","metadata":{"name":%q},"sql":%q}`, commerce,
		"create table product(sku varbinary(128), price bigint, primary key(sku)); create table customer(customer_id bigint not null, email varbinary(128), primary key(customer_id));")
	if out, errOut, err := cp.KubectlInput(ctx, schema, "create", "--raw", fmt.Sprintf("/apis/vitess.planetscale.com/v1alpha1/namespaces/%s/vitesskeyspaces/%s/schema", namespace, commerce), "-f", "-"); err != nil {
		t.Fatalf("schema: %v\n%s%s", err, out, errOut)
	}

	primary := vitess.OpenVtgate(t, gatewayAddress, "commerce")
	// vtgate finds the new primary through its own health check, which can trail the Pods'
	// readiness by a few seconds: an application retries, and so does this.
	waitFor(ctx, t, "vtgate writing to commerce's primary", func(ctx context.Context) (bool, error) {
		_, err := primary.ExecContext(ctx, "insert into product(sku, price) values ('SKU-1001', 100), ('SKU-1002', 30)")
		return err == nil, nil
	})
	insertCustomers(ctx, t, primary, 1, 10)
	var price int
	if err := primary.QueryRowContext(ctx, "select price from product where sku = 'SKU-1001'").Scan(&price); err != nil || price != 100 {
		t.Errorf("reading a row back through vtgate: %d, %v", price, err)
	}

	// The rdonly tablet's Pod goes away mid-run; its PVC stays.
	rdonly := vitess.OpenVtgate(t, gatewayAddress, "commerce@rdonly")
	var uuidBefore string
	waitFor(ctx, t, "the rdonly tablet has the 10 customers", func(ctx context.Context) (bool, error) {
		var n int
		err := rdonly.QueryRowContext(ctx, "select count(*), @@server_uuid from customer").Scan(&n, &uuidBefore)
		return err == nil && n == 10, nil
	})
	selector := labels.SelectorFromSet(labels.Set{vitessapi.LabelComponent: "vttablet", vitessapi.LabelTabletType: "rdonly"}).String()
	pods, err := core.Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("rdonly tablet pods: %v %d", err, len(pods.Items))
	}
	old := pods.Items[0]
	data := slices.IndexFunc(old.Spec.Volumes, func(v corev1.Volume) bool { return v.PersistentVolumeClaim != nil })
	if data < 0 {
		t.Fatalf("tablet Pod %s has no claim", old.Name)
	}
	claimName := old.Spec.Volumes[data].PersistentVolumeClaim.ClaimName
	claim, err := core.PersistentVolumeClaims(namespace).Get(ctx, claimName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	if err := core.Pods(namespace).Delete(ctx, old.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	insertCustomers(ctx, t, primary, 11, 20)
	waitFor(ctx, t, "the rdonly tablet's Pod recreated and Ready", func(ctx context.Context) (bool, error) {
		pod, err := core.Pods(namespace).Get(ctx, old.Name, metav1.GetOptions{})
		return err == nil && pod.UID != old.UID && framework.PodReady(pod), nil
	})
	var uuidAfter string
	waitFor(ctx, t, "the recreated rdonly tablet serving all 20 customers", func(ctx context.Context) (bool, error) {
		var n int
		err := rdonly.QueryRowContext(ctx, "select count(*), @@server_uuid from customer").Scan(&n, &uuidAfter)
		return err == nil && n == 20, nil
	})
	t.Logf("rdonly tablet back with its data %s after its Pod was deleted", time.Since(deleted).Round(time.Second))
	if uuidAfter != uuidBefore {
		t.Errorf("rdonly mysqld server_uuid %s after the Pod was recreated, %s before: a new data directory", uuidAfter, uuidBefore)
	}
	if after, err := core.PersistentVolumeClaims(namespace).Get(ctx, claimName, metav1.GetOptions{}); err != nil || after.UID != claim.UID || after.Spec.VolumeName != claim.Spec.VolumeName {
		t.Errorf("claim %s after the Pod was recreated: %v, want the same claim and volume", claimName, err)
	}
	logs, _, err := cp.Kubectl(ctx, "logs", "--namespace", namespace, old.Name, "-c", "mysqld")
	if err != nil || !strings.Contains(logs, "already exists, starting without init") {
		t.Errorf("the recreated tablet's mysqld does not say it started from existing data (%v):\n%s", err, tail(logs, 20))
	}

	// A VitessShard made by hand (by an admin: the edit role may not) with commerce's labels,
	// keyspace and shard, and pools of no tablets, is ignored: the loop deletes none of commerce's
	// tablet Pods (it used to delete all three, the primary's too) and runs none for it.
	tabletPods := func() map[string]types.UID {
		t.Helper()
		pods, err := core.Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: vitessapi.LabelComponent + "=vttablet"})
		if err != nil {
			t.Fatal(err)
		}
		uids := map[string]types.UID{}
		for _, pod := range pods.Items {
			if pod.DeletionTimestamp == nil {
				uids[pod.Name] = pod.UID
			}
		}
		return uids
	}
	before := tabletPods()
	handMade := &v1alpha1.VitessShard{
		ObjectMeta: metav1.ObjectMeta{Name: "hand-made", Namespace: namespace, Labels: shards.Items[0].Labels},
		Spec:       *shards.Items[0].Spec.DeepCopy(),
	}
	for i := range handMade.Spec.TabletPools {
		handMade.Spec.TabletPools[i].Replicas = 0
	}
	if _, err := vtapi.VitessShards(namespace).Create(ctx, handMade, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		time.Sleep(2 * time.Second)
		if after := tabletPods(); !maps.Equal(after, before) {
			t.Fatalf("commerce's tablet Pods after a hand-made VitessShard appeared: %v; before: %v", after, before)
		}
	}
	var customers int
	if err := primary.QueryRowContext(ctx, "select count(*) from customer").Scan(&customers); err != nil || customers != 20 {
		t.Errorf("customers after a hand-made VitessShard appeared: %d, %v; want 20", customers, err)
	}
	if err := vtapi.VitessShards(namespace).Delete(ctx, handMade.Name, metav1.DeleteOptions{}); err != nil {
		t.Error(err)
	}
}

func mustExec(ctx context.Context, t testing.TB, db *sql.DB, statement string) {
	t.Helper()
	if _, err := db.ExecContext(ctx, statement); err != nil {
		t.Fatalf("%s: %v", statement, err)
	}
}

func insertCustomers(ctx context.Context, t *testing.T, db *sql.DB, from, to int) {
	t.Helper()
	for id := from; id <= to; id++ {
		mustExec(ctx, t, db, fmt.Sprintf("insert into customer(customer_id, email) values (%d, 'user%d@example.com')", id, id))
	}
}

// waitFor polls cond until it holds, failing the test after realPodsTimeout.
func waitFor(ctx context.Context, t testing.TB, what string, cond func(context.Context) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, realPodsTimeout)
	defer cancel()
	scenario.Eventually(ctx, t, what, func() (bool, error) { return cond(ctx) })
}

// deleteNamespace deletes a namespace and waits until its Pods are gone, so that they no longer use
// the node. (The namespace itself may take minutes more: the namespace controller backs off while
// the garbage collector works through owners.)
func deleteNamespace(t testing.TB, cp *framework.ControlPlane, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), realPodsTimeout)
	defer cancel()
	if err := cp.Client().CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("deleting namespace %s: %v", name, err)
		return
	}
	if err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		pods, err := cp.Client().CoreV1().Pods(name).List(ctx, metav1.ListOptions{})
		return err == nil && len(pods.Items) == 0, nil
	}); err != nil {
		t.Errorf("Pods of namespace %s still there: %v", name, err)
	}
}

func tail(text string, lines int) string {
	all := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
