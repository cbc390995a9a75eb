package validation

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// snapshotOfCommerce is commerce as its backups had it at a time, one shard like commerce's.
func snapshotOfCommerce() vitess.VitessKeyspaceTemplate {
	return vitess.VitessKeyspaceTemplate{
		Name:          "commerce-snapshot",
		Partitionings: []vitess.VitessKeyspacePartitioning{equal(1)},
		Snapshot:      &vitess.VitessKeyspaceSnapshot{BaseKeyspace: "commerce", Time: metav1.NewTime(time.Date(2026, 12, 8, 4, 0, 0, 0, time.UTC))},
	}
}

func TestValidateSnapshotKeyspaces(t *testing.T) {
	const snapshot = "spec.keyspaces[2]"
	with := func(mutate func(c *vitess.VitessCluster, s *vitess.VitessKeyspaceTemplate)) func(c *vitess.VitessCluster) {
		return func(c *vitess.VitessCluster) {
			s := snapshotOfCommerce()
			mutate(c, &s)
			c.Spec.Keyspaces = append(c.Spec.Keyspaces, s)
		}
	}
	tests := []struct {
		name   string
		mutate func(c *vitess.VitessCluster)
		want   []want
	}{
		{"a snapshot of commerce", with(func(*vitess.VitessCluster, *vitess.VitessKeyspaceTemplate) {}), nil},
		{"customer's two shards", with(func(_ *vitess.VitessCluster, s *vitess.VitessKeyspaceTemplate) {
			s.Snapshot.BaseKeyspace, s.Partitionings = "customer", []vitess.VitessKeyspacePartitioning{custom("-80", "80-")}
		}), nil},
		{"the base's database named", with(func(_ *vitess.VitessCluster, s *vitess.VitessKeyspaceTemplate) { s.DatabaseName = "vt_commerce" }), nil},

		{"no backups", with(func(c *vitess.VitessCluster, _ *vitess.VitessKeyspaceTemplate) { c.Spec.Backup = nil }),
			[]want{e(forbidden, snapshot+".snapshot")}},
		{"no time", with(func(_ *vitess.VitessCluster, s *vitess.VitessKeyspaceTemplate) { s.Snapshot.Time = metav1.Time{} }),
			[]want{e(required, snapshot+".snapshot.time")}},
		{"no base", with(func(_ *vitess.VitessCluster, s *vitess.VitessKeyspaceTemplate) { s.Snapshot.BaseKeyspace = "" }),
			[]want{e(required, snapshot+".snapshot.baseKeyspace")}},
		{"a base the cluster does not have", with(func(_ *vitess.VitessCluster, s *vitess.VitessKeyspaceTemplate) { s.Snapshot.BaseKeyspace = "orders" }),
			[]want{e(notFound, snapshot+".snapshot.baseKeyspace")}},
		{"itself", with(func(_ *vitess.VitessCluster, s *vitess.VitessKeyspaceTemplate) { s.Snapshot.BaseKeyspace = s.Name }),
			[]want{e(invalid, snapshot+".snapshot.baseKeyspace")}},
		{"a snapshot of a snapshot", func(c *vitess.VitessCluster) {
			first, second := snapshotOfCommerce(), snapshotOfCommerce()
			second.Name, second.Snapshot.BaseKeyspace = "again", first.Name
			c.Spec.Keyspaces = append(c.Spec.Keyspaces, first, second)
		}, []want{e(invalid, "spec.keyspaces[3].snapshot.baseKeyspace")}},
		{"a shard the base does not have", with(func(_ *vitess.VitessCluster, s *vitess.VitessKeyspaceTemplate) {
			s.Partitionings = []vitess.VitessKeyspacePartitioning{equal(2)}
		}),
			[]want{e(invalid, snapshot+".partitionings"), e(invalid, snapshot+".partitionings")}},
		{"another database", with(func(_ *vitess.VitessCluster, s *vitess.VitessKeyspaceTemplate) { s.DatabaseName = "inspect" }),
			[]want{e(invalid, snapshot+".databaseName")}},
		{"VTOrc", with(func(_ *vitess.VitessCluster, s *vitess.VitessKeyspaceTemplate) {
			s.VitessOrchestrator = &vitess.VitessOrchestratorSpec{}
		}),
			[]want{e(forbidden, snapshot+".vitessOrchestrator")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validCluster()
			tt.mutate(c)
			checkErrors(t, ValidateVitessCluster(c), tt.want...)
		})
	}
}

// A keyspace stays what it was made: a snapshot (of one base, at one time) or a normal keyspace.
func TestSnapshotIsImmutable(t *testing.T) {
	old := validCluster()
	old.Spec.Keyspaces = append(old.Spec.Keyspaces, snapshotOfCommerce())
	for name, mutate := range map[string]func(s *vitess.VitessKeyspaceTemplate){
		"another time": func(s *vitess.VitessKeyspaceTemplate) {
			s.Snapshot.Time = metav1.NewTime(s.Snapshot.Time.Add(time.Hour))
		},
		"made normal": func(s *vitess.VitessKeyspaceTemplate) { s.Snapshot = nil },
	} {
		t.Run(name, func(t *testing.T) {
			updated := old.DeepCopy()
			mutate(&updated.Spec.Keyspaces[2])
			checkErrors(t, ValidateVitessClusterUpdate(updated, old), e(forbidden, "spec.keyspaces[2].snapshot"))
		})
	}
	t.Run("a normal keyspace made a snapshot", func(t *testing.T) {
		updated := validCluster()
		updated.Spec.Keyspaces[1].Snapshot = &vitess.VitessKeyspaceSnapshot{BaseKeyspace: "commerce", Time: metav1.Now()}
		updated.Spec.Keyspaces[1].Partitionings = []vitess.VitessKeyspacePartitioning{equal(1)}
		found := false
		for _, err := range ValidateVitessClusterUpdate(updated, validCluster()) {
			found = found || (err.Field == "spec.keyspaces[1].snapshot" && err.Type == forbidden)
		}
		if !found {
			t.Errorf("a normal keyspace was made a snapshot")
		}
	})
}
