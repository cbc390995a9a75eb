// Package scenario is the seed's end-to-end story of a VitessCluster, driven only through the
// Kubernetes API, for every tier that can run it: test/integration runs a local vttablet for each
// tablet Pod kwok pretends to run, test/node lets a real kubelet run the Pods. A Backend is what
// differs between them.
package scenario

import (
	"context"
	"crypto/des"
	"database/sql"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	vitessapi "github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	typed "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned/typed/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
)

// Backend is what differs between the tiers that run the story.
type Backend interface {
	// Cluster is the manifest (one or more YAML documents, applied with kubectl apply -f -) of
	// VitessCluster "demo" in namespace, with the given spec.keyspaces items (made by Keyspace).
	Cluster(namespace string, keyspaces ...string) string
	// TabletsCreated is called once the reconciler has created the 3 tablet Pods of keyspace/shard
	// (kwok backend: start a real local tablet for each Pod, with its uid/cell/type labels; a real-node backend does nothing).
	TabletsCreated(t *testing.T, keyspace, shard string, pods []corev1.Pod)
	// TabletsDeleted is called once those Pods are gone (kwok backend: stop the local tablets).
	TabletsDeleted(t *testing.T, keyspace, shard string)
	// Open is a database/sql handle through vtgate for target ("commerce", "customer", "customer:-80").
	Open(t *testing.T, target string) *sql.DB
	// VtctldOutage stops the cluster's vtctld and returns a func that starts it again; ok=false
	// means the backend cannot, and the outage step is skipped (logged with t.Log).
	VtctldOutage(t *testing.T) (restart func(), ok bool)
}

// WorkflowLister is a Backend that can list the workflows Vitess runs in a keyspace, by asking
// vtctld directly; the story then checks Vitess as well as the API.
type WorkflowLister interface {
	WorkflowsInVitess(t *testing.T, keyspace string) []string
}

// Keyspace is a spec.keyspaces item: durabilityPolicy none (tablets acknowledge no writes of each
// other), turndownPolicy RequireIdle, one equal partitioning per parts entry, each shard with
// tabletPools (a YAML flow sequence) in zone1 and databaseInitScriptSecret {name: init, key:
// init_db.sql}.
func Keyspace(name, tabletPools string, parts ...int) string {
	out := fmt.Sprintf(`
  - name: %s
    durabilityPolicy: none
    turndownPolicy: RequireIdle
    partitionings:`, name)
	for _, n := range parts {
		out += fmt.Sprintf(`
    - equal:
        parts: %d
        shardTemplate:
          databaseInitScriptSecret: {name: init, key: init_db.sql}
          tabletPools: %s`, n, tabletPools)
	}
	return out + "\n"
}

// Run runs the whole story in namespace, on the control plane cp, through the Kubernetes API
// (kubectl and clientsets built from cp.AdminConfig()/cp.ImpersonatedConfig), using backend.
//
// commerce gets its schema and VSchema through subresources and rows through vtgate; keyspace
// customer is added; a MoveTables of product, applied as a VitessWorkflow, is started and
// cancelled; MoveTables commerce2customer moves customer and corder (VDiff clean, rdonly reads
// switched, reversed and switched again, then replica reads, writes, complete); customer gets a
// sharded VSchema and a second partitioning (-80, 80-); Reshard cust2cust splits it (VDiff,
// switches, complete); the old partitioning is removed and its shard turned down; every row is
// then on exactly one shard, the right one. Along the way: refusals (writes before reads, complete
// before traffic moved), a tenant without switchwrites, another namespace's view, vtctld stopped
// mid-scenario, and a rolling update of commerce whose primary is moved by a planned reparent and
// replaced last.
func Run(ctx context.Context, t *testing.T, cp *framework.ControlPlane, namespace string, backend Backend) {
	s := &story{t: t, ctx: ctx, cp: cp, ns: namespace, api: versioned.NewForConfigOrDie(cp.AdminConfig()).VitessV1alpha1(), backend: backend}
	api, ns := s.api, namespace

	cluster := func(keyspaces ...string) string { return backend.Cluster(ns, keyspaces...) }
	const pools = "[{cell: zone1, type: replica, replicas: 2}, {cell: zone1, type: rdonly, replicas: 1}]"
	keyspace := func(name string, parts ...int) string { return Keyspace(name, pools, parts...) }

	// 101: commerce, one shard; the reconciler elects its primary once the tablets run.
	s.apply(cluster(keyspace("commerce", 1)))
	s.runTablets("commerce", "-")
	commerce := names.Keyspace("demo", "commerce")
	s.vschema(commerce, `{"tables": {"product": {}, "customer": {}, "corder": {}}}`)
	s.schema(commerce, `
create table product(sku varbinary(128), description varbinary(128), price bigint, primary key(sku));
create table customer(customer_id bigint not null, email varbinary(128), primary key(customer_id));
create table corder(order_id bigint not null, customer_id bigint, sku varbinary(128), price bigint, primary key(order_id));`)
	db := backend.Open(t, "commerce")
	// vtgate finds a new primary through its own health check, which can trail the election by up
	// to its tablet refresh interval (a minute by default).
	s.eventually("vtgate routing commerce's queries to its primary", func() (bool, error) {
		var products int
		err := db.QueryRowContext(ctx, "select count(*) from product").Scan(&products)
		return err == nil, err
	})
	const customers = 40
	s.exec(db, "insert into product(sku, description, price) values ('SKU-1001', 'Monitor', 100), ('SKU-1002', 'Keyboard', 30)")
	for id := 1; id <= customers; id++ {
		s.exec(db, fmt.Sprintf("insert into customer(customer_id, email) values (%d, 'user%d@example.com')", id, id))
		s.exec(db, fmt.Sprintf("insert into corder(order_id, customer_id, sku, price) values (%d, %d, 'SKU-1001', 100)", 1000+id, id))
	}

	// 201: keyspace customer, then MoveTables of customer and corder into it.
	s.apply(cluster(keyspace("commerce", 1), keyspace("customer", 1)))
	s.runTablets("customer", "-")
	customer := names.Keyspace("demo", "customer")
	moved, err := api.VitessKeyspaces(ns).MoveTables(ctx, customer, &v1alpha1.VitessMoveTablesRequest{
		ObjectMeta: metav1.ObjectMeta{Name: customer}, Workflow: "commerce2customer", SourceKeyspace: "commerce", Tables: []string{"customer", "corder"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.waitWorkflow(moved.Name, "copied and running", func(w *v1alpha1.VitessWorkflow) bool {
		return w.Status.Phase == v1alpha1.WorkflowPhaseRunning && w.Status.CopyProgress == "100%"
	})
	s.refused(moved.Name, "switchwrites before reads", func(wf typed.VitessWorkflowInterface) error {
		_, err := wf.SwitchWrites(ctx, moved.Name, &v1alpha1.VitessSwitchWritesRequest{ObjectMeta: metav1.ObjectMeta{Name: moved.Name}}, metav1.CreateOptions{})
		return err
	})
	s.refused(moved.Name, "complete before traffic moved", func(wf typed.VitessWorkflowInterface) error {
		_, err := wf.Complete(ctx, moved.Name, &v1alpha1.VitessCompleteRequest{ObjectMeta: metav1.ObjectMeta{Name: moved.Name}}, metav1.CreateOptions{})
		return err
	})
	s.tenantChecks(moved.Name)
	s.cancelled()
	s.deleted()
	s.vdiffClean(moved.Name)
	s.vtctldOutage(moved.Name)
	s.switchReads(moved.Name, "rdonly")
	s.reverseTraffic(moved.Name) // the rdonly reads go back to commerce...
	s.switchReads(moved.Name, "rdonly")
	s.switchReads(moved.Name, "replica")
	s.switchWrites(moved.Name)
	s.complete(moved.Name)
	customerDB := backend.Open(t, "customer")
	// vtgate finds customer's primary through its own health check, which can trail the switch.
	s.eventually("vtgate routing customer's writes to its primary", func() (bool, error) {
		var rows int
		err := customerDB.QueryRowContext(ctx, "select count(*) from customer").Scan(&rows)
		return err == nil, err
	})
	s.exec(customerDB, fmt.Sprintf("insert into customer(customer_id, email) values (%d, 'late@example.com')", customers+1))

	// Applying the 101 manifest again, which does not declare customer, must not take the serving
	// customer keyspace down (it used to be turned down at once): its shard stays, the cluster
	// says why, and its rows still read. Then customer goes back into the spec.
	s.apply(cluster(keyspace("commerce", 1)))
	customerShard := names.Shard("demo", "customer", "x-x")
	s.eventually("the cluster keeping the serving customer shard", func() (bool, error) {
		c, err := api.VitessClusters(ns).Get(ctx, "demo", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		progressing := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionProgressing)
		return c.Status.ObservedGeneration == c.Generation && progressing != nil && progressing.Reason == "TurndownPending" &&
			strings.HasSuffix(progressing.Message, ": customer/-"), nil
	})
	// Through two readings of the topology (every 15 s), which used to leave customer out.
	for range 15 {
		time.Sleep(2 * time.Second)
		if _, err := api.VitessShards(ns).Get(ctx, customerShard, metav1.GetOptions{}); err != nil {
			t.Fatalf("customer's shard once its keyspace left the spec: %v", err)
		}
	}
	var kept int
	if err := customerDB.QueryRowContext(ctx, "select count(*) from customer").Scan(&kept); err != nil || kept != customers+1 {
		t.Fatalf("customers through vtgate once their keyspace left the spec: %d (%v), want %d", kept, err, customers+1)
	}
	s.apply(cluster(keyspace("commerce", 1), keyspace("customer", 1)))

	// 302: a sharded VSchema for customer and a second partitioning, -80 and 80-.
	s.vschema(customer, `{"sharded": true, "vindexes": {"hash": {"type": "hash"}},
		"tables": {"customer": {"column_vindexes": [{"column": "customer_id", "name": "hash"}]},
		           "corder": {"column_vindexes": [{"column": "customer_id", "name": "hash"}]}}}`)
	s.apply(cluster(keyspace("commerce", 1), keyspace("customer", 1, 2)))
	s.runTablets("customer", "-80")
	s.runTablets("customer", "80-")
	resharded, err := api.VitessKeyspaces(ns).Reshard(ctx, customer, &v1alpha1.VitessReshardRequest{
		ObjectMeta: metav1.ObjectMeta{Name: customer}, Workflow: "cust2cust", SourceShards: []string{"-"}, TargetShards: []string{"-80", "80-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.waitWorkflow(resharded.Name, "copied and running", func(w *v1alpha1.VitessWorkflow) bool {
		return w.Status.Phase == v1alpha1.WorkflowPhaseRunning && w.Status.CopyProgress == "100%" && len(w.Status.Streams) == 2
	})
	s.vdiffClean(resharded.Name)
	s.switchReads(resharded.Name, "rdonly", "replica")
	s.switchWrites(resharded.Name)
	s.complete(resharded.Name)

	// 306: the old partitioning goes; its shard is turned down now that it no longer serves.
	oldShard := names.Shard("demo", "customer", "x-x")
	s.apply(cluster(keyspace("commerce", 1), keyspace("customer", 2)))
	s.eventually("the old customer shard turned down", func() (bool, error) {
		_, err := api.VitessShards(ns).Get(ctx, oldShard, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	s.stopTablets("customer", "-")

	// Every row once, on the shard its customer_id hashes to.
	seen := map[int64]string{}
	for _, shard := range []string{"-80", "80-"} {
		rows, err := backend.Open(t, "customer:"+shard).QueryContext(ctx, "select customer_id from customer")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			if previous, dup := seen[id]; dup {
				t.Errorf("customer %d is on shard %s and %s", id, previous, shard)
			}
			seen[id] = shard
			if want := shardOf(id); want != shard {
				t.Errorf("customer %d is on shard %s, its hash puts it on %s", id, shard, want)
			}
		}
		_ = rows.Close()
	}
	if len(seen) != customers+1 {
		t.Errorf("%d customers across -80 and 80-, want %d", len(seen), customers+1)
	}
	var orders int
	if err := customerDB.QueryRowContext(ctx, "select count(*) from corder").Scan(&orders); err != nil || orders != customers {
		t.Errorf("orders through vtgate: %d (%v), want %d", orders, err, customers)
	}

	// The extra flag is vttablet's default: the tablets' spec changes, not what they do.
	const rolledPools = `[{cell: zone1, type: replica, replicas: 2, vttablet: {extraFlags: {grpc-max-message-size: "16777216"}}}, ` +
		`{cell: zone1, type: rdonly, replicas: 1, vttablet: {extraFlags: {grpc-max-message-size: "16777216"}}}]`
	s.rollCommerce(cluster(Keyspace("commerce", rolledPools, 1), keyspace("customer", 2)))
}

// story holds what Run's steps share.
type story struct {
	t       *testing.T
	ctx     context.Context
	cp      *framework.ControlPlane
	ns      string
	api     typed.VitessV1alpha1Interface
	backend Backend
}

// runTablets hands the tablet Pods the reconciler made for keyspace/shard to the backend, and
// waits for the reconciler to elect the shard's primary once they run.
func (s *story) runTablets(keyspace, shard string) {
	s.t.Helper()
	shardObject := names.Shard("demo", keyspace, shardLabel(s.t, shard))
	var pods []corev1.Pod
	s.eventually("tablet Pods of "+keyspace+"/"+shard, func() (bool, error) {
		pods = s.tabletPods(keyspace, shard)
		return len(pods) == 3, nil
	})
	s.backend.TabletsCreated(s.t, keyspace, shard, pods)
	s.eventually("a primary elected for "+keyspace+"/"+shard+" ("+shardObject+")", func() (bool, error) {
		got, err := s.api.VitessShards(s.ns).Get(s.ctx, shardObject, metav1.GetOptions{})
		return err == nil && got.Status.PrimaryAlias != "", err
	})
}

// stopTablets tells the backend once the reconciler has deleted the tablet Pods of keyspace/shard.
func (s *story) stopTablets(keyspace, shard string) {
	s.t.Helper()
	s.eventually("tablet Pods of "+keyspace+"/"+shard+" deleted", func() (bool, error) {
		return len(s.tabletPods(keyspace, shard)) == 0, nil
	})
	s.backend.TabletsDeleted(s.t, keyspace, shard)
}

// tabletPods are keyspace/shard's tablet Pods that are not being deleted.
func (s *story) tabletPods(keyspace, shard string) []corev1.Pod {
	selector := labels.SelectorFromSet(labels.Set{vitessapi.LabelComponent: "vttablet", vitessapi.LabelKeyspace: keyspace})
	pods, err := s.cp.Client().CoreV1().Pods(s.ns).List(s.ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		s.t.Fatal(err)
	}
	var live []corev1.Pod
	for _, pod := range pods.Items {
		if pod.Labels[vitessapi.LabelShard] == shardLabel(s.t, shard) && pod.DeletionTimestamp == nil {
			live = append(live, pod)
		}
	}
	return live
}

// shardLabel is the operator's safe form of a shard name in names and labels: "-80" is "x-80".
func shardLabel(t *testing.T, shard string) string {
	keyRange, err := vitessapi.ParseKeyRange(shard)
	if err != nil {
		t.Fatal(err)
	}
	return keyRange.SafeName()
}

// vtctldOutage takes vtctld away mid-story: actions answer 503, the workflow says so, and all
// resumes once vtctld is back.
func (s *story) vtctldOutage(workflow string) {
	s.t.Helper()
	restart, ok := s.backend.VtctldOutage(s.t)
	if !ok {
		s.t.Log("vtctld outage skipped: this backend cannot stop vtctld")
		return
	}
	_, err := s.workflows().SwitchReads(s.ctx, workflow, &v1alpha1.VitessSwitchReadsRequest{ObjectMeta: metav1.ObjectMeta{Name: workflow}}, metav1.CreateOptions{})
	if !apierrors.IsServiceUnavailable(err) {
		s.t.Errorf("switchreads with vtctld stopped: got %v, want 503", err)
	}
	s.waitWorkflow(workflow, "Ready=False VtctldUnreachable", func(w *v1alpha1.VitessWorkflow) bool {
		ready := meta.FindStatusCondition(w.Status.Conditions, v1alpha1.ConditionReady)
		return ready != nil && ready.Reason == "VtctldUnreachable"
	})
	restart()
	s.waitWorkflow(workflow, "running again", func(w *v1alpha1.VitessWorkflow) bool {
		return meta.IsStatusConditionTrue(w.Status.Conditions, v1alpha1.ConditionReady)
	})
}

// shardOf is the shard of -80 and 80- that Vitess' hash vindex puts a customer id on: the keyspace
// id is the id, big-endian, encrypted with DES under a zero key.
func shardOf(id int64) string {
	block, err := des.NewCipher(make([]byte, 8))
	if err != nil {
		panic(err)
	}
	var plain, keyspaceID [8]byte
	binary.BigEndian.PutUint64(plain[:], uint64(id))
	block.Encrypt(keyspaceID[:], plain[:])
	if keyspaceID[0] < 0x80 {
		return "-80"
	}
	return "80-"
}
