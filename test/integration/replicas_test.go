package integration

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"

	vitessapi "github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	typed "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned/typed/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
	"github.com/vitess-apiserver/vitess-apiserver/test/scenario"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// reconcilerLease is the Lease the replicas compete for (pkg/reconcile/leader.go).
const reconcilerLease = "vitess-apiserver-reconciler"

// TestLeaderKilledMidAction runs two server replicas on one etcd and kills the leading one with
// SIGKILL while Vitess carries out what it asked for: first a SwitchTraffic of writes, then the
// planned reparent of a tablet rollout. Each time the other replica takes over, the action takes
// effect once, and the story goes on: the workflow completes after a clean VDiff, the shard ends
// with one primary and the old primary's Pod replaced, and vtgate reads every row.
//
// The leader's calls go to vtctld through a framework.Relay, which withholds their answers and
// keeps vtctld's side of the connections open once the leader is dead: vtctld carries out the
// call to the end, as when a leader dies after its request left, and the leader never learns the
// outcome. That is the case the loop must not get wrong: an action claimed, carried out, and not
// recorded.
func TestLeaderKilledMidAction(t *testing.T) {
	// Four tablets (mysqlctl init, mysqld, vttablet) and two lease expiries take longer than
	// testContext allows.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	ns := newNamespace(t, "replicas")
	dir := vitess.DataDir(t, "vt", "replicas")
	topo, vtctld := vitess.StartForTest(ctx, t, dir)
	relay, err := framework.StartRelay(vtctld.GRPCAddress)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(relay.Close)
	replicaA, replicaB := startReplicas(ctx, t, ns)
	leases := kubeClient(t).CoordinationV1().Leases(ns)
	// The server names itself <hostname>_<random uuid>, so which replica holds the Lease is told
	// by elimination: A ran alone until it held it, and the holder after a replica's death is the
	// other one.
	leaseHolder := func() string {
		lease, err := leases.Get(ctx, reconcilerLease, metav1.GetOptions{})
		if err != nil || lease.Spec.HolderIdentity == nil {
			return ""
		}
		return *lease.Spec.HolderIdentity
	}
	waitNewHolder := func(what, previous string) string {
		t.Helper()
		holder := ""
		eventually(t, what, func() (bool, error) {
			holder = leaseHolder()
			return holder != "" && holder != previous, nil
		})
		return holder
	}
	holderA := waitNewHolder("replica A holding the reconciler's Lease", "")
	startReplicaB(ctx, t, replicaB)

	const commercePools = "[{cell: zone1, type: replica, replicas: 3}]"
	cluster := realVitessClusterVia(ns, topo, relay.Address,
		scenario.Keyspace("commerce", commercePools, 1), scenario.Keyspace("customer", "[{cell: zone1, type: replica, replicas: 1}]", 1))
	// External: the image change below replaces only the Pod this test releases, the primary's.
	cluster = strings.Replace(cluster, "spec:\n", "spec:\n  updateStrategy: {type: External}\n", 1)
	mustApply(t, cluster)
	backend := &kwokBackend{ctx: ctx, dir: dir, topo: topo, vtctld: vtctld}
	api := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1()
	tabletsOf := map[string]int{"commerce": 3, "customer": 1}
	for keyspace, tablets := range tabletsOf {
		startTablets(ctx, t, backend, ns, keyspace, tablets)
	}
	for keyspace := range tabletsOf {
		waitPrimary(ctx, t, api, ns, keyspace)
	}

	commerce, customer := names.Keyspace("demo", "commerce"), names.Keyspace("demo", "customer")
	if _, err := api.VitessKeyspaces(ns).UpdateVSchema(ctx, commerce, &v1alpha1.VitessKeyspaceVSchema{
		ObjectMeta: metav1.ObjectMeta{Name: commerce}, VSchema: runtime.RawExtension{Raw: []byte(`{"tables": {"product": {}, "customer": {}}}`)},
	}, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.VitessKeyspaces(ns).ApplySchema(ctx, commerce, &v1alpha1.VitessSchemaRequest{
		ObjectMeta: metav1.ObjectMeta{Name: commerce},
		SQL: `create table product(sku varbinary(128), price bigint, primary key(sku));
create table customer(customer_id bigint not null, email varbinary(128), primary key(customer_id));`,
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	db := backend.Open(t, "commerce")
	eventually(t, "vtgate routing commerce's queries to its primary", func() (bool, error) {
		_, err := db.ExecContext(ctx, "select 1 from product")
		return err == nil, err
	})
	const rows = 10
	for id := 1; id <= rows; id++ {
		mustExec(ctx, t, db, fmt.Sprintf("insert into customer(customer_id, email) values (%d, 'user%d@example.com')", id, id))
		mustExec(ctx, t, db, fmt.Sprintf("insert into product(sku, price) values ('SKU-%d', %d)", id, id))
	}

	holderB := switchWritesKillingLeader(ctx, t, api, ns, customer, relay, vtctld, replicaA, replicaB, holderA, waitNewHolder)
	customerDB := backend.Open(t, "customer")
	eventually(t, "every customer read through vtgate from keyspace customer", func() (bool, error) {
		var n int
		err := customerDB.QueryRowContext(ctx, "select count(*) from customer").Scan(&n)
		return err == nil && n == rows, fmt.Errorf("%d rows: %v", n, err)
	})
	mustExec(ctx, t, customerDB, fmt.Sprintf("insert into customer(customer_id, email) values (%d, 'late@example.com')", rows+1))

	// A comes back as the standby; now B leads, and is killed.
	if err := replicaA.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	reparentKillingLeader(ctx, t, api, backend, ns, relay, vtctld, replicaB, replicaA, holderB, waitNewHolder)
	eventually(t, "every product read through vtgate", func() (bool, error) {
		var n int
		err := db.QueryRowContext(ctx, "select count(*) from product").Scan(&n)
		return err == nil && n == rows, fmt.Errorf("%d rows: %v", n, err)
	})
	// vtgate learns of the new primary from its health check, which may trail the reparent.
	eventually(t, "a write taken by the new primary", func() (bool, error) {
		_, err := db.ExecContext(ctx, "insert into product(sku, price) values ('SKU-after', 1) on duplicate key update price = 1")
		return err == nil, err
	})
}

// startReplicas starts two servers on one etcd of their own, competing for the reconciler's Lease
// in namespace ns: A at once, registered behind the APIService; B is returned unstarted, to start
// once A leads, so that the first holder of the Lease is known to be A. Both are stopped, and the
// tier's own server registered again, when the test ends.
func startReplicas(ctx context.Context, t *testing.T, ns string) (a *framework.Server, b *replica) {
	t.Helper()
	etcdDir := filepath.Join(controlPlane.Dir(), "replicas-etcd-"+ns)
	etcd, err := framework.StartEtcd(ctx, controlPlane.Tools().Etcd, etcdDir, filepath.Join(controlPlane.LogDir(), "replicas-etcd-"+ns+".log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		etcd.Stop()
		_ = os.RemoveAll(etcdDir)
	})
	// The shipped RBAC lets the server hold Leases in vitess-system only, where the tier's own
	// server holds this one: the replicas compete in the test's namespace, with the same rights.
	core := kubeClient(t)
	if _, err := core.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "leader-election"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := core.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "leader-election"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: framework.ServerName, Namespace: framework.ServerNamespace}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "leader-election"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The tier's server serves the API again once the replicas are gone (cleanups run last first).
	t.Cleanup(func() {
		if err := server.Register(context.Background()); err != nil {
			t.Errorf("registering the tier's server again: %v", err)
		}
	})
	options := func(name string, standby bool) framework.ServerOptions {
		return framework.ServerOptions{
			Name:        name,
			EtcdServers: []string{etcd.URL},
			Standby:     standby,
			ExtraArgs:   []string{"--allow-vtctld-address-annotation", "--leader-election-namespace=" + ns},
		}
	}
	a, err = controlPlane.StartVitessAPIServer(ctx, options(framework.ServerName+"-a-"+ns, false))
	if err != nil {
		t.Fatal(err)
	}
	// Killed rather than stopped: a stopping server waits for the watches the control plane holds
	// open on it (15 s here, when the framework kills it anyway), and nothing is left to check.
	t.Cleanup(a.Kill)
	return a, &replica{options: options(framework.ServerName+"-b-"+ns, true)}
}

// replica is a server replica started later than its options are known.
type replica struct {
	options framework.ServerOptions
	*framework.Server
}

func startReplicaB(ctx context.Context, t *testing.T, b *replica) {
	t.Helper()
	s, err := controlPlane.StartVitessAPIServer(ctx, b.options)
	if err != nil {
		t.Fatal(err)
	}
	b.Server = s
	t.Cleanup(s.Kill)
}

// startTablets starts a real tablet for each of the tablet Pods the reconciler made for
// keyspace's only shard, once there are as many as expected.
func startTablets(ctx context.Context, t *testing.T, backend *kwokBackend, ns, keyspace string, tablets int) {
	t.Helper()
	var pods []corev1.Pod
	eventually(t, "the tablet Pods of "+keyspace, func() (bool, error) {
		pods = tabletPods(ctx, t, ns, keyspace)
		return len(pods) == tablets, nil
	})
	backend.TabletsCreated(t, keyspace, "-", pods)
}

// waitPrimary waits until the reconciler has elected a primary for the one shard of keyspace in
// cluster demo, and returns its tablet alias.
func waitPrimary(ctx context.Context, t *testing.T, api typed.VitessV1alpha1Interface, ns, keyspace string) string {
	t.Helper()
	var primary string
	eventually(t, "a primary elected for "+keyspace, func() (bool, error) {
		shard, err := api.VitessShards(ns).Get(ctx, names.Shard("demo", keyspace, "x-x"), metav1.GetOptions{})
		if err == nil {
			primary = shard.Status.PrimaryAlias
		}
		return err == nil && primary != "", err
	})
	return primary
}

func tabletPods(ctx context.Context, t *testing.T, ns, keyspace string) []corev1.Pod {
	t.Helper()
	pods, err := kubeClient(t).CoreV1().Pods(ns).List(ctx, metav1.ListOptions{
		LabelSelector: vitessapi.LabelComponent + "=" + vitessapi.ComponentVttablet + "," + vitessapi.LabelKeyspace + "=" + keyspace,
	})
	if err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

// switchWritesKillingLeader moves customer from commerce into keyspace object customer and
// switches reads, runs a clean VDiff, then asks to switch writes and kills the leader (A) while
// vtctld switches them; it checks that B takes over and records the switch without asking Vitess
// again, completes the workflow, and returns B's Lease identity.
func switchWritesKillingLeader(ctx context.Context, t *testing.T, api typed.VitessV1alpha1Interface, ns, customer string, relay *framework.Relay,
	vtctld *vitess.Vtctld, leader *framework.Server, standby *replica, leaderIdentity string, waitNewHolder func(what, previous string) string) string {
	t.Helper()
	workflows := api.VitessWorkflows(ns)
	const workflow = "commerce2customer"
	if _, err := api.VitessKeyspaces(ns).MoveTables(ctx, customer, &v1alpha1.VitessMoveTablesRequest{
		ObjectMeta: metav1.ObjectMeta{Name: customer}, Workflow: workflow, SourceKeyspace: "commerce", Tables: []string{"customer"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitWorkflow(t, workflows, workflow, "copied and running", func(w *v1alpha1.VitessWorkflow) bool {
		return w.Status.Phase == v1alpha1.WorkflowPhaseRunning && w.Status.CopyProgress == "100%"
	})
	if _, err := workflows.SwitchReads(ctx, workflow, &v1alpha1.VitessSwitchReadsRequest{
		ObjectMeta: metav1.ObjectMeta{Name: workflow}, TabletTypes: []string{"rdonly", "replica"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitActionDone(t, workflows, workflow, "SwitchReads")
	started, err := workflows.VDiff(ctx, workflow, &v1alpha1.VitessVDiffRequest{ObjectMeta: metav1.ObjectMeta{Name: workflow}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	diffed := waitWorkflow(t, workflows, workflow, "VDiff completed", func(w *v1alpha1.VitessWorkflow) bool {
		return w.Status.LastVDiff != nil && w.Status.LastVDiff.UUID == started.Status.LastVDiff.UUID &&
			(w.Status.LastVDiff.State == "completed" || w.Status.LastVDiff.State == "error")
	})
	if vdiff := diffed.Status.LastVDiff; vdiff.State != "completed" || vdiff.HasMismatch || vdiff.RowsCompared == 0 {
		t.Fatalf("VDiff: %+v, want completed, rows compared, no mismatch", vdiff)
	}

	// A real switch of writes locks the source keyspace; the request's dry run does not.
	const switchingWrites = "Locking keyspace commerce for action SwitchWrites"
	requested, err := workflows.SwitchWrites(ctx, workflow, &v1alpha1.VitessSwitchWritesRequest{ObjectMeta: metav1.ObjectMeta{Name: workflow}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The leader follows the workflow over connections open now: from here on it hears nothing
	// back from vtctld.
	if held := relay.WithholdAnswers(); held == 0 {
		t.Fatal("the leader has no connection to vtctld to withhold answers from")
	}
	pendingID := requested.Status.PendingAction.ID
	waitWorkflow(t, workflows, workflow, "switchwrites claimed by the leader", func(w *v1alpha1.VitessWorkflow) bool {
		return w.Status.PendingAction != nil && w.Status.PendingAction.ID == pendingID && w.Status.PendingAction.StartedAt != nil
	})
	eventually(t, "vtctld switching writes", func() (bool, error) {
		return strings.Count(readFile(t, vtctld.LogPath()), switchingWrites) == 1, nil
	})
	leader.Kill()
	if err := standby.Register(ctx); err != nil {
		t.Fatal(err)
	}
	newLeader := waitNewHolder("replica B taking the Lease over", leaderIdentity)

	waitActionDone(t, workflows, workflow, "SwitchWrites")
	// The status follows Vitess' traffic state in the rounds after the outcome is recorded.
	waitWorkflow(t, workflows, workflow, "all traffic switched", func(w *v1alpha1.VitessWorkflow) bool {
		return w.Status.WritesSwitched && len(w.Status.ReadsSwitched) == 2
	})
	// Once: vtctld switched writes one time, and the new leader recorded it from Vitess' state,
	// not from a second call (which would have answered with a summary of its own, or failed).
	if n := strings.Count(readFile(t, vtctld.LogPath()), switchingWrites); n != 1 {
		t.Errorf("vtctld switched writes %d times, want once (log %s)", n, vtctld.LogPath())
	}
	if note := onlyEvent(ctx, t, ns, workflow, "SwitchWritesDone", "SwitchWritesFailed"); !strings.Contains(note, "carried out (its answer was lost when the loop's leader changed)") {
		t.Errorf("SwitchWrites Event %q; want one recorded from Vitess' state by the new leader", note)
	}

	if _, err := workflows.Complete(ctx, workflow, &v1alpha1.VitessCompleteRequest{ObjectMeta: metav1.ObjectMeta{Name: workflow}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitActionDone(t, workflows, workflow, "Complete")
	waitWorkflow(t, workflows, workflow, "completed", func(w *v1alpha1.VitessWorkflow) bool { return w.Status.Phase == v1alpha1.WorkflowPhaseCompleted })
	return newLeader
}

// reparentKillingLeader rolls commerce's primary under updateStrategy External: a new image, the
// primary's Pod released; and kills the leader while the planned reparent that moves the primary
// role away is under way in vtctld. It checks that the other replica takes over, that Vitess
// reparented once, and that the shard ends with one primary, another tablet, and the old
// primary's Pod replaced.
func reparentKillingLeader(ctx context.Context, t *testing.T, api typed.VitessV1alpha1Interface, backend *kwokBackend, ns string, relay *framework.Relay,
	vtctld *vitess.Vtctld, leader *replica, standby *framework.Server, leaderIdentity string, waitNewHolder func(what, previous string) string) {
	t.Helper()
	core := kubeClient(t).CoreV1().Pods(ns)
	shardName := names.Shard("demo", "commerce", "x-x")
	shard, err := api.VitessShards(ns).Get(ctx, shardName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	oldPrimary := shard.Status.PrimaryAlias
	var oldPod corev1.Pod
	for _, pod := range tabletPods(ctx, t, ns, "commerce") {
		if pod.Labels[vitessapi.LabelCell]+"-"+pod.Labels[vitessapi.LabelTabletUID] == oldPrimary {
			oldPod = pod
		}
	}
	var primaryTablet *vitess.Tablet
	for _, tablet := range backend.tablets {
		if tablet.Alias() == oldPrimary {
			primaryTablet = tablet
		}
	}
	if oldPod.Name == "" || primaryTablet == nil {
		t.Fatalf("no Pod or tablet for the primary %s", oldPrimary)
	}

	const image = "vitess/lite:v24.0.1"
	if _, err := api.VitessClusters(ns).Patch(ctx, "demo", types.MergePatchType, []byte(`{"spec":{"images":{"vttablet":"`+image+`"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the primary's Pod scheduled for replacement", func() (bool, error) {
		pod, err := core.Get(ctx, oldPod.Name, metav1.GetOptions{})
		return err == nil && pod.Annotations[vitessapi.AnnotationRolloutScheduled] != "", err
	})
	// The planned reparent demotes the primary first: with its vttablet frozen, the reparent
	// waits in vtctld, which has it, for as long as this test wants.
	if err := primaryTablet.FreezeVttablet(); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			if err := primaryTablet.ThawVttablet(); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer thaw()
	release := `{"metadata":{"annotations":{"` + vitessapi.AnnotationRolloutReleased + `":"true"}}}`
	if _, err := core.Patch(ctx, oldPod.Name, types.MergePatchType, []byte(release), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	reparenting := "for action PlannedReparentShard(<nil>, AvoidPrimary = " + oldPrimary + ")"
	eventually(t, "vtctld reparenting commerce away from "+oldPrimary, func() (bool, error) {
		return strings.Count(readFile(t, vtctld.LogPath()), "Locking shard commerce/- "+reparenting) == 1, nil
	})
	if held := relay.WithholdAnswers(); held == 0 {
		t.Fatal("the leader has no connection to vtctld to withhold answers from")
	}
	leader.Kill()
	thaw()
	if err := standby.Register(ctx); err != nil {
		t.Fatal(err)
	}
	waitNewHolder("replica A taking the Lease over", leaderIdentity)

	eventually(t, "the old primary's Pod replaced with the new image, under a new primary", func() (bool, error) {
		pod, err := core.Get(ctx, oldPod.Name, metav1.GetOptions{})
		if err != nil || pod.UID == oldPod.UID || pod.Spec.Containers[0].Image != image {
			return false, err
		}
		shard, err := api.VitessShards(ns).Get(ctx, shardName, metav1.GetOptions{})
		return err == nil && shard.Status.PrimaryAlias != "" && shard.Status.PrimaryAlias != oldPrimary &&
			meta.IsStatusConditionTrue(shard.Status.Conditions, v1alpha1.ConditionReady), err
	})
	tablets, err := vitess.RawClient(t, vtctld.GRPCAddress).GetTablets(ctx, &vtctldatapb.GetTabletsRequest{Keyspace: "commerce", Shard: "-"})
	if err != nil {
		t.Fatal(err)
	}
	var primaries []string
	for _, tablet := range tablets.GetTablets() {
		if tablet.GetType() == topodatapb.TabletType_PRIMARY {
			primaries = append(primaries, fmt.Sprintf("%s-%010d", tablet.GetAlias().GetCell(), tablet.GetAlias().GetUid()))
		}
	}
	if len(primaries) != 1 || primaries[0] == oldPrimary {
		t.Errorf("primary tablets of commerce/-: %v; want one, not %s", primaries, oldPrimary)
	}
	// Once: the only reparent is the dead leader's, which vtctld carried out; the new leader saw
	// its effect and replaced the Pod without reparenting again (a second call would be in
	// vtctld's log, and in a PlannedReparent Event, which the dead leader never got to write).
	if n := strings.Count(readFile(t, vtctld.LogPath()), "Unlocking shard commerce/- for successful action PlannedReparentShard(<nil>, AvoidPrimary = "+oldPrimary+")"); n != 1 {
		t.Errorf("vtctld reparented away from %s %d times, want once (log %s)", oldPrimary, n, vtctld.LogPath())
	}
	if notes := eventNotes(ctx, t, ns, shardName, "PlannedReparent"); len(notes) != 0 {
		t.Errorf("PlannedReparent Events %q; want none: the leader that asked was killed before the answer", notes)
	}
	if note := onlyEvent(ctx, t, ns, shardName, "ReplacingTablet"); !strings.Contains(note, oldPrimary) {
		t.Errorf("ReplacingTablet Event %q; want one, of %s", note, oldPrimary)
	}
}

func mustExec(ctx context.Context, t *testing.T, db *sql.DB, statement string) {
	t.Helper()
	if _, err := db.ExecContext(ctx, statement); err != nil {
		t.Fatalf("%s: %v", statement, err)
	}
}

// eventNotes are the notes of the Events about object with one of reasons.
func eventNotes(ctx context.Context, t *testing.T, ns, object string, reasons ...string) []string {
	t.Helper()
	events, err := kubeClient(t).EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	for _, event := range events.Items {
		for _, reason := range reasons {
			if event.Regarding.Name == object && event.Reason == reason {
				notes = append(notes, event.Note)
			}
		}
	}
	return notes
}

// onlyEvent waits for the one Event about object with one of reasons and returns its note. The
// loop's recorder writes Events in the background, so the effect an Event reports can be seen
// before the Event is; a second Event fails the test at once.
func onlyEvent(ctx context.Context, t *testing.T, ns, object string, reasons ...string) string {
	t.Helper()
	var notes []string
	eventually(t, fmt.Sprintf("one %v Event about %s", reasons, object), func() (bool, error) {
		if notes = eventNotes(ctx, t, ns, object, reasons...); len(notes) > 1 {
			t.Fatalf("%v Events about %s: %q; want one", reasons, object, notes)
		}
		return len(notes) == 1, nil
	})
	return notes[0]
}

func waitWorkflow(t *testing.T, workflows typed.VitessWorkflowInterface, name, what string, done func(*v1alpha1.VitessWorkflow) bool) *v1alpha1.VitessWorkflow {
	t.Helper()
	var last *v1alpha1.VitessWorkflow
	eventually(t, "workflow "+name+" "+what, func() (bool, error) {
		got, err := workflows.Get(testContext(t), name, metav1.GetOptions{})
		if err == nil {
			last = got
		}
		return err == nil && done(got), fmt.Errorf("%v; last status %+v", err, last)
	})
	return last
}

// waitActionDone waits for an action's outcome: its condition True and no action pending.
func waitActionDone(t *testing.T, workflows typed.VitessWorkflowInterface, name, condition string) *v1alpha1.VitessWorkflow {
	t.Helper()
	return waitWorkflow(t, workflows, name, condition+" done", func(w *v1alpha1.VitessWorkflow) bool {
		c := meta.FindStatusCondition(w.Status.Conditions, condition)
		if c != nil && c.Status == metav1.ConditionFalse && w.Status.PendingAction == nil {
			t.Fatalf("%s of %s failed: %s", condition, name, c.Message)
		}
		return w.Status.PendingAction == nil && c != nil && c.Status == metav1.ConditionTrue
	})
}
