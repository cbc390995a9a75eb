package node_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"database/sql"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	typed "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned/typed/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// The installed server's names, as artifacts/install.yaml has them.
const (
	installNamespace = "vitess-system"
	serverLease      = "vitess-apiserver-reconciler"
	servingSecret    = "vitess-apiserver-serving-cert"
	// leaseDuration and retryPeriod are the reconcile loop's (pkg/reconcile/leader.go). The
	// other replica polls the Lease every retryPeriod with up to 1.2× jitter (client-go's
	// leaderelection.JitterFactor, so at most 2.2 retry periods apart); it counts the Lease
	// expired leaseDuration after it saw the leader's last renewal, at most one poll after the
	// leader died, and takes it at its next poll.
	leaseDuration = 15 * time.Second
	retryPeriod   = 2 * time.Second
	// takeoverBound is the latest the other replica holds the Lease after the leader died, with a
	// second for this test's polling.
	takeoverBound = leaseDuration + 2*(retryPeriod*22/10) + time.Second
)

var apiServiceResource = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// TestInstall installs the server as a user would, on a cluster of its own whose node really runs
// Pods, with nothing of the host-process harness: `make install REGISTRY=...` as the README says
// (the image pushed into a registry on loopback and pulled from there by the node's containerd,
// then artifacts/install.yaml applied), and later the Helm chart. On the installed server:
//   - the example cluster becomes Ready and serves rows through vtgate;
//   - one of the three etcd members is lost: objects are still stored, and it comes back;
//   - the leader Pod is killed during a MoveTables copy and during a traffic switch: the other
//     replica takes over within the lease time, VDiff is clean, the workflow completes, every row
//     is there;
//   - uninstalling and reinstalling with `helm install` brings every stored object back with its
//     resourceVersion;
//   - `helm upgrade` to a new image tag during a running workflow rolls the server with no failed
//     request from a client-go client and no lost action;
//   - the serving certificate and the APIService's caBundle renew (validity shortened to minutes)
//     with the APIService never unavailable for more than a few seconds.
func TestInstall(t *testing.T) {
	skipUnlessIntegration(t)
	// One real node per machine: this test's cluster replaces the shared one.
	stopRealCluster()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Minute)
	defer cancel()
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tools, err := framework.EnsureTools(root)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, ".local", "node-install")
	if err := framework.RemoveClusterDir(dir); err != nil {
		t.Fatal(err)
	}
	cp, err := framework.Start(ctx, framework.Options{Dir: dir, RealNode: true, Nodes: framework.NoNodes, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cp.Stop() })
	registry, err := framework.StartRegistry(ctx, tools.Crane, filepath.Join(dir, "image-registry"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(registry.Stop)
	if err := cp.TrustRegistry(registry.Host); err != nil {
		t.Fatal(err)
	}
	in := &installation{t: t, test: t, ctx: ctx, cp: cp, root: root, tools: tools, repository: registry.Host + "/vitess-system"}
	in.core = cp.Client()
	in.api = versioned.NewForConfigOrDie(cp.AdminConfig())
	in.dynamic = dynamic.NewForConfigOrDie(cp.AdminConfig())

	steps := []struct {
		name string
		run  func()
	}{
		{"make install", in.makeInstall},
		{"example cluster", in.exampleCluster},
		{"etcd member lost", in.etcdMemberLost},
		{"leader killed during MoveTables copy and traffic switch", in.failover},
		{"uninstall and helm install", in.reinstallWithHelm},
		{"helm upgrade during a running workflow", in.upgrade},
		{"certificate rotation", in.certificateRotation},
	}
	for _, step := range steps {
		started := time.Now()
		in.t = t
		if !t.Run(step.name, func(t *testing.T) { in.t = t; step.run() }) {
			t.Fatalf("stopping at %q (logs in %s)", step.name, cp.LogDir())
		}
		t.Logf("%s: %s", step.name, time.Since(started).Round(time.Second))
	}
}

// installation is what TestInstall's steps share.
type installation struct {
	t          *testing.T // the running step's
	test       *testing.T // TestInstall's, for what outlives a step
	ctx        context.Context
	cp         *framework.ControlPlane
	root       string
	tools      framework.Tools
	repository string // where the image is pushed: <registry>/<path>
	core       kubernetes.Interface
	api        versioned.Interface
	dynamic    dynamic.Interface
	digest     string // the image make install pushed
	primary    *sql.DB
	customers  int
}

const exampleNamespace = "example"

// makeInstall runs make install as the README says and checks what it made: the server's
// replicas run the image pulled from the registry, three etcd members on their volumes, the
// APIService Available.
func (in *installation) makeInstall() {
	t := in.t
	cmd := exec.CommandContext(in.ctx, "make", "install", "REGISTRY="+in.repository)
	cmd.Dir, cmd.Env = in.root, append(os.Environ(), "KUBECONFIG="+in.cp.KubeconfigPath())
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("make install: %v", err)
	}
	in.waitAvailable("after make install")
	deployment, err := in.core.AppsV1().Deployments(installNamespace).Get(in.ctx, "vitess-apiserver", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	image := deployment.Spec.Template.Spec.Containers[0].Image
	repository, digest, ok := strings.Cut(image, "@")
	if !ok || repository != in.repository+"/vitess-apiserver" {
		t.Fatalf("the Deployment runs %s, want %s/vitess-apiserver@<digest>", image, in.repository)
	}
	in.digest = digest
	pods := in.serverPods()
	if len(pods) != 2 {
		t.Fatalf("%d server Pods, want 2", len(pods))
	}
	for _, pod := range pods {
		if id := pod.Status.ContainerStatuses[0].ImageID; !strings.HasSuffix(id, digest) {
			t.Errorf("server Pod %s runs image %s, want the pushed %s", pod.Name, id, digest)
		}
	}
	members, err := in.core.CoreV1().Pods(installNamespace).List(in.ctx, metav1.ListOptions{LabelSelector: "app=vitess-apiserver-etcd"})
	if err != nil {
		t.Fatal(err)
	}
	ready := 0
	for i := range members.Items {
		if framework.PodReady(&members.Items[i]) {
			ready++
		}
	}
	if ready != 3 {
		t.Errorf("%d of %d etcd members ready, want 3", ready, len(members.Items))
	}
	in.checkLeaderIsAServerPod()
}

// exampleCluster applies the example cluster as the README says and writes and reads rows through
// its vtgate; then adds keyspace customer for the workflows of the next steps.
func (in *installation) exampleCluster() {
	t := in.t
	examples := filepath.Join(in.root, "artifacts", "examples")
	in.kubectl("", "apply", "-f", filepath.Join(examples, "example-cluster.yaml"))
	vt := in.api.VitessV1alpha1()
	var cluster *v1alpha1.VitessCluster
	waitFor(in.ctx, t, "VitessCluster example Ready", func(ctx context.Context) (bool, error) {
		var err error
		cluster, err = vt.VitessClusters(exampleNamespace).Get(ctx, "example", metav1.GetOptions{})
		return err == nil && meta.IsStatusConditionTrue(cluster.Status.Conditions, v1alpha1.ConditionReady), nil
	})
	commerce := names.Keyspace("example", "commerce")
	if _, err := vt.VitessKeyspaces(exampleNamespace).UpdateVSchema(in.ctx, commerce, &v1alpha1.VitessKeyspaceVSchema{
		ObjectMeta: metav1.ObjectMeta{Name: commerce}, VSchema: runtime.RawExtension{Raw: []byte(`{"tables": {"product": {}, "customer": {}, "corder": {}}}`)},
	}, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("vschema: %v", err)
	}
	if _, err := vt.VitessKeyspaces(exampleNamespace).ApplySchema(in.ctx, commerce, &v1alpha1.VitessSchemaRequest{
		ObjectMeta: metav1.ObjectMeta{Name: commerce},
		SQL: "create table product(sku varbinary(128), price bigint, primary key(sku)); " +
			"create table customer(customer_id bigint not null, email varbinary(128), primary key(customer_id)); " +
			"create table corder(order_id bigint not null, customer_id bigint, sku varbinary(128), price bigint, primary key(order_id));",
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("schema: %v", err)
	}
	gateway, err := in.core.CoreV1().Services(exampleNamespace).Get(in.ctx, cluster.Status.GatewayServiceName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in.primary = vitess.OpenVtgate(in.test, net.JoinHostPort(gateway.Spec.ClusterIP, "3306"), "")
	waitFor(in.ctx, t, "vtgate writing to commerce's primary", func(ctx context.Context) (bool, error) {
		_, err := in.primary.ExecContext(ctx, "insert into product(sku, price) values ('SKU-1001', 100), ('SKU-1002', 30)")
		return err == nil, nil
	})
	in.addCustomers(500)
	var price int
	if err := in.primary.QueryRowContext(in.ctx, "select price from product where sku = 'SKU-1001'").Scan(&price); err != nil || price != 100 {
		t.Errorf("reading a row back through vtgate: %d, %v", price, err)
	}

	in.kubectl("", "apply", "-f", filepath.Join(examples, "customer-keyspace.yaml"))
	customerShard := names.Shard("example", "customer", "x-x")
	waitFor(in.ctx, t, "shard customer/- with a primary and 3 ready tablets", func(ctx context.Context) (bool, error) {
		shard, err := vt.VitessShards(exampleNamespace).Get(ctx, customerShard, metav1.GetOptions{})
		return err == nil && shard.Status.PrimaryAlias != "" && shard.Status.Tablets.Ready == 3, nil
	})
}

// etcdMemberLost takes one of the server's three etcd members away, as a node's loss would: its
// Pod is killed and cannot run again while the node is cordoned. The server must go on storing
// writes with the other two (once etcd has a leader again, if the lost member led), and the member
// comes back on its volume once it can run.
func (in *installation) etcdMemberLost() {
	t := in.t
	const member = "vitess-apiserver-etcd-1"
	// electionWindow bounds the failed writes right after the loss: etcd's election timeout is a
	// second, and the server's client moves to another member on its next request.
	const electionWindow = 5 * time.Second
	pods := in.core.CoreV1().Pods(installNamespace)
	lost, err := pods.Get(in.ctx, member, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nodes := in.core.CoreV1().Nodes()
	cordon := func(unschedulable bool) {
		patch := fmt.Sprintf(`{"spec":{"unschedulable":%t}}`, unschedulable)
		if _, err := nodes.Patch(in.ctx, lost.Spec.NodeName, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cordon(true)
	defer cordon(false)
	if err := pods.Delete(in.ctx, member, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	lostAt := time.Now()
	clusters := in.api.VitessV1alpha1().VitessClusters(exampleNamespace)
	stored := 0
	for i := 0; time.Since(lostAt) < 3*electionWindow; i++ {
		if back, err := pods.Get(in.ctx, member, metav1.GetOptions{}); err == nil && back.UID != lost.UID && back.Spec.NodeName != "" {
			t.Fatalf("member %s was scheduled again on a cordoned node", member)
		}
		patch := fmt.Sprintf(`{"metadata":{"annotations":{"example.com/etcd-loss-probe":"%d"}}}`, i)
		_, err := clusters.Patch(in.ctx, "example", "application/merge-patch+json", []byte(patch), metav1.PatchOptions{})
		switch {
		case err == nil:
			stored++
		case time.Since(lostAt) < electionWindow:
			t.Logf("%s after the loss: %v", time.Since(lostAt).Round(100*time.Millisecond), err)
		default:
			t.Fatalf("a write %s after etcd member %s was lost: %v", time.Since(lostAt).Round(100*time.Millisecond), member, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if stored < 20 {
		t.Fatalf("%d writes stored in %s with etcd member %s lost, want a steady stream", stored, 3*electionWindow, member)
	}
	t.Logf("%d writes stored in %s with etcd member %s lost", stored, 3*electionWindow, member)
	cordon(false)
	waitFor(in.ctx, t, "the lost etcd member back and ready", func(ctx context.Context) (bool, error) {
		back, err := pods.Get(ctx, member, metav1.GetOptions{})
		return err == nil && back.UID != lost.UID && framework.PodReady(back), nil
	})
	back, err := pods.Get(in.ctx, member, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(back.Spec.Volumes, func(v corev1.Volume) bool {
		return v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "data-"+member
	}) {
		t.Errorf("member %s came back with volumes %+v, want its claim data-%s", member, back.Spec.Volumes, member)
	}
}

// addCustomers writes n more customers, each with an order, in statements of 100 rows.
func (in *installation) addCustomers(n int) {
	for first := in.customers + 1; first <= in.customers+n; first += 100 {
		var customers, orders []string
		for id := first; id < first+100 && id <= in.customers+n; id++ {
			customers = append(customers, fmt.Sprintf("(%d, 'user%d@example.com')", id, id))
			orders = append(orders, fmt.Sprintf("(%d, %d, 'SKU-1001', 100)", 100000+id, id))
		}
		mustExec(in.ctx, in.t, in.primary, "insert into customer(customer_id, email) values "+strings.Join(customers, ", "))
		mustExec(in.ctx, in.t, in.primary, "insert into corder(order_id, customer_id, sku, price) values "+strings.Join(orders, ", "))
	}
	in.customers += n
}

// failover kills the leader Pod right after MoveTables is accepted, while Vitess copies, and
// again once the leader has claimed the writes switch; each time the other replica must take
// over within the lease time and the workflow go on to completion with every row.
func (in *installation) failover() {
	t := in.t
	workflows := in.api.VitessV1alpha1().VitessWorkflows(exampleNamespace)
	customer := names.Keyspace("example", "customer")
	moved, err := in.api.VitessV1alpha1().VitessKeyspaces(exampleNamespace).MoveTables(in.ctx, customer, &v1alpha1.VitessMoveTablesRequest{
		ObjectMeta: metav1.ObjectMeta{Name: customer}, Workflow: "commerce2customer", SourceKeyspace: "commerce", Tables: []string{"customer", "corder"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("movetables: %v", err)
	}
	in.killLeader("during the copy")
	in.waitWorkflow(workflows, moved.Name, "copied and running", func(w *v1alpha1.VitessWorkflow) bool {
		return w.Status.Phase == v1alpha1.WorkflowPhaseRunning && w.Status.CopyProgress == "100%"
	})
	in.vdiffClean(workflows, moved.Name)

	if _, err := workflows.SwitchReads(in.ctx, moved.Name, &v1alpha1.VitessSwitchReadsRequest{ObjectMeta: metav1.ObjectMeta{Name: moved.Name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("switchreads: %v", err)
	}
	in.waitWorkflow(workflows, moved.Name, "reads switched", func(w *v1alpha1.VitessWorkflow) bool {
		return w.Status.PendingAction == nil && len(w.Status.ReadsSwitched) == 2
	})
	requested, err := workflows.SwitchWrites(in.ctx, moved.Name, &v1alpha1.VitessSwitchWritesRequest{ObjectMeta: metav1.ObjectMeta{Name: moved.Name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("switchwrites: %v", err)
	}
	pending := requested.Status.PendingAction.ID
	in.waitWorkflow(workflows, moved.Name, "switchwrites claimed by the leader", func(w *v1alpha1.VitessWorkflow) bool {
		return w.Status.WritesSwitched || (w.Status.PendingAction != nil && w.Status.PendingAction.ID == pending && w.Status.PendingAction.StartedAt != nil)
	})
	in.killLeader("during the writes switch")
	in.waitWorkflow(workflows, moved.Name, "writes switched, the action done", func(w *v1alpha1.VitessWorkflow) bool {
		done := meta.FindStatusCondition(w.Status.Conditions, "SwitchWrites")
		return w.Status.WritesSwitched && w.Status.PendingAction == nil && done != nil && done.Status == metav1.ConditionTrue
	})
	if _, err := workflows.Complete(in.ctx, moved.Name, &v1alpha1.VitessCompleteRequest{ObjectMeta: metav1.ObjectMeta{Name: moved.Name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("complete: %v", err)
	}
	in.waitWorkflow(workflows, moved.Name, "completed", func(w *v1alpha1.VitessWorkflow) bool { return w.Status.Phase == v1alpha1.WorkflowPhaseCompleted })
	in.addCustomers(10)
	in.checkRows()
}

// checkRows reads every customer and order back through vtgate, now served by keyspace customer.
func (in *installation) checkRows() {
	waitFor(in.ctx, in.t, fmt.Sprintf("%d customers and orders through vtgate", in.customers), func(ctx context.Context) (bool, error) {
		var customers, orders int
		err := in.primary.QueryRowContext(ctx, "select count(*) from customer").Scan(&customers)
		if err == nil {
			err = in.primary.QueryRowContext(ctx, "select count(*) from corder").Scan(&orders)
		}
		if err == nil && (customers != in.customers || orders != in.customers) {
			in.t.Fatalf("%d customers and %d orders through vtgate, want %d of each", customers, orders, in.customers)
		}
		return err == nil, err
	})
}

// killLeader deletes the Pod holding the reconcile Lease with no grace period, as a node's loss
// would, and waits for the other replica to take the Lease.
func (in *installation) killLeader(when string) {
	t := in.t
	leader := in.leaderPod()
	killed := time.Now()
	if err := in.core.CoreV1().Pods(installNamespace).Delete(in.ctx, leader, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	var next string
	waitFor(in.ctx, t, "another replica holding the Lease", func(ctx context.Context) (bool, error) {
		next = in.leaderPod()
		return next != "" && next != leader, nil
	})
	took := time.Since(killed)
	t.Logf("leader %s killed %s; %s took over %s later", leader, when, next, took.Round(100*time.Millisecond))
	if took > takeoverBound {
		t.Errorf("the other replica took over %s after the leader died, want within the lease time and a retry (%s)", took, takeoverBound)
	}
	in.checkLeaderIsAServerPod()
}

// leaderPod is the name of the Pod holding the reconcile Lease: its identity is <hostname>_<uuid>,
// and a Pod's hostname is its name.
func (in *installation) leaderPod() string {
	lease, err := in.core.CoordinationV1().Leases(installNamespace).Get(in.ctx, serverLease, metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil {
		return ""
	}
	pod, _, _ := strings.Cut(*lease.Spec.HolderIdentity, "_")
	return pod
}

func (in *installation) checkLeaderIsAServerPod() {
	in.t.Helper()
	waitFor(in.ctx, in.t, "a server Pod holding the reconcile Lease", func(ctx context.Context) (bool, error) {
		leader := in.leaderPod()
		return slices.ContainsFunc(in.serverPods(), func(p corev1.Pod) bool { return p.Name == leader }), nil
	})
}

// reinstallWithHelm uninstalls as the README says, then installs the chart: every stored object
// comes back as it was, resourceVersion and uid included.
func (in *installation) reinstallWithHelm() {
	t := in.t
	before := in.storedObjects()
	in.kubectl("", "delete", "-f", filepath.Join(in.root, "artifacts", "install.yaml"), "-l", "vitess.planetscale.com/keep-on-uninstall!=true", "--wait")
	if _, err := in.dynamic.Resource(apiServiceResource).Get(in.ctx, "v1alpha1.vitess.planetscale.com", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the APIService after uninstalling: %v, want it gone", err)
	}
	waitFor(in.ctx, t, "the server and etcd Pods gone", func(ctx context.Context) (bool, error) {
		pods, err := in.core.CoreV1().Pods(installNamespace).List(ctx, metav1.ListOptions{})
		return err == nil && len(pods.Items) == 0, err
	})
	claims, err := in.core.CoreV1().PersistentVolumeClaims(installNamespace).List(in.ctx, metav1.ListOptions{})
	if err != nil || len(claims.Items) != 3 {
		t.Fatalf("etcd's claims after uninstalling: %v, %d, want 3 kept", err, len(claims.Items))
	}
	// Two minutes: long enough to see several renewals in the last step, short enough that a
	// renewal is due at once for the certificate of the first install.
	in.helm("install", "--set", "certificates.validity=2m")
	in.waitAvailable("after helm install")
	after := in.storedObjects()
	for key, version := range before {
		if after[key] != version {
			t.Errorf("%s: %q after reinstalling, %q before", key, after[key], version)
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d stored objects after reinstalling, %d before", len(after), len(before))
	}
	t.Logf("%d stored objects back with their uid and resourceVersion", len(before))
	// The example cluster, now served by the chart's server.
	waitFor(in.ctx, t, "VitessCluster example Ready after helm install", func(ctx context.Context) (bool, error) {
		cluster, err := in.api.VitessV1alpha1().VitessClusters(exampleNamespace).Get(ctx, "example", metav1.GetOptions{})
		return err == nil && meta.IsStatusConditionTrue(cluster.Status.Conditions, v1alpha1.ConditionReady), nil
	})
	in.addCustomers(10)
	in.checkRows()
}

// storedObjects maps every object the server stores, by kind, namespace and name, to its uid and
// resourceVersion.
func (in *installation) storedObjects() map[string]string {
	objects := map[string]string{}
	for _, resource := range []string{"vitessclusters", "etcdlockservers", "vitesscells", "vitesskeyspaces", "vitessshards", "vitessworkflows"} {
		list, err := in.dynamic.Resource(v1alpha1.SchemeGroupVersion.WithResource(resource)).List(in.ctx, metav1.ListOptions{})
		if err != nil {
			in.t.Fatal(err)
		}
		for _, item := range list.Items {
			objects[resource+" "+item.GetNamespace()+"/"+item.GetName()] = string(item.GetUID()) + " " + item.GetResourceVersion()
		}
	}
	if len(objects) == 0 {
		in.t.Fatal("no stored objects")
	}
	return objects
}

// upgrade rolls the server to a new image tag with helm upgrade while a workflow runs, a client
// keeps reading and writing through the aggregator, and an action is requested mid-rollout.
func (in *installation) upgrade() {
	t := in.t
	workflows := in.api.VitessV1alpha1().VitessWorkflows(exampleNamespace)
	in.kubectl(`apiVersion: vitess.planetscale.com/v1alpha1
kind: VitessWorkflow
metadata: {name: products, namespace: example}
spec: {type: MoveTables, cluster: example, targetKeyspace: customer, sourceKeyspace: commerce, tables: [product]}
`, "apply", "-f", "-")
	in.waitWorkflow(workflows, "products", "copied and running", func(w *v1alpha1.VitessWorkflow) bool {
		return w.Status.Phase == v1alpha1.WorkflowPhaseRunning && w.Status.CopyProgress == "100%"
	})
	// The same image under a new tag: the Deployment's template changes, so every replica is
	// replaced.
	tag := "upgrade-" + in.digest[len("sha256:"):][:12]
	pushed := in.repository + "/vitess-apiserver@" + in.digest
	if out, err := exec.CommandContext(in.ctx, in.tools.Crane, "tag", pushed, tag).CombinedOutput(); err != nil {
		t.Fatalf("crane tag: %v\n%s", err, out)
	}
	oldPods := in.serverPods()

	// A client as client-go makes them, reading the workflow and writing an annotation on the
	// cluster over and over; client-go retries what the server asks to be retried.
	client := versioned.NewForConfigOrDie(in.cp.AdminConfig()).VitessV1alpha1()
	var requests, failures atomic.Int64
	var failed sync.Map
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			_, err := client.VitessWorkflows(exampleNamespace).Get(in.ctx, "products", metav1.GetOptions{})
			if err == nil {
				patch := fmt.Sprintf(`{"metadata":{"annotations":{"example.com/upgrade-probe":"%d"}}}`, i)
				_, err = client.VitessClusters(exampleNamespace).Patch(in.ctx, "example", "application/merge-patch+json", []byte(patch), metav1.PatchOptions{})
			}
			requests.Add(1)
			if err != nil {
				failures.Add(1)
				failed.Store(err.Error(), time.Now())
			}
		}
	})
	upgrading := make(chan error, 1)
	go func() {
		upgrading <- in.helmErr("upgrade", "--reuse-values", "--set", "image.digest=", "--set", "image.tag="+tag)
	}()
	// An action requested while the replicas are being replaced is carried out once.
	waitFor(in.ctx, t, "the rollout under way", func(ctx context.Context) (bool, error) {
		pods := in.serverPods()
		return len(pods) > 0 && slices.ContainsFunc(pods, func(p corev1.Pod) bool { return strings.HasSuffix(p.Spec.Containers[0].Image, ":"+tag) }), nil
	})
	started, err := workflows.VDiff(in.ctx, "products", &v1alpha1.VitessVDiffRequest{ObjectMeta: metav1.ObjectMeta{Name: "products"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("vdiff requested mid-rollout: %v", err)
	}
	if err := <-upgrading; err != nil {
		t.Fatal(err)
	}
	in.waitAvailable("after helm upgrade")
	in.waitVDiff(workflows, "products", started.Status.LastVDiff.UUID)
	close(stop)
	wg.Wait()
	failed.Range(func(key, value any) bool {
		t.Errorf("a request failed during the rollout at %s: %s", value.(time.Time).Format(time.RFC3339Nano), key)
		return true
	})
	if requests.Load() < 20 {
		t.Errorf("only %d requests during the rollout", requests.Load())
	}
	t.Logf("%d requests during the rollout, %d failed", requests.Load(), failures.Load())
	for _, pod := range in.serverPods() {
		if slices.ContainsFunc(oldPods, func(old corev1.Pod) bool { return old.UID == pod.UID }) || !strings.HasSuffix(pod.Spec.Containers[0].Image, ":"+tag) {
			t.Errorf("server Pod %s (%s) was not replaced", pod.Name, pod.Spec.Containers[0].Image)
		}
	}
	if _, err := workflows.Cancel(in.ctx, "products", &v1alpha1.VitessCancelRequest{ObjectMeta: metav1.ObjectMeta{Name: "products"}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	in.checkRows()
}

// certificateRotation watches the serving certificate and the APIService's caBundle renew (the
// validity is two minutes since helm install) while checking every 250 ms that the APIService is
// Available, and that the certificate the Service serves is the one in the Secret.
func (in *installation) certificateRotation() {
	t := in.t
	firstCert, firstBundle := in.servingCertificate(), in.caBundle()
	var longest time.Duration
	lastAvailable := time.Now()
	certs, bundles := map[string]bool{firstCert: true}, map[string]bool{firstBundle: true}
	deadline := time.Now().Add(5 * time.Minute)
	for len(certs) < 3 || len(bundles) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("in 5 minutes: %d serving certificates and %d caBundles seen, want 3 of each", len(certs), len(bundles))
		}
		if in.apiServiceAvailable() {
			lastAvailable = time.Now()
		} else {
			longest = max(longest, time.Since(lastAvailable))
		}
		certs[in.servingCertificate()] = true
		bundles[in.caBundle()] = true
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("saw %d serving certificates and %d caBundles; the APIService was unavailable %s at the longest", len(certs), len(bundles), longest)
	if longest > 5*time.Second {
		t.Errorf("the APIService was unavailable for %s during rotation, want a few seconds at most", longest)
	}
	// The replicas serve the current certificate, which the current caBundle verifies.
	secret, err := in.core.CoreV1().Secrets(installNamespace).Get(in.ctx, servingSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	service, err := in.core.CoreV1().Services(installNamespace).Get(in.ctx, "vitess-apiserver", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := fingerprint(secret.Data["tls.crt"])
	if want == "" {
		t.Fatalf("Secret %s holds no certificate in tls.crt", servingSecret)
	}
	waitFor(in.ctx, t, "the Service serving the Secret's certificate", func(ctx context.Context) (bool, error) {
		conn, err := tls.Dial("tcp", net.JoinHostPort(service.Spec.ClusterIP, "443"), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			return false, err
		}
		defer conn.Close()
		served := conn.ConnectionState().PeerCertificates[0].Raw
		return fingerprint(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: served})) == want, nil
	})
}

// servingCertificate is the fingerprint of the certificate the replicas are to serve.
func (in *installation) servingCertificate() string {
	secret, err := in.core.CoreV1().Secrets(installNamespace).Get(in.ctx, servingSecret, metav1.GetOptions{})
	if err != nil {
		in.t.Fatal(err)
	}
	return fingerprint(secret.Data["tls.crt"])
}

func (in *installation) caBundle() string {
	service, err := in.dynamic.Resource(apiServiceResource).Get(in.ctx, "v1alpha1.vitess.planetscale.com", metav1.GetOptions{})
	if err != nil {
		in.t.Fatal(err)
	}
	bundle, _, _ := unstructured.NestedString(service.Object, "spec", "caBundle")
	return bundle
}

// fingerprint is the SHA-256 of the first certificate in a PEM file, "" if it holds none.
func fingerprint(data []byte) string {
	block, _ := pem.Decode(data)
	if block == nil {
		return ""
	}
	sum := sha256.Sum256(block.Bytes)
	return hex.EncodeToString(sum[:])
}

func (in *installation) apiServiceAvailable() bool {
	service, err := in.dynamic.Resource(apiServiceResource).Get(in.ctx, "v1alpha1.vitess.planetscale.com", metav1.GetOptions{})
	if err != nil {
		return false
	}
	conditions, _, _ := unstructured.NestedSlice(service.Object, "status", "conditions")
	for _, c := range conditions {
		if c, ok := c.(map[string]any); ok && c["type"] == "Available" {
			return c["status"] == "True"
		}
	}
	return false
}

func (in *installation) waitAvailable(when string) {
	in.t.Helper()
	waitFor(in.ctx, in.t, "APIService Available "+when, func(ctx context.Context) (bool, error) {
		return in.apiServiceAvailable(), nil
	})
}

// serverPods are the server's Pods that are not being deleted.
func (in *installation) serverPods() []corev1.Pod {
	pods, err := in.core.CoreV1().Pods(installNamespace).List(in.ctx, metav1.ListOptions{LabelSelector: "app=vitess-apiserver"})
	if err != nil {
		in.t.Fatal(err)
	}
	var live []corev1.Pod
	for _, pod := range pods.Items {
		if pod.DeletionTimestamp == nil {
			live = append(live, pod)
		}
	}
	return live
}

func (in *installation) waitWorkflow(workflows typed.VitessWorkflowInterface, name, what string, done func(*v1alpha1.VitessWorkflow) bool) {
	in.t.Helper()
	var last *v1alpha1.VitessWorkflow
	defer func() {
		if in.t.Failed() && last != nil {
			in.t.Logf("workflow %s last seen: %+v", name, last.Status)
		}
	}()
	waitFor(in.ctx, in.t, "workflow "+name+" "+what, func(ctx context.Context) (bool, error) {
		w, err := workflows.Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			last = w
		}
		return err == nil && done(w), err
	})
}

func (in *installation) vdiffClean(workflows typed.VitessWorkflowInterface, name string) {
	in.t.Helper()
	started, err := workflows.VDiff(in.ctx, name, &v1alpha1.VitessVDiffRequest{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		in.t.Fatalf("vdiff of %s: %v", name, err)
	}
	in.waitVDiff(workflows, name, started.Status.LastVDiff.UUID)
}

// waitVDiff waits for the VDiff uuid to end and fails unless it compared rows and found them equal.
func (in *installation) waitVDiff(workflows typed.VitessWorkflowInterface, name, uuid string) {
	in.t.Helper()
	var vdiff *v1alpha1.VitessWorkflowVDiff
	in.waitWorkflow(workflows, name, "VDiff "+uuid+" ended", func(w *v1alpha1.VitessWorkflow) bool {
		vdiff = w.Status.LastVDiff
		return vdiff != nil && vdiff.UUID == uuid && (vdiff.State == "completed" || vdiff.State == "error")
	})
	if vdiff.State != "completed" || vdiff.HasMismatch || vdiff.RowsCompared == 0 {
		in.t.Errorf("VDiff of %s: %+v, want completed, rows compared, no mismatch", name, vdiff)
	}
}

func (in *installation) kubectl(input string, args ...string) {
	in.t.Helper()
	if out, errOut, err := in.cp.KubectlInput(in.ctx, input, args...); err != nil {
		in.t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
}

// helm runs helm install or upgrade of the chart with the image make install pushed, as the
// README says.
func (in *installation) helm(command string, args ...string) {
	in.t.Helper()
	if err := in.helmErr(command, args...); err != nil {
		in.t.Fatal(err)
	}
}

func (in *installation) helmErr(command string, args ...string) error {
	args = append([]string{command, "vitess-apiserver", filepath.Join(in.root, "artifacts", "charts", "vitess-apiserver"),
		"--namespace", installNamespace, "--create-namespace", "--wait", "--timeout", "10m",
		"--set", "image.repository=" + in.repository + "/vitess-apiserver", "--set", "image.digest=" + in.digest}, args...)
	cmd := exec.CommandContext(in.ctx, in.tools.Helm, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+in.cp.KubeconfigPath(), "HELM_CACHE_HOME="+filepath.Join(in.cp.Dir(), "helm"),
		"HELM_CONFIG_HOME="+filepath.Join(in.cp.Dir(), "helm"), "HELM_DATA_HOME="+filepath.Join(in.cp.Dir(), "helm"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("helm %s: %v\n%s", command, err, out)
	}
	return nil
}
