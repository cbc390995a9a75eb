package vitesstablet

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/clock"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/topologycache"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/topologycache/cachetest"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// fakeTopology is one cluster's topology; tests change it while the cache reads it.
type fakeTopology struct {
	mu      sync.Mutex
	tablets []vtctld.TabletRecord
	// routes are the serving graph, by keyspace.
	routes map[string][]vtctld.ShardRoute
	err    error
	// The calls made, as the vtctld calls they stand for.
	allTablets, shardRoutes int
}

func (f *fakeTopology) AllTablets(context.Context) ([]vtctld.TabletRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.allTablets++
	return slices.Clone(f.tablets), f.err
}

func (f *fakeTopology) ShardRoutes(_ context.Context, keyspace string, cells []string) ([]vtctld.ShardRoute, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shardRoutes++
	var routes []vtctld.ShardRoute
	for _, route := range f.routes[keyspace] {
		if slices.Contains(cells, route.Cell) {
			routes = append(routes, route)
		}
	}
	return routes, f.err
}

func (f *fakeTopology) change(change func(*fakeTopology)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// calls returns how often AllTablets and ShardRoutes were called.
func (f *fakeTopology) calls() (allTablets, shardRoutes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.allTablets, f.shardRoutes
}

// fakeTopologies maps namespace/cluster to its topology.
type fakeTopologies map[string]*fakeTopology

func (f fakeTopologies) Topology(_ context.Context, namespace, cluster string) (Topology, error) {
	topology, ok := f[namespace+"/"+cluster]
	if !ok {
		return nil, apierrors.NewConflict(vitess.Resource("vitessclusters"), cluster, nil)
	}
	return topology, nil
}

func record(cell string, uid uint32, keyspace, shard, tabletType string) vtctld.TabletRecord {
	return vtctld.TabletRecord{
		Tablet: vtctld.Tablet{
			Alias:    fmt.Sprintf("%s-%010d", cell, uid),
			Hostname: fmt.Sprintf("host-%s-%010d", cell, uid),
			Type:     tabletType,
			Keyspace: keyspace,
			Shard:    shard,
		},
		Cell: cell,
		UID:  uid,
	}
}

var primaryTermStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testPollInterval is the poll interval of the tests on the real clock.
const testPollInterval = 10 * time.Millisecond

// newTestREST is a REST whose readers stop with the test.
func newTestREST(t testing.TB, clusters topologycache.ClusterLister, topologies Topologies, clock clock.WithTicker) *REST {
	r := newREST(clusters, topologies, clock, testPollInterval, topologycache.DefaultIdleTimeout)
	t.Cleanup(r.Destroy)
	return r
}

// fixture: cluster example in namespace demo with a primary, a replica and an rdonly in zone1 that
// only routes PRIMARY and REPLICA; cluster other in demo with one replica of customer/-80; cluster
// example in namespace elsewhere with no tablets. Its REST reads them on the real clock.
func fixture(t testing.TB) (*REST, fakeTopologies) {
	primary := record("zone1", 101, "commerce", "-", "PRIMARY")
	primary.PrimaryTermStartTime = primaryTermStart
	topologies := fakeTopologies{
		"demo/example": {
			tablets: []vtctld.TabletRecord{primary, record("zone1", 102, "commerce", "-", "REPLICA"), record("zone1", 103, "commerce", "-", "RDONLY")},
			routes: map[string][]vtctld.ShardRoute{"commerce": {
				{Cell: "zone1", TabletType: "PRIMARY", Shard: "-"},
				{Cell: "zone1", TabletType: "REPLICA", Shard: "-"},
			}},
		},
		"demo/other": {
			tablets: []vtctld.TabletRecord{record("zone1", 201, "customer", "-80", "REPLICA")},
			routes:  map[string][]vtctld.ShardRoute{"customer": {{Cell: "zone1", TabletType: "REPLICA", Shard: "-80"}}},
		},
		"elsewhere/example": {},
	}
	clusters := cachetest.Clusters{cachetest.Cluster("demo", "example"), cachetest.Cluster("demo", "other"), cachetest.Cluster("elsewhere", "example")}
	return newTestREST(t, clusters, topologies, clock.RealClock{}), topologies
}

func list(t testing.TB, r *REST, ctx context.Context, options *metainternalversion.ListOptions) *vitess.VitessTabletList {
	t.Helper()
	return cachetest.List[*vitess.VitessTabletList](t, r, ctx, options)
}

func TestList(t *testing.T) {
	r, _ := fixture(t)
	got := list(t, r, cachetest.InNamespace("demo"), &metainternalversion.ListOptions{})
	want := []string{"example-zone1-0000000101", "example-zone1-0000000102", "example-zone1-0000000103", "other-zone1-0000000201"}
	if !slices.Equal(cachetest.Names(got), want) {
		t.Fatalf("names = %v, want %v", cachetest.Names(got), want)
	}

	primary := got.Items[0]
	wantLabels := map[string]string{
		"planetscale.com/cluster":     "example",
		"planetscale.com/cell":        "zone1",
		"planetscale.com/keyspace":    "commerce",
		"planetscale.com/shard":       "x-x",
		"planetscale.com/tablet-type": "primary",
		"planetscale.com/tablet-uid":  "0000000101",
	}
	if !labels.Equals(primary.Labels, wantLabels) {
		t.Errorf("labels = %v, want %v", primary.Labels, wantLabels)
	}
	wantStatus := vitess.VitessTabletStatus{
		Cluster: "example", Alias: "zone1-0000000101", Cell: "zone1", Keyspace: "commerce", Shard: "-",
		Type: "PRIMARY", ServingState: ServingStateServing, Hostname: "host-zone1-0000000101",
		PrimaryTermStartTime: &metav1.Time{Time: primaryTermStart},
	}
	if primary.Namespace != "demo" || !primary.Status.PrimaryTermStartTime.Equal(wantStatus.PrimaryTermStartTime) {
		t.Errorf("primary = %+v", primary)
	}
	primary.Status.PrimaryTermStartTime, wantStatus.PrimaryTermStartTime = nil, nil
	if primary.Status != wantStatus {
		t.Errorf("status = %+v, want %+v", primary.Status, wantStatus)
	}
	var serving []string
	for _, item := range got.Items {
		serving = append(serving, item.Status.ServingState)
	}
	// The rdonly's type has no partition in the serving graph.
	if want := []string{"Serving", "Serving", "NotServing", "Serving"}; !slices.Equal(serving, want) {
		t.Errorf("serving states = %v, want %v", serving, want)
	}
	if got.Items[3].Labels["planetscale.com/shard"] != "x-80" {
		t.Errorf("shard label of -80 = %q, want x-80", got.Items[3].Labels["planetscale.com/shard"])
	}

	if got.ResourceVersion == "" || got.ResourceVersion == "0" {
		t.Errorf("list resourceVersion %q", got.ResourceVersion)
	}
	for _, item := range got.Items {
		if item.ResourceVersion != got.ResourceVersion {
			t.Errorf("%s has resourceVersion %s, the list %s", item.Name, item.ResourceVersion, got.ResourceVersion)
		}
	}
	if again := list(t, r, cachetest.InNamespace("demo"), nil); again.ResourceVersion != got.ResourceVersion {
		t.Errorf("the same tablets listed again have resourceVersion %s, first %s", again.ResourceVersion, got.ResourceVersion)
	}

	if all := list(t, r, context.Background(), nil); len(all.Items) != 4 {
		t.Errorf("all namespaces: %v", cachetest.Names(all))
	}
	if empty := list(t, r, cachetest.InNamespace("elsewhere"), nil); len(empty.Items) != 0 || empty.ResourceVersion == "0" {
		t.Errorf("namespace without tablets: %v, resourceVersion %s", cachetest.Names(empty), empty.ResourceVersion)
	}
}

func TestListSelectors(t *testing.T) {
	r, _ := fixture(t)
	for _, tc := range []struct {
		label, field string
		want         []string
	}{
		{label: "planetscale.com/tablet-type=primary", want: []string{"example-zone1-0000000101"}},
		{label: "planetscale.com/shard=x-80", want: []string{"other-zone1-0000000201"}},
		{label: "planetscale.com/cluster=example,planetscale.com/tablet-type!=primary", want: []string{"example-zone1-0000000102", "example-zone1-0000000103"}},
		{field: "metadata.name=other-zone1-0000000201", want: []string{"other-zone1-0000000201"}},
		{field: "metadata.namespace=elsewhere"},
	} {
		options := &metainternalversion.ListOptions{}
		if tc.label != "" {
			options.LabelSelector = mustParseLabels(t, tc.label)
		}
		if tc.field != "" {
			options.FieldSelector = fields.ParseSelectorOrDie(tc.field)
		}
		if got := cachetest.Names(list(t, r, cachetest.InNamespace("demo"), options)); !slices.Equal(got, tc.want) {
			t.Errorf("label %q field %q: %v, want %v", tc.label, tc.field, got, tc.want)
		}
	}
}

// A list of the current version is served; one of an exact earlier version is refused.
func TestListExactVersion(t *testing.T) {
	r, topologies := fixture(t)
	listed := list(t, r, cachetest.InNamespace("demo"), nil)
	exact := &metainternalversion.ListOptions{ResourceVersion: listed.ResourceVersion, ResourceVersionMatch: metav1.ResourceVersionMatchExact}
	if again := list(t, r, cachetest.InNamespace("demo"), exact); again.ResourceVersion != listed.ResourceVersion {
		t.Errorf("exact list of the current version: %s", again.ResourceVersion)
	}
	topologies["demo/other"].change(func(f *fakeTopology) { f.tablets = nil })
	time.Sleep(testPollInterval) // for the reading listed to be too old to answer
	if _, err := r.List(cachetest.InNamespace("demo"), exact); !apierrors.IsResourceExpired(err) {
		t.Errorf("exact list of a past version: %v, want 410 Expired", err)
	}
}

// A cluster whose vtctld does not answer fails the whole list, though the other could be read.
func TestListUnreachableVtctld(t *testing.T) {
	r, topologies := fixture(t)
	topologies["demo/other"].err = status.Error(codes.Unavailable, "connection refused")
	_, err := r.List(cachetest.InNamespace("demo"), nil)
	if !apierrors.IsServiceUnavailable(err) {
		t.Fatalf("err = %v, want 503", err)
	}
}

func TestGet(t *testing.T) {
	r, topologies := fixture(t)
	obj, err := r.Get(cachetest.InNamespace("demo"), "other-zone1-0000000201", &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tablet := obj.(*vitess.VitessTablet)
	if tablet.Status.Alias != "zone1-0000000201" || tablet.Status.ServingState != ServingStateServing || tablet.ResourceVersion == "" {
		t.Errorf("got %+v", tablet)
	}

	for _, name := range []string{"example-zone1-0000000201", "missing-zone1-0000000101", "example-zone1-0000000101-x"} {
		if _, err := r.Get(cachetest.InNamespace("demo"), name, &metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("get %s: %v, want 404", name, err)
		}
	}
	if _, err := r.Get(cachetest.InNamespace("elsewhere"), "example-zone1-0000000101", &metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get from another namespace: %v, want 404", err)
	}

	topologies["demo/example"].change(func(f *fakeTopology) { f.err = status.Error(codes.Unavailable, "connection refused") })
	time.Sleep(testPollInterval) // for the reading that found the tablets to be too old to answer
	if _, err := r.Get(cachetest.InNamespace("demo"), "example-zone1-0000000101", &metav1.GetOptions{}); !apierrors.IsServiceUnavailable(err) {
		t.Errorf("get with vtctld down: %v, want 503", err)
	}
}

// Clusters "a" and "a-b" both prefix "a-b-zone1-...": the one that has the tablet answers, even
// when the other cannot be read.
func TestGetAmongPrefixClusters(t *testing.T) {
	topologies := fakeTopologies{
		"demo/a":   {err: status.Error(codes.Unavailable, "connection refused")},
		"demo/a-b": {tablets: []vtctld.TabletRecord{record("zone1", 101, "commerce", "-", "REPLICA")}},
	}
	r := newTestREST(t, cachetest.Clusters{cachetest.Cluster("demo", "a"), cachetest.Cluster("demo", "a-b")}, topologies, clock.RealClock{})
	obj, err := r.Get(cachetest.InNamespace("demo"), "a-b-zone1-0000000101", &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := obj.(*vitess.VitessTablet).Status.Cluster; got != "a-b" {
		t.Errorf("cluster = %s, want a-b", got)
	}
	if _, err := r.Get(cachetest.InNamespace("demo"), "a-b-zone1-0000000102", &metav1.GetOptions{}); !apierrors.IsServiceUnavailable(err) {
		t.Errorf("a tablet that the unreachable cluster may have: %v, want 503", err)
	}
}

func TestTable(t *testing.T) {
	r, _ := fixture(t)
	tablets := list(t, r, cachetest.InNamespace("demo"), nil)
	table, err := r.ConvertToTable(context.Background(), tablets, nil)
	if err != nil {
		t.Fatal(err)
	}
	var headers []string
	for _, column := range table.ColumnDefinitions {
		headers = append(headers, column.Name)
	}
	if want := []string{"Name", "Cluster", "Alias", "Keyspace", "Shard", "Type", "Serving", "Hostname"}; !slices.Equal(headers, want) {
		t.Errorf("columns = %v, want %v", headers, want)
	}
	if len(table.Rows) != 4 || table.ResourceVersion != tablets.ResourceVersion {
		t.Fatalf("%d rows, resourceVersion %s", len(table.Rows), table.ResourceVersion)
	}
	want := []any{"example-zone1-0000000103", "example", "zone1-0000000103", "commerce", "-", "RDONLY", "NotServing", "host-zone1-0000000103"}
	if !slices.Equal(table.Rows[2].Cells, want) {
		t.Errorf("row = %v, want %v", table.Rows[2].Cells, want)
	}

	one, err := r.ConvertToTable(context.Background(), &tablets.Items[0], &metav1.TableOptions{NoHeaders: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(one.ColumnDefinitions) != 0 || len(one.Rows) != 1 {
		t.Errorf("one tablet without headers: %+v", one)
	}
	if _, err := r.ConvertToTable(context.Background(), &vitess.VitessCluster{}, nil); err == nil {
		t.Error("a VitessCluster was shown as a tablet")
	}
}

func mustParseLabels(t *testing.T, selector string) labels.Selector {
	t.Helper()
	parsed, err := labels.Parse(selector)
	if err != nil {
		t.Fatal(err)
	}
	return parsed
}
