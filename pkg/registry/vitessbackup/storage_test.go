package vitessbackup

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/authentication/user"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/topologycache/cachetest"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// fakeShards are the VitessShard objects, by name, of namespace demo.
type fakeShards map[string]bool

func (f fakeShards) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	if genericapirequest.NamespaceValue(ctx) != "demo" || !f[name] {
		return nil, apierrors.NewNotFound(vitess.Resource("vitessshards"), name)
	}
	return &vitess.VitessShard{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: name}}, nil
}

// fakeTopology is one cluster's Vitess: its shards by keyspace and their backups by
// "keyspace/shard". Tests change it while the cache reads it.
type fakeTopology struct {
	mu      sync.Mutex
	shards  map[string][]string
	backups map[string][]vtctld.Backup
	err     error
	// backupsErr is Backups' answer.
	backupsErr error
	// removeErr is RemoveBackup's answer.
	removeErr error
	removed   []string
}

func (f *fakeTopology) Keyspaces(context.Context) ([]vtctld.Keyspace, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keyspaces []vtctld.Keyspace
	for name := range f.shards {
		keyspaces = append(keyspaces, vtctld.Keyspace{Name: name})
	}
	return keyspaces, f.err
}

func (f *fakeTopology) Shards(_ context.Context, keyspace string) ([]vtctld.Shard, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var shards []vtctld.Shard
	for _, name := range f.shards[keyspace] {
		shards = append(shards, vtctld.Shard{Keyspace: keyspace, Name: name})
	}
	return shards, f.err
}

func (f *fakeTopology) Backups(_ context.Context, keyspace, shard string) ([]vtctld.Backup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.backupsErr != nil {
		return nil, f.backupsErr
	}
	return slices.Clone(f.backups[keyspace+"/"+shard]), f.err
}

func (f *fakeTopology) RemoveBackup(_ context.Context, keyspace, shard, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.removeErr != nil {
		return f.removeErr
	}
	k := keyspace + "/" + shard
	f.backups[k] = slices.DeleteFunc(f.backups[k], func(b vtctld.Backup) bool { return b.Name == name })
	f.removed = append(f.removed, k+"/"+name)
	return nil
}

func (f *fakeTopology) change(change func(*fakeTopology)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

type fakeTopologies map[string]*fakeTopology

func (f fakeTopologies) Topology(_ context.Context, namespace, cluster string) (Topology, error) {
	topology, ok := f[namespace+"/"+cluster]
	if !ok {
		return nil, apierrors.NewConflict(vitess.Resource("vitessclusters"), cluster, nil)
	}
	return topology, nil
}

// recorder keeps the Events recorded, with what they regard.
type recorder struct {
	*events.FakeRecorder
	mu       sync.Mutex
	recorded []string
}

func (r *recorder) Eventf(regarding runtime.Object, _ runtime.Object, eventtype, reason, _, note string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref := regarding.(*corev1.ObjectReference)
	r.recorded = append(r.recorded, fmt.Sprintf("%s %s/%s %s %s: %s", ref.Kind, ref.Namespace, ref.Name, eventtype, reason, fmt.Sprintf(note, args...)))
}

func backup(cell string, uid uint32, at time.Time, status string) vtctld.Backup {
	alias := fmt.Sprintf("%s-%010d", cell, uid)
	return vtctld.Backup{
		Name:        at.Format("2006-01-02.150405") + "." + alias,
		TabletAlias: alias,
		TabletCell:  cell,
		Time:        at,
		Engine:      "builtin",
		Status:      status,
		Complete:    status == "COMPLETE" || status == "VALID",
	}
}

var (
	monday  = time.Date(2026, 12, 7, 1, 30, 0, 0, time.UTC)
	tuesday = time.Date(2026, 12, 8, 1, 30, 0, 0, time.UTC)
)

// testPollInterval is the poll interval of the tests.
const testPollInterval = 10 * time.Millisecond

// fixture: cluster example in namespace demo, with keyspace commerce (unsharded; a VitessShard
// object) backed up twice, the second one unfinished, and keyspace customer (-80 and 80-; no
// VitessShard objects) backed up once in -80; cluster example in namespace elsewhere with no
// backups.
func fixture(t testing.TB) (*REST, *fakeTopology, *recorder) {
	topology := &fakeTopology{
		shards: map[string][]string{"commerce": {"-"}, "customer": {"-80", "80-"}},
		backups: map[string][]vtctld.Backup{
			"commerce/-":   {backup("zone1", 101, monday, "COMPLETE"), backup("zone1", 102, tuesday, "INCOMPLETE")},
			"customer/-80": {backup("zone2", 201, monday, "VALID")},
		},
	}
	clusters := cachetest.Clusters{cachetest.Cluster("demo", "example"), cachetest.Cluster("elsewhere", "example")}
	events := &recorder{FakeRecorder: events.NewFakeRecorder(10)}
	r := newREST(clusters, fakeShards{names.Shard("example", "commerce", "x-x"): true}, fakeTopologies{"demo/example": topology, "elsewhere/example": {}},
		events, clock.RealClock{}, testPollInterval)
	t.Cleanup(r.Destroy)
	return r, topology, events
}

func list(t testing.TB, r *REST, ctx context.Context, options *metainternalversion.ListOptions) *vitess.VitessBackupList {
	t.Helper()
	return cachetest.List[*vitess.VitessBackupList](t, r, ctx, options)
}

const (
	commerceMonday  = "example-commerce-x-x-2026-12-07-013000-zone1-0000000101-"
	commerceTuesday = "example-commerce-x-x-2026-12-08-013000-zone1-0000000102-"
	customerMonday  = "example-customer-x-80-2026-12-07-013000-zone2-0000000201-"
)

// hasPrefixes tells whether each name begins with its prefix: the names end with a hash.
func hasPrefixes(names []string, prefixes ...string) bool {
	if len(names) != len(prefixes) {
		return false
	}
	for i := range names {
		if len(names[i]) != len(prefixes[i])+8 || names[i][:len(prefixes[i])] != prefixes[i] {
			return false
		}
	}
	return true
}

func TestList(t *testing.T) {
	r, _, _ := fixture(t)
	got := list(t, r, cachetest.InNamespace("demo"), nil)
	if !hasPrefixes(cachetest.Names(got), commerceMonday, commerceTuesday, customerMonday) {
		t.Fatalf("names = %v", cachetest.Names(got))
	}
	first := got.Items[0]
	wantLabels := map[string]string{
		"planetscale.com/cluster":  "example",
		"planetscale.com/keyspace": "commerce",
		"planetscale.com/shard":    "x-x",
		"planetscale.com/cell":     "zone1",
	}
	if !labels.Equals(first.Labels, wantLabels) {
		t.Errorf("labels = %v, want %v", first.Labels, wantLabels)
	}
	wantStatus := vitess.VitessBackupStatus{
		Cluster: "example", Keyspace: "commerce", Shard: "-", Name: "2026-12-07.013000.zone1-0000000101",
		TabletAlias: "zone1-0000000101", Time: metav1.NewTime(monday), Engine: "builtin", Phase: PhaseComplete, Complete: true,
	}
	if first.Namespace != "demo" || first.Status != wantStatus || !first.CreationTimestamp.Equal(&wantStatus.Time) {
		t.Errorf("backup = %+v, want status %+v", first, wantStatus)
	}
	var phases []string
	for _, item := range got.Items {
		phases = append(phases, item.Status.Phase)
	}
	if want := []string{"Complete", "Incomplete", "Valid"}; !slices.Equal(phases, want) {
		t.Errorf("phases = %v, want %v", phases, want)
	}
	if got.ResourceVersion == "" || got.Items[0].ResourceVersion != got.ResourceVersion {
		t.Errorf("resourceVersions: list %q, item %q", got.ResourceVersion, got.Items[0].ResourceVersion)
	}
	if empty := list(t, r, cachetest.InNamespace("elsewhere"), nil); len(empty.Items) != 0 {
		t.Errorf("namespace without backups: %v", cachetest.Names(empty))
	}
}

func TestListSelectors(t *testing.T) {
	r, _, _ := fixture(t)
	for _, tc := range []struct {
		label string
		want  []string
	}{
		{"planetscale.com/keyspace=customer", []string{customerMonday}},
		{"planetscale.com/shard=x-x", []string{commerceMonday, commerceTuesday}},
		{"planetscale.com/cell=zone2", []string{customerMonday}},
		{"planetscale.com/cluster=other", nil},
	} {
		selector, err := labels.Parse(tc.label)
		if err != nil {
			t.Fatal(err)
		}
		if got := cachetest.Names(list(t, r, cachetest.InNamespace("demo"), &metainternalversion.ListOptions{LabelSelector: selector})); !hasPrefixes(got, tc.want...) {
			t.Errorf("%s: %v, want %v", tc.label, got, tc.want)
		}
	}
}

func TestGet(t *testing.T) {
	r, topology, _ := fixture(t)
	name := list(t, r, cachetest.InNamespace("demo"), nil).Items[2].Name
	obj, err := r.Get(cachetest.InNamespace("demo"), name, &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b := obj.(*vitess.VitessBackup); b.Status.Keyspace != "customer" || b.Status.Shard != "-80" || b.ResourceVersion == "" {
		t.Errorf("got %+v", b)
	}
	if _, err := r.Get(cachetest.InNamespace("demo"), name+"x", &metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get of a backup that is not: %v, want 404", err)
	}
	if _, err := r.Get(cachetest.InNamespace("elsewhere"), name, &metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get from another namespace: %v, want 404", err)
	}
	topology.change(func(f *fakeTopology) { f.err = status.Error(codes.Unavailable, "connection refused") })
	time.Sleep(testPollInterval) // for the reading that found the backup to be too old to answer
	if _, err := r.Get(cachetest.InNamespace("demo"), name, &metav1.GetOptions{}); !apierrors.IsServiceUnavailable(err) {
		t.Errorf("get with vtctld down: %v, want 503", err)
	}
}

func TestTable(t *testing.T) {
	r, _, _ := fixture(t)
	backups := list(t, r, cachetest.InNamespace("demo"), nil)
	table, err := r.ConvertToTable(context.Background(), backups, nil)
	if err != nil {
		t.Fatal(err)
	}
	var headers []string
	for _, column := range table.ColumnDefinitions {
		headers = append(headers, column.Name)
	}
	if want := []string{"Name", "Cluster", "Keyspace", "Shard", "Tablet", "Engine", "Phase", "Complete", "Backup", "Age"}; !slices.Equal(headers, want) {
		t.Errorf("columns = %v, want %v", headers, want)
	}
	if len(table.Rows) != 3 {
		t.Fatalf("%d rows", len(table.Rows))
	}
	row := table.Rows[1].Cells
	want := []any{backups.Items[1].Name, "example", "commerce", "-", "zone1-0000000102", "builtin", "Incomplete", false, "2026-12-08.013000.zone1-0000000102"}
	if !slices.Equal(row[:len(want)], want) {
		t.Errorf("row = %v, want %v and an age", row, want)
	}
}

func TestDelete(t *testing.T) {
	r, topology, events := fixture(t)
	ctx := genericapirequest.WithUser(cachetest.InNamespace("demo"), &user.DefaultInfo{Name: "alice"})
	backups := list(t, r, cachetest.InNamespace("demo"), nil)

	// A dry run removes nothing.
	if _, deleted, err := r.Delete(ctx, backups.Items[0].Name, nil, &metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}); err != nil || !deleted {
		t.Fatalf("dry run: %v, %v", deleted, err)
	}
	if len(topology.removed) != 0 || len(events.recorded) != 0 {
		t.Fatalf("a dry run removed %v, recorded %v", topology.removed, events.recorded)
	}

	// The backup is removed, gone from the next list at once, and the removal recorded on the
	// VitessShard, or on the VitessCluster for a shard without one.
	obj, deleted, err := r.Delete(ctx, backups.Items[0].Name, nil, &metav1.DeleteOptions{})
	if err != nil || !deleted || obj.(*vitess.VitessBackup).Status.Name != "2026-12-07.013000.zone1-0000000101" {
		t.Fatalf("delete: %v, %v, %v", obj, deleted, err)
	}
	if _, _, err := r.Delete(ctx, backups.Items[2].Name, nil, &metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"commerce/-/2026-12-07.013000.zone1-0000000101", "customer/-80/2026-12-07.013000.zone2-0000000201"}; !slices.Equal(topology.removed, want) {
		t.Errorf("removed %v, want %v", topology.removed, want)
	}
	if got := cachetest.Names(list(t, r, cachetest.InNamespace("demo"), nil)); !hasPrefixes(got, commerceTuesday) {
		t.Errorf("after the removals: %v", got)
	}
	wantEvents := []string{
		"VitessShard demo/" + names.Shard("example", "commerce", "x-x") + " Normal BackupRemoved: alice removed backup 2026-12-07.013000.zone1-0000000101 of shard commerce/-",
		"VitessCluster demo/example Normal BackupRemoved: alice removed backup 2026-12-07.013000.zone2-0000000201 of shard customer/-80",
	}
	if !slices.Equal(events.recorded, wantEvents) {
		t.Errorf("events %q, want %q", events.recorded, wantEvents)
	}

	// No such backup: 404; Vitess refusing: 409 with its reason; vtctld unreachable: 503.
	if _, _, err := r.Delete(ctx, backups.Items[0].Name, nil, &metav1.DeleteOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("delete of a removed backup: %v, want 404", err)
	}
	topology.change(func(f *fakeTopology) {
		f.removeErr = &vtctld.Error{Address: "vtctld:15999", Method: "RemoveBackup", Err: status.Error(codes.Unknown, "permission denied")}
	})
	if _, _, err := r.Delete(ctx, backups.Items[1].Name, nil, &metav1.DeleteOptions{}); !apierrors.IsConflict(err) || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("a removal Vitess refuses: %v, want 409 with its reason", err)
	}
	topology.change(func(f *fakeTopology) { f.removeErr = status.Error(codes.Unavailable, "connection refused") })
	if _, _, err := r.Delete(ctx, backups.Items[1].Name, nil, &metav1.DeleteOptions{}); !apierrors.IsServiceUnavailable(err) {
		t.Errorf("a removal with vtctld down: %v, want 503", err)
	}
	if len(events.recorded) != 2 {
		t.Errorf("failed removals were recorded: %v", events.recorded)
	}
}

// A watch sees a backup being made: added unfinished, then complete, then removed.
func TestWatchSeesABackupMade(t *testing.T) {
	r, topology, _ := fixture(t)
	w, err := r.Watch(cachetest.InNamespace("demo"), &metainternalversion.ListOptions{
		LabelSelector: labels.SelectorFromSet(labels.Set{"planetscale.com/keyspace": "customer"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	made := backup("zone2", 202, tuesday, "INCOMPLETE")
	topology.change(func(f *fakeTopology) { f.backups["customer/80-"] = []vtctld.Backup{made} })
	made.Status, made.Complete = "COMPLETE", true
	steps := []struct {
		change func(*fakeTopology)
		want   watch.EventType
		phase  string
	}{
		{nil, watch.Added, PhaseValid}, // the backup there before
		{nil, watch.Added, PhaseIncomplete},
		{func(f *fakeTopology) { f.backups["customer/80-"] = []vtctld.Backup{made} }, watch.Modified, PhaseComplete},
		{func(f *fakeTopology) { f.backups["customer/80-"] = nil }, watch.Deleted, PhaseComplete},
	}
	for i, step := range steps {
		if step.change != nil {
			topology.change(step.change)
		}
		select {
		case event := <-w.ResultChan():
			b, ok := event.Object.(*vitess.VitessBackup)
			if !ok || event.Type != step.want || b.Status.Phase != step.phase {
				t.Fatalf("event %d: %s %+v, want %s of a backup %s", i, event.Type, event.Object, step.want, step.phase)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event %d", i)
		}
	}
}

// A cluster whose vtctld keeps no backups has none; another failure of GetBackups fails the list.
func TestClusterWithoutBackupStorage(t *testing.T) {
	r, topology, _ := fixture(t)
	topology.change(func(f *fakeTopology) {
		f.backupsErr = &vtctld.Error{Address: "vtctld:15999", Method: "GetBackups", Err: status.Error(codes.Unknown, "no registered implementation of BackupStorage")}
	})
	if got := list(t, r, cachetest.InNamespace("demo"), nil); len(got.Items) != 0 {
		t.Errorf("backups of a cluster without backup storage: %v", cachetest.Names(got))
	}
	topology.change(func(f *fakeTopology) {
		f.backupsErr = &vtctld.Error{Address: "vtctld:15999", Method: "GetBackups", Err: status.Error(codes.Unknown, "s3: access denied")}
	})
	time.Sleep(testPollInterval) // for the last reading to be too old to answer
	if _, err := r.List(cachetest.InNamespace("demo"), nil); err == nil || !strings.Contains(err.Error(), "access denied") {
		t.Errorf("a GetBackups that fails: %v", err)
	}
}
