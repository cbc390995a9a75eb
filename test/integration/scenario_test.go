package integration

import (
	"context"
	"crypto/des"
	"database/sql"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	vitessapi "github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	typed "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned/typed/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// TestScenario is the seed's story, driven only through the Kubernetes API, on a real Vitess: a
// real etcd topology and vtctld, and for every tablet Pod the reconciler creates (on kwok) a real
// vttablet with its mysqld, with the Pod's uid, keyspace, shard and type. vtgate carries the
// rows, read and written with a MySQL driver.
//
// commerce gets its schema and VSchema through subresources and rows through vtgate; keyspace
// customer is added; a MoveTables of product, applied as a VitessWorkflow, is started and
// cancelled; MoveTables
// commerce2customer moves customer and corder (VDiff clean, rdonly reads switched, reversed and
// switched again, then replica reads, writes, complete); customer gets a sharded VSchema and a
// second partitioning (-80, 80-); Reshard cust2cust splits it (VDiff, switches, complete); the old
// partitioning is removed and its shard turned down; every row is then on exactly one shard, the
// right one. Along the way: refusals (writes before reads, complete before traffic moved), a
// tenant without switchwrites, another namespace's view, vtctld stopped mid-scenario, and a
// rolling update of commerce whose primary is moved by a planned reparent and replaced last.
func TestScenario(t *testing.T) {
	// The whole story takes minutes (a dozen tablets, two workflows); each wait in it has
	// testContext's bound.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	dir := filepath.Join(repoRoot, ".local", "vt", "scenario")
	topo, vtctld := vitess.StartForTest(ctx, t, dir)
	ns := newNamespace(t, "scenario")
	api := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1()
	s := &scenario{t: t, ctx: ctx, ns: ns, api: api, topo: topo, dir: dir, tablets: map[string]*vitess.Tablet{}}

	cluster := func(keyspaces ...string) string { return realVitessCluster(ns, topo, vtctld, keyspaces...) }
	const pools = "[{cell: zone1, type: replica, replicas: 2}, {cell: zone1, type: rdonly, replicas: 1}]"
	keyspace := func(name string, parts ...int) string { return realKeyspace(name, pools, parts...) }

	// 101: commerce, one shard; the reconciler elects its primary once the tablets run.
	mustApply(t, cluster(keyspace("commerce", 1)))
	s.runTablets("commerce", "-")
	commerce := names.Keyspace("demo", "commerce")
	s.vschema(commerce, `{"tables": {"product": {}, "customer": {}, "corder": {}}}`)
	s.schema(commerce, `
create table product(sku varbinary(128), description varbinary(128), price bigint, primary key(sku));
create table customer(customer_id bigint not null, email varbinary(128), primary key(customer_id));
create table corder(order_id bigint not null, customer_id bigint, sku varbinary(128), price bigint, primary key(order_id));`)
	gate := vitess.StartVtgateForTest(ctx, t, topo, filepath.Join(dir, "vtgate"), "zone1")
	db := gate.Open(t, "commerce")
	const customers = 40
	s.exec(db, "insert into product(sku, description, price) values ('SKU-1001', 'Monitor', 100), ('SKU-1002', 'Keyboard', 30)")
	for id := 1; id <= customers; id++ {
		s.exec(db, fmt.Sprintf("insert into customer(customer_id, email) values (%d, 'user%d@example.com')", id, id))
		s.exec(db, fmt.Sprintf("insert into corder(order_id, customer_id, sku, price) values (%d, %d, 'SKU-1001', 100)", 1000+id, id))
	}

	// 201: keyspace customer, then MoveTables of customer and corder into it.
	mustApply(t, cluster(keyspace("commerce", 1), keyspace("customer", 1)))
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
	s.vdiffClean(moved.Name)

	// vtctld goes away mid-scenario: actions answer 503, the workflow says so, and all resumes.
	vtctld.Stop()
	_, err = api.VitessWorkflows(ns).SwitchReads(ctx, moved.Name, &v1alpha1.VitessSwitchReadsRequest{ObjectMeta: metav1.ObjectMeta{Name: moved.Name}}, metav1.CreateOptions{})
	if !apierrors.IsServiceUnavailable(err) {
		t.Errorf("switchreads with vtctld stopped: got %v, want 503", err)
	}
	s.waitWorkflow(moved.Name, "Ready=False VtctldUnreachable", func(w *v1alpha1.VitessWorkflow) bool {
		ready := meta.FindStatusCondition(w.Status.Conditions, v1alpha1.ConditionReady)
		return ready != nil && ready.Reason == "VtctldUnreachable"
	})
	if err := vtctld.Start(ctx); err != nil {
		t.Fatal(err)
	}
	s.waitWorkflow(moved.Name, "running again", func(w *v1alpha1.VitessWorkflow) bool {
		return meta.IsStatusConditionTrue(w.Status.Conditions, v1alpha1.ConditionReady)
	})

	s.switchReads(moved.Name, "rdonly")
	s.reverseTraffic(moved.Name) // the rdonly reads go back to commerce...
	s.switchReads(moved.Name, "rdonly")
	s.switchReads(moved.Name, "replica")
	s.switchWrites(moved.Name)
	s.complete(moved.Name)
	customerDB := gate.Open(t, "customer")
	s.exec(customerDB, fmt.Sprintf("insert into customer(customer_id, email) values (%d, 'late@example.com')", customers+1))

	// 302: a sharded VSchema for customer and a second partitioning, -80 and 80-.
	s.vschema(customer, `{"sharded": true, "vindexes": {"hash": {"type": "hash"}},
		"tables": {"customer": {"column_vindexes": [{"column": "customer_id", "name": "hash"}]},
		           "corder": {"column_vindexes": [{"column": "customer_id", "name": "hash"}]}}}`)
	mustApply(t, cluster(keyspace("commerce", 1), keyspace("customer", 1, 2)))
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
	mustApply(t, cluster(keyspace("commerce", 1), keyspace("customer", 2)))
	eventually(t, "the old customer shard turned down", func() (bool, error) {
		_, err := api.VitessShards(ns).Get(ctx, oldShard, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	s.stopTablets("customer", "-")

	// Every row once, on the shard its customer_id hashes to.
	seen := map[int64]string{}
	for _, shard := range []string{"-80", "80-"} {
		rows, err := gate.Open(t, "customer:"+shard).QueryContext(ctx, "select customer_id from customer")
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

	s.rollCommerce()
}

// scenario holds what TestScenario's steps share.
type scenario struct {
	t       *testing.T
	ctx     context.Context
	ns      string
	api     typed.VitessV1alpha1Interface
	topo    *vitess.Topology
	dir     string
	tablets map[string]*vitess.Tablet // by Pod name
}

// runTablets starts a real tablet for each tablet Pod the reconciler made for keyspace/shard,
// with the Pod's cell, uid and type, and waits for the reconciler to elect the shard's primary.
func (s *scenario) runTablets(keyspace, shard string) {
	t := s.t
	t.Helper()
	shardObject := names.Shard("demo", keyspace, shardLabel(t, shard))
	var pods map[string]map[string]string
	eventually(t, "tablet Pods of "+keyspace+"/"+shard, func() (bool, error) {
		pods = s.tabletPods(keyspace, shard)
		return len(pods) == 3, nil
	})
	for name, labels := range pods {
		uid, err := strconv.ParseUint(labels[reconcile.LabelTabletUID], 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		s.tablets[name] = vitess.StartTabletForTest(s.ctx, t, s.topo, filepath.Join(s.dir, labels[reconcile.LabelTabletUID]), vitess.TabletConfig{
			Cell: labels[reconcile.LabelCell], Keyspace: keyspace, Shard: shard, UID: uint32(uid), Type: labels[reconcile.LabelTabletType],
		})
	}
	eventually(t, "a primary elected for "+keyspace+"/"+shard+" ("+shardObject+")", func() (bool, error) {
		got, err := s.api.VitessShards(s.ns).Get(s.ctx, shardObject, metav1.GetOptions{})
		return err == nil && got.Status.PrimaryAlias != "", err
	})
}

// tabletPods maps the names of keyspace/shard's tablet Pods to their labels.
func (s *scenario) tabletPods(keyspace, shard string) map[string]map[string]string {
	selector := labels.SelectorFromSet(labels.Set{reconcile.LabelComponent: "vttablet", reconcile.LabelKeyspace: keyspace})
	pods, err := kubeClient(s.t).CoreV1().Pods(s.ns).List(s.ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		s.t.Fatal(err)
	}
	byName := map[string]map[string]string{}
	for _, pod := range pods.Items {
		if pod.Labels[reconcile.LabelShard] == shardLabel(s.t, shard) && pod.DeletionTimestamp == nil {
			byName[pod.Name] = pod.Labels
		}
	}
	return byName
}

// shardLabel is the operator's safe form of a shard name in names and labels: "-80" is "x-80".
func shardLabel(t *testing.T, shard string) string {
	keyRange, err := vitessapi.ParseKeyRange(shard)
	if err != nil {
		t.Fatal(err)
	}
	return keyRange.SafeName()
}

// stopTablets stops the real tablets of keyspace/shard once the reconciler has deleted their Pods.
func (s *scenario) stopTablets(keyspace, shard string) {
	eventually(s.t, "tablet Pods of "+keyspace+"/"+shard+" deleted", func() (bool, error) {
		return len(s.tabletPods(keyspace, shard)) == 0, nil
	})
	for name, tablet := range s.tablets {
		if tablet.Config.Keyspace == keyspace && tablet.Config.Shard == shard {
			tablet.Stop()
			delete(s.tablets, name)
		}
	}
}

func (s *scenario) vschema(keyspace, vschema string) {
	s.t.Helper()
	if _, err := s.api.VitessKeyspaces(s.ns).UpdateVSchema(s.ctx, keyspace, &v1alpha1.VitessKeyspaceVSchema{
		ObjectMeta: metav1.ObjectMeta{Name: keyspace}, VSchema: runtime.RawExtension{Raw: []byte(vschema)},
	}, metav1.UpdateOptions{}); err != nil {
		s.t.Fatalf("vschema of %s: %v", keyspace, err)
	}
}

// schema posts SQL with plain kubectl, as the README shows.
func (s *scenario) schema(keyspace, sql string) {
	s.t.Helper()
	body := fmt.Sprintf(`{"apiVersion":"vitess.planetscale.com/v1alpha1","kind":"VitessSchemaRequest","metadata":{"name":%q},"sql":%q}`, keyspace, sql)
	path := fmt.Sprintf("/apis/vitess.planetscale.com/v1alpha1/namespaces/%s/vitesskeyspaces/%s/schema", s.ns, keyspace)
	out, err := kubectlWithInput(s.t, body, "create", "--raw", path, "-f", "-")
	if err != nil || strings.Count(out, `"statement"`) != 3 {
		s.t.Fatalf("schema of %s: %v\n%s", keyspace, err, out)
	}
}

func (s *scenario) exec(db *sql.DB, statement string) {
	s.t.Helper()
	if _, err := db.ExecContext(s.ctx, statement); err != nil {
		s.t.Fatalf("%s: %v", statement, err)
	}
}

func (s *scenario) workflows() typed.VitessWorkflowInterface { return s.api.VitessWorkflows(s.ns) }

func (s *scenario) waitWorkflow(name, what string, done func(*v1alpha1.VitessWorkflow) bool) *v1alpha1.VitessWorkflow {
	s.t.Helper()
	var last *v1alpha1.VitessWorkflow
	defer func() {
		if s.t.Failed() && last != nil {
			s.t.Logf("workflow %s last seen: %+v", name, last.Status)
		}
	}()
	eventually(s.t, "workflow "+name+" "+what, func() (bool, error) {
		got, err := s.workflows().Get(s.ctx, name, metav1.GetOptions{})
		last = got
		return err == nil && done(got), err
	})
	return last
}

// refused checks that an action is refused with 409 and changes nothing.
func (s *scenario) refused(name, what string, act func(typed.VitessWorkflowInterface) error) {
	s.t.Helper()
	before, err := s.workflows().Get(s.ctx, name, metav1.GetOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	if err := act(s.workflows()); !apierrors.IsConflict(err) {
		s.t.Errorf("%s: got %v, want 409", what, err)
	}
	after, err := s.workflows().Get(s.ctx, name, metav1.GetOptions{})
	if err != nil || after.Status.PendingAction != nil || after.Status.TrafficState != before.Status.TrafficState {
		s.t.Errorf("%s changed the workflow: %v %+v", what, err, after.Status)
	}
}

// tenantChecks: a tenant who may only read cannot switch writes, and one in another namespace
// does not see the workflow at all.
func (s *scenario) tenantChecks(workflow string) {
	t := s.t
	core := kubeClient(t)
	other := newNamespace(t, "scenario-other")
	for _, binding := range []struct{ namespace, user, role string }{{s.ns, "reader", "vitess-viewer"}, {other, "neighbour", "edit"}} {
		if _, err := core.RbacV1().RoleBindings(binding.namespace).Create(s.ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: binding.user},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: binding.user}},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: binding.role},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	request := &v1alpha1.VitessSwitchWritesRequest{ObjectMeta: metav1.ObjectMeta{Name: workflow}}
	eventually(t, "the reader may read the workflow", func() (bool, error) {
		_, err := vitessClient(t, controlPlane.ImpersonatedConfig("reader")).VitessV1alpha1().VitessWorkflows(s.ns).Get(s.ctx, workflow, metav1.GetOptions{})
		return err == nil, nil
	})
	_, err := vitessClient(t, controlPlane.ImpersonatedConfig("reader")).VitessV1alpha1().VitessWorkflows(s.ns).SwitchWrites(s.ctx, workflow, request, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("a reader's switchwrites: got %v, want 403", err)
	}
	eventually(t, "the neighbour may act in its own namespace", func() (bool, error) {
		_, err := vitessClient(t, controlPlane.ImpersonatedConfig("neighbour")).VitessV1alpha1().VitessWorkflows(other).List(s.ctx, metav1.ListOptions{})
		return err == nil, nil
	})
	_, err = vitessClient(t, controlPlane.ImpersonatedConfig("neighbour")).VitessV1alpha1().VitessWorkflows(other).SwitchWrites(s.ctx, workflow, request, metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("switchwrites on %s from another namespace: got %v, want 404", workflow, err)
	}
}

func (s *scenario) vdiffClean(name string) {
	s.t.Helper()
	started, err := s.workflows().VDiff(s.ctx, name, &v1alpha1.VitessVDiffRequest{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		s.t.Fatalf("vdiff of %s: %v", name, err)
	}
	uuid := started.Status.LastVDiff.UUID
	done := s.waitWorkflow(name, "VDiff "+uuid+" completed", func(w *v1alpha1.VitessWorkflow) bool {
		return w.Status.LastVDiff != nil && w.Status.LastVDiff.UUID == uuid && (w.Status.LastVDiff.State == "completed" || w.Status.LastVDiff.State == "error")
	})
	if vdiff := done.Status.LastVDiff; vdiff.State != "completed" || vdiff.HasMismatch || vdiff.RowsCompared == 0 {
		s.t.Errorf("VDiff of %s: %+v, want completed, rows compared, no mismatch", name, vdiff)
	}
}

// switchReads moves reads with plain kubectl, as the README shows, and waits for the outcome.
func (s *scenario) switchReads(name string, types ...string) {
	s.t.Helper()
	body := fmt.Sprintf(`{"apiVersion":"vitess.planetscale.com/v1alpha1","kind":"VitessSwitchReadsRequest","metadata":{"name":%q},"tabletTypes":["%s"]}`,
		name, strings.Join(types, `","`))
	path := fmt.Sprintf("/apis/vitess.planetscale.com/v1alpha1/namespaces/%s/vitessworkflows/%s/switchreads", s.ns, name)
	if out, err := kubectlWithInput(s.t, body, "create", "--raw", path, "-f", "-"); err != nil {
		s.t.Fatalf("switchreads %v of %s: %v\n%s", types, name, err, out)
	}
	s.waitDone(name, "SwitchReads", func(w *v1alpha1.VitessWorkflow) bool {
		for _, t := range types {
			if !strings.Contains(strings.Join(w.Status.ReadsSwitched, ","), t) {
				return false
			}
		}
		return true
	})
}

// reverseTraffic moves back whatever has moved, the request naming no tablet types.
func (s *scenario) reverseTraffic(name string) {
	s.t.Helper()
	if _, err := s.workflows().ReverseTraffic(s.ctx, name, &v1alpha1.VitessReverseTrafficRequest{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		s.t.Fatalf("reversetraffic of %s: %v", name, err)
	}
	s.waitDone(name, "ReverseTraffic", func(w *v1alpha1.VitessWorkflow) bool {
		return len(w.Status.ReadsSwitched) == 0 && !w.Status.WritesSwitched
	})
}

// cancelled starts a second MoveTables into keyspace customer (of table product), this one
// applied as a VitessWorkflow with kubectl, and cancels it: Vitess deletes the workflow and what
// it copied, and product stays served by commerce.
func (s *scenario) cancelled() {
	t := s.t
	t.Helper()
	mustApply(t, fmt.Sprintf(`apiVersion: vitess.planetscale.com/v1alpha1
kind: VitessWorkflow
metadata: {name: products, namespace: %s}
spec: {type: MoveTables, cluster: demo, targetKeyspace: customer, sourceKeyspace: commerce, tables: [product]}
`, s.ns))
	const workflow = "products"
	s.waitWorkflow(workflow, "copied and running", func(w *v1alpha1.VitessWorkflow) bool {
		return w.Status.Phase == v1alpha1.WorkflowPhaseRunning && w.Status.CopyProgress == "100%"
	})
	if _, err := s.workflows().Cancel(s.ctx, workflow, &v1alpha1.VitessCancelRequest{ObjectMeta: metav1.ObjectMeta{Name: workflow}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("cancel of %s: %v", workflow, err)
	}
	s.waitDone(workflow, "Cancel", func(w *v1alpha1.VitessWorkflow) bool { return w.Status.Phase == v1alpha1.WorkflowPhaseCancelled })
	_, err := s.workflows().SwitchReads(s.ctx, workflow, &v1alpha1.VitessSwitchReadsRequest{ObjectMeta: metav1.ObjectMeta{Name: workflow}}, metav1.CreateOptions{})
	if !apierrors.IsConflict(err) {
		t.Errorf("switchreads of a cancelled workflow: got %v, want 409", err)
	}
}

func (s *scenario) switchWrites(name string) {
	s.t.Helper()
	if _, err := s.workflows().SwitchWrites(s.ctx, name, &v1alpha1.VitessSwitchWritesRequest{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		s.t.Fatalf("switchwrites of %s: %v", name, err)
	}
	s.waitDone(name, "SwitchWrites", func(w *v1alpha1.VitessWorkflow) bool { return w.Status.WritesSwitched })
}

func (s *scenario) complete(name string) {
	s.t.Helper()
	if _, err := s.workflows().Complete(s.ctx, name, &v1alpha1.VitessCompleteRequest{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		s.t.Fatalf("complete of %s: %v", name, err)
	}
	s.waitDone(name, "Complete", func(w *v1alpha1.VitessWorkflow) bool { return w.Status.Phase == v1alpha1.WorkflowPhaseCompleted })
}

// waitDone waits for an action's condition to be True and the state it leads to, and fails at
// once if the action failed.
func (s *scenario) waitDone(name, condition string, reached func(*v1alpha1.VitessWorkflow) bool) {
	s.t.Helper()
	s.waitWorkflow(name, condition+" done", func(w *v1alpha1.VitessWorkflow) bool {
		c := meta.FindStatusCondition(w.Status.Conditions, condition)
		if c != nil && c.Status == metav1.ConditionFalse && w.Status.PendingAction == nil {
			s.t.Fatalf("%s of %s failed: %s", condition, name, c.Message)
		}
		return w.Status.PendingAction == nil && c != nil && c.Status == metav1.ConditionTrue && reached(w)
	})
}

// rollCommerce changes commerce's tablet image: the reconciler replaces the replicas first, then
// moves the primary role away with a planned reparent and replaces the old primary's Pod last.
func (s *scenario) rollCommerce() {
	t := s.t
	shardName := names.Shard("demo", "commerce", "x-x")
	before, err := s.api.VitessShards(s.ns).Get(s.ctx, shardName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	oldPrimary := before.Status.PrimaryAlias
	if _, err := s.api.VitessClusters(s.ns).Patch(s.ctx, "demo", types.MergePatchType, []byte(`{"spec":{"images":{"vttablet":"vitess/lite:v24.0.1"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "commerce rolled, with a new primary", func() (bool, error) {
		shard, err := s.api.VitessShards(s.ns).Get(s.ctx, shardName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		progressing := meta.FindStatusCondition(shard.Status.Conditions, v1alpha1.ConditionProgressing)
		return shard.Status.PrimaryAlias != "" && shard.Status.PrimaryAlias != oldPrimary && progressing != nil &&
			progressing.Status == metav1.ConditionFalse && shard.Status.Tablets.Ready == 3, nil
	})
	// Events are written in the background: wait for the three replacements and the reparent.
	var replaced []string
	reparented := false
	eventually(t, "the ReplacingTablet and PlannedReparent Events", func() (bool, error) {
		events, err := kubeClient(t).EventsV1().Events(s.ns).List(s.ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		sort.SliceStable(events.Items, func(i, j int) bool { return events.Items[i].EventTime.Before(&events.Items[j].EventTime) })
		replaced, reparented = nil, false
		for _, event := range events.Items {
			if event.Regarding.Name != shardName {
				continue
			}
			switch event.Reason {
			case "ReplacingTablet":
				replaced = append(replaced, event.Note)
			case "PlannedReparent":
				reparented = true
			}
		}
		return reparented && len(replaced) == 3, nil
	})
	if !strings.Contains(replaced[len(replaced)-1], oldPrimary) {
		t.Errorf("tablets replaced in this order: %q; want the old primary %s last", replaced, oldPrimary)
	}
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
