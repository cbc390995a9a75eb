package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
	"github.com/vitess-apiserver/vitess-apiserver/test/scenario"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// TestWorkflowCreationCutShort cuts the loop's MoveTablesCreate short in vtctld, as the death of
// the leader that made the call does (CI saw it in TestInstall: the workflow stayed Stopped for
// good). vtctld cancels a call whose client has gone, and a creation cancelled after the streams
// were made leaves them there, never started: Vitess starts them last, and its own clean-up runs
// under the cancelled call too. The loop must not take that for the workflow: it removes what
// the cut-short creation left and makes the workflow anew, which then copies every row.
//
// To cut the call at that point every time, the target shard's replica is frozen (SIGSTOP):
// vtctld makes the streams and then waits on it to refresh the shard's tablets. The loop's
// connection to vtctld is dropped (a framework.Relay) once the streams exist.
func TestWorkflowCreationCutShort(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ns := newNamespace(t, "cutshort")
	dir := vitess.DataDir(t, "vt", "cutshort")
	topo, vtctld := vitess.StartForTest(ctx, t, dir)
	relay, err := framework.StartRelay(vtctld.GRPCAddress)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(relay.Close)
	mustApply(t, realVitessClusterVia(ns, topo, relay.Address,
		scenario.Keyspace("commerce", "[{cell: zone1, type: replica, replicas: 1}]", 1),
		scenario.Keyspace("customer", "[{cell: zone1, type: replica, replicas: 2}]", 1)))
	backend := &kwokBackend{ctx: ctx, dir: dir, topo: topo, vtctld: vtctld}
	api := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1()
	startTablets(ctx, t, backend, ns, "commerce", 1)
	startTablets(ctx, t, backend, ns, "customer", 2)
	waitPrimary(ctx, t, api, ns, "commerce")
	customerPrimary := waitPrimary(ctx, t, api, ns, "customer")

	commerce, customer := names.Keyspace("demo", "commerce"), names.Keyspace("demo", "customer")
	if _, err := api.VitessKeyspaces(ns).UpdateVSchema(ctx, commerce, &v1alpha1.VitessKeyspaceVSchema{
		ObjectMeta: metav1.ObjectMeta{Name: commerce}, VSchema: runtime.RawExtension{Raw: []byte(`{"tables": {"customer": {}}}`)},
	}, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.VitessKeyspaces(ns).ApplySchema(ctx, commerce, &v1alpha1.VitessSchemaRequest{
		ObjectMeta: metav1.ObjectMeta{Name: commerce},
		SQL:        `create table customer(customer_id bigint not null, email varbinary(128), primary key(customer_id));`,
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	db := backend.Open(t, "commerce")
	eventually(t, "vtgate routing commerce's queries to its primary", func() (bool, error) {
		_, err := db.ExecContext(ctx, "select 1 from customer")
		return err == nil, err
	})
	const rows = 20
	for id := 1; id <= rows; id++ {
		mustExec(ctx, t, db, fmt.Sprintf("insert into customer(customer_id, email) values (%d, 'user%d@example.com')", id, id))
	}

	replica := backend.tablets[slices.IndexFunc(backend.tablets, func(tablet *vitess.Tablet) bool {
		return tablet.Config.Keyspace == "customer" && tablet.Alias() != customerPrimary
	})]
	if err := replica.FreezeVttablet(); err != nil {
		t.Fatal(err)
	}
	thaw := sync.OnceFunc(func() {
		if err := replica.ThawVttablet(); err != nil {
			t.Error(err)
		}
	})
	t.Cleanup(thaw)

	const workflow = "commerce2customer"
	if _, err := api.VitessKeyspaces(ns).MoveTables(ctx, customer, &v1alpha1.VitessMoveTablesRequest{
		ObjectMeta: metav1.ObjectMeta{Name: customer}, Workflow: workflow, SourceKeyspace: "commerce", Tables: []string{"customer"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	raw := vitess.RawClient(t, vtctld.GRPCAddress)
	streams := func() []*vtctldatapb.Workflow_Stream {
		resp, err := raw.GetWorkflows(ctx, &vtctldatapb.GetWorkflowsRequest{Keyspace: "customer", Workflow: workflow})
		if err != nil || len(resp.GetWorkflows()) == 0 {
			return nil
		}
		var all []*vtctldatapb.Workflow_Stream
		for _, shard := range resp.GetWorkflows()[0].GetShardStreams() {
			all = append(all, shard.GetStreams()...)
		}
		return all
	}
	eventually(t, "the workflow's streams made in Vitess", func() (bool, error) { return len(streams()) > 0, nil })
	if dropped := relay.DropConnections(); dropped == 0 {
		t.Fatal("no connection of the server's to vtctld to drop")
	}
	// The streams are in Vitess, and MoveTablesCreate is cancelled before it could start them.
	time.Sleep(time.Second)
	for _, s := range streams() {
		if s.GetState() != "Stopped" {
			t.Fatalf("stream %d is %s once the creation was cut short, want Stopped (never started)", s.GetId(), s.GetState())
		}
	}
	thaw()

	var last *v1alpha1.VitessWorkflow
	defer func() {
		if t.Failed() && last != nil {
			t.Logf("workflow %s last seen: %+v", workflow, last.Status)
		}
	}()
	eventually(t, "the workflow made anew, copied and running", func() (bool, error) {
		got, err := api.VitessWorkflows(ns).Get(ctx, workflow, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		last = got
		return meta.IsStatusConditionTrue(got.Status.Conditions, v1alpha1.ConditionCreated) &&
			got.Status.Phase == v1alpha1.WorkflowPhaseRunning && got.Status.CopyProgress == "100%", nil
	})
	eventually(t, "an UnfinishedCreationRemoved Event on the workflow", func() (bool, error) {
		out, err := controlPlaneKubectlErr(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name="+workflow, "-o", "jsonpath={.items[*].reason}")
		return strings.Contains(out, "UnfinishedCreationRemoved"), err
	})
	// The target's replica, by shard: routing rules send the table's reads to commerce until
	// they are switched, and the target's primary refuses them until then.
	target := backend.Open(t, "customer:-@replica")
	eventually(t, "every row copied into customer", func() (bool, error) {
		var copied int
		err := target.QueryRowContext(ctx, "select count(*) from customer").Scan(&copied)
		return err == nil && copied == rows, fmt.Errorf("%d rows: %v", copied, err)
	})
}
