package integration

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	vitessapi "github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/test/scenario"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"
)

// TestScenario is the seed's story (scenario.Run), driven only through the Kubernetes API, on a
// real Vitess: a real etcd topology and vtctld, and for every tablet Pod the reconciler creates
// (on kwok) a real vttablet with its mysqld, with the Pod's uid, keyspace, shard and type. vtgate
// carries the rows, read and written with a MySQL driver.
func TestScenario(t *testing.T) {
	// The whole story takes minutes (a dozen tablets, two workflows); each wait in it has a bound
	// of its own.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	dir := vitess.DataDir(t, "vt", "scenario")
	topo, vtctld := vitess.StartForTest(ctx, t, dir)
	backend := &kwokBackend{ctx: ctx, dir: dir, topo: topo, vtctld: vtctld}
	scenario.Run(ctx, t, controlPlane, newNamespace(t, "scenario"), backend)
}

// kwokBackend runs the story's tablets as local processes, since kwok only pretends to run their
// Pods.
type kwokBackend struct {
	ctx     context.Context
	dir     string
	topo    *vitess.Topology
	vtctld  *vitess.Vtctld
	tablets []*vitess.Tablet
	gate    *vitess.Vtgate
}

func (b *kwokBackend) Cluster(namespace string, keyspaces ...string) string {
	return realVitessCluster(namespace, b.topo, b.vtctld, keyspaces...)
}

// TabletsCreated starts a real tablet for each Pod, with the Pod's cell, uid and type.
func (b *kwokBackend) TabletsCreated(t *testing.T, keyspace, shard string, pods []corev1.Pod) {
	t.Helper()
	for _, pod := range pods {
		uid, err := strconv.ParseUint(pod.Labels[vitessapi.LabelTabletUID], 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		b.tablets = append(b.tablets, vitess.StartTabletForTest(b.ctx, t, b.topo, filepath.Join(b.dir, pod.Labels[vitessapi.LabelTabletUID]), vitess.TabletConfig{
			Cell: pod.Labels[vitessapi.LabelCell], Keyspace: keyspace, Shard: shard, UID: uint32(uid), Type: pod.Labels[vitessapi.LabelTabletType],
		}))
	}
}

// WorkflowsInVitess asks vtctld for the workflows of keyspace.
func (b *kwokBackend) WorkflowsInVitess(t *testing.T, keyspace string) []string {
	t.Helper()
	resp, err := vitess.RawClient(t, b.vtctld.GRPCAddress).GetWorkflows(b.ctx, &vtctldatapb.GetWorkflowsRequest{Keyspace: keyspace})
	if err != nil {
		t.Fatal(err)
	}
	var workflows []string
	for _, workflow := range resp.GetWorkflows() {
		workflows = append(workflows, workflow.GetName())
	}
	return workflows
}

func (b *kwokBackend) TabletsDeleted(t *testing.T, keyspace, shard string) {
	b.tablets = slices.DeleteFunc(b.tablets, func(tablet *vitess.Tablet) bool {
		if tablet.Config.Keyspace != keyspace || tablet.Config.Shard != shard {
			return false
		}
		tablet.Stop()
		return true
	})
}

// Open starts vtgate on first use, which is when the story first needs it: once commerce has its
// tablets, schema and VSchema.
func (b *kwokBackend) Open(t *testing.T, target string) *sql.DB {
	t.Helper()
	if b.gate == nil {
		b.gate = vitess.StartVtgateForTest(b.ctx, t, b.topo, filepath.Join(b.dir, "vtgate"), "zone1")
	}
	return b.gate.Open(t, target)
}

func (b *kwokBackend) VtctldOutage(t *testing.T) (restart func(), ok bool) {
	b.vtctld.Stop()
	return func() {
		if err := b.vtctld.Start(b.ctx); err != nil {
			t.Fatal(err)
		}
	}, true
}
