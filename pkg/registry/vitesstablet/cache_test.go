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
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/topologycache"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/topologycache/cachetest"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// twoKeyspaces is a cluster's topology with two keyspaces: a reading of it costs three calls.
func twoKeyspaces() *fakeTopology {
	return &fakeTopology{
		tablets: []vtctld.TabletRecord{record("zone1", 101, "commerce", "-", "PRIMARY"), record("zone1", 201, "customer", "-80", "PRIMARY")},
		routes: map[string][]vtctld.ShardRoute{
			"commerce": {{Cell: "zone1", TabletType: "PRIMARY", Shard: "-"}},
			"customer": {{Cell: "zone1", TabletType: "PRIMARY", Shard: "-80"}},
		},
	}
}

// onFakeClock is a REST of the clusters on a fake clock, which only the test moves.
func onFakeClock(t testing.TB, clusters topologycache.ClusterLister, topologies fakeTopologies) (*REST, *testingclock.FakeClock) {
	clock := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	return newTestREST(t, clusters, topologies, clock), clock
}

// waitForCalls waits until the topology has had so many AllTablets and ShardRoutes calls, failing
// the test if it has more, or not so many in time. A reading is one AllTablets and one
// ShardRoutes per keyspace.
func waitForCalls(t testing.TB, topology *fakeTopology, wantAllTablets, wantShardRoutes int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		allTablets, shardRoutes := topology.calls()
		if allTablets == wantAllTablets && shardRoutes == wantShardRoutes {
			return
		}
		if allTablets > wantAllTablets || shardRoutes > wantShardRoutes || time.Now().After(deadline) {
			t.Fatalf("%d AllTablets and %d ShardRoutes calls, want %d and %d", allTablets, shardRoutes, wantAllTablets, wantShardRoutes)
		}
		time.Sleep(time.Millisecond)
	}
}

// The vtctld calls do not grow with the watches: whether one watch or a hundred follow a cluster,
// it is read once per poll interval.
func TestOneReadingPerIntervalWhateverTheWatches(t *testing.T) {
	for _, watches := range []int{1, 100} {
		t.Run(fmt.Sprintf("%d watches", watches), func(t *testing.T) {
			topology := twoKeyspaces()
			r, clock := onFakeClock(t, cachetest.Clusters{cachetest.Cluster("demo", "example")}, fakeTopologies{"demo/example": topology})
			var started sync.WaitGroup
			ws := make([]watch.Interface, watches)
			for i := range ws {
				started.Go(func() { ws[i] = startWatch(t, r, &metainternalversion.ListOptions{}) })
			}
			started.Wait()
			// The watches started together share the first reading.
			waitForCalls(t, topology, 1, 2)
			for _, w := range ws {
				nextEvents(t, w, 2)
			}
			for interval := 1; interval <= 5; interval++ {
				topology.change(func(f *fakeTopology) { f.tablets[0].Hostname = fmt.Sprintf("moved-%d", interval) })
				clock.Step(testPollInterval)
				waitForCalls(t, topology, 1+interval, 2*(1+interval))
				for _, w := range ws {
					if got, _ := nextEvents(t, w, 1); got[0] != (event{watch.Modified, "example-zone1-0000000101"}) {
						t.Fatalf("after reading %d: %v", interval, got)
					}
				}
			}
			waitForCalls(t, topology, 6, 12)
		})
	}
}

// A list or get answers from a reading younger than the poll interval, and lists that find none
// share the next.
func TestListsShareReadings(t *testing.T) {
	topology := twoKeyspaces()
	r, clock := onFakeClock(t, cachetest.Clusters{cachetest.Cluster("demo", "example")}, fakeTopologies{"demo/example": topology})
	var lists sync.WaitGroup
	for range 20 {
		lists.Go(func() {
			if _, err := r.List(cachetest.InNamespace("demo"), nil); err != nil {
				t.Error(err)
			}
		})
	}
	lists.Wait()
	waitForCalls(t, topology, 1, 2)
	if _, err := r.Get(cachetest.InNamespace("demo"), "example-zone1-0000000101", &metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	waitForCalls(t, topology, 1, 2)

	// Once the reading is a poll interval old, a list waits for the next, which shows the change.
	topology.change(func(f *fakeTopology) { f.tablets = f.tablets[:1] })
	clock.Step(testPollInterval)
	if got := cachetest.Names(list(t, r, cachetest.InNamespace("demo"), nil)); !slices.Equal(got, []string{"example-zone1-0000000101"}) {
		t.Errorf("list after a change: %v", got)
	}
	waitForCalls(t, topology, 2, 3)
}

// Namespaces are apart: two clusters of the same name in two namespaces have a reader each, and
// each namespace sees its own cluster's tablets alone.
func TestNamespacesAreApart(t *testing.T) {
	theirs := &fakeTopology{tablets: []vtctld.TabletRecord{record("zone1", 301, "secrets", "-", "PRIMARY")}}
	topologies := fakeTopologies{"demo/example": twoKeyspaces(), "tenant/example": theirs}
	r, _ := onFakeClock(t, cachetest.Clusters{cachetest.Cluster("demo", "example"), cachetest.Cluster("tenant", "example")}, topologies)
	for _, tc := range []struct {
		namespace string
		want      []string
	}{
		{"demo", []string{"example-zone1-0000000101", "example-zone1-0000000201"}},
		{"tenant", []string{"example-zone1-0000000301"}},
	} {
		got := list(t, r, cachetest.InNamespace(tc.namespace), nil)
		if !slices.Equal(cachetest.Names(got), tc.want) {
			t.Errorf("namespace %s: %v, want %v", tc.namespace, cachetest.Names(got), tc.want)
		}
		for _, item := range got.Items {
			if item.Namespace != tc.namespace {
				t.Errorf("namespace %s lists %s/%s", tc.namespace, item.Namespace, item.Name)
			}
		}
	}
	if _, err := r.Get(cachetest.InNamespace("demo"), "example-zone1-0000000301", &metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("another namespace's tablet: %v, want 404", err)
	}
	w := startWatch(t, r, &metainternalversion.ListOptions{})
	if got, _ := nextEvents(t, w, 2); got[0].Name != "example-zone1-0000000101" || got[1].Name != "example-zone1-0000000201" {
		t.Errorf("watch in demo: %v", got)
	}
	waitForCalls(t, theirs, 1, 1)
}

// A cluster deleted and created again under its name is another cluster: its tablets are read
// anew, not served from the old one's reading.
func TestRecreatedClusterIsReadAnew(t *testing.T) {
	old := cachetest.Cluster("demo", "example")
	old.UID = "old"
	topology := twoKeyspaces()
	clusters := &mutableClusters{clusters: cachetest.Clusters{old}}
	r, _ := onFakeClock(t, clusters, fakeTopologies{"demo/example": topology})
	list(t, r, cachetest.InNamespace("demo"), nil)

	recreated := cachetest.Cluster("demo", "example")
	recreated.UID = types.UID("recreated")
	clusters.set(recreated)
	topology.change(func(f *fakeTopology) { f.tablets = f.tablets[1:] })
	if got := cachetest.Names(list(t, r, cachetest.InNamespace("demo"), nil)); !slices.Equal(got, []string{"example-zone1-0000000201"}) {
		t.Errorf("tablets of the recreated cluster: %v", got)
	}
	waitForCalls(t, topology, 2, 3)
}

// mutableClusters is a topologycache.ClusterLister whose clusters a test changes while watches list them.
type mutableClusters struct {
	mu       sync.Mutex
	clusters cachetest.Clusters
}

func (m *mutableClusters) List(ctx context.Context, options *metainternalversion.ListOptions) (runtime.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.clusters.List(ctx, options)
}

func (m *mutableClusters) set(clusters ...vitess.VitessCluster) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clusters = clusters
}

// A watch follows the clusters of its namespace: a new one's tablets are added, and a deleted
// one's deleted, although its vtctld has gone with it.
func TestWatchFollowsClusters(t *testing.T) {
	clusters := &mutableClusters{clusters: cachetest.Clusters{cachetest.Cluster("demo", "example")}}
	other := &fakeTopology{tablets: []vtctld.TabletRecord{record("zone1", 301, "customer", "-", "PRIMARY")}}
	r, clock := onFakeClock(t, clusters, fakeTopologies{"demo/example": twoKeyspaces(), "demo/other": other})
	w := startWatch(t, r, &metainternalversion.ListOptions{})
	nextEvents(t, w, 2)

	clusters.set(cachetest.Cluster("demo", "example"), cachetest.Cluster("demo", "other"))
	clock.Step(testPollInterval)
	if got, _ := nextEvents(t, w, 1); got[0] != (event{watch.Added, "other-zone1-0000000301"}) {
		t.Errorf("a cluster created: %v", got)
	}

	clusters.set(cachetest.Cluster("demo", "example"))
	other.change(func(f *fakeTopology) { f.err = apierrors.NewConflict(vitess.Resource("vitessclusters"), "other", nil) })
	// The deleted cluster's reader may read it before the watch lists the clusters again.
	clock.Step(testPollInterval)
	if got, _ := nextEvents(t, w, 1); got[0] != (event{watch.Deleted, "other-zone1-0000000301"}) {
		t.Errorf("a cluster deleted: %v", got)
	}
}

// A reader ends once it has had no consumer for the idle timeout, and the next request starts
// another.
func TestIdleReaderStops(t *testing.T) {
	topology := twoKeyspaces()
	clock := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	const idleTimeout = 5 * testPollInterval
	r := newREST(cachetest.Clusters{cachetest.Cluster("demo", "example")}, fakeTopologies{"demo/example": topology}, clock, testPollInterval, idleTimeout)
	t.Cleanup(r.Destroy)
	list(t, r, cachetest.InNamespace("demo"), nil)
	readings := 1
	for elapsed := testPollInterval; elapsed < idleTimeout; elapsed += testPollInterval {
		clock.Step(testPollInterval)
		readings++
		waitForCalls(t, topology, readings, 2*readings)
	}
	// The idle timeout is reached: the reader ends instead of reading.
	clock.Step(testPollInterval)
	deadline := time.Now().Add(5 * time.Second)
	for r.Readers() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the reader goes on without consumers")
		}
		time.Sleep(time.Millisecond)
	}
	clock.Step(testPollInterval)
	waitForCalls(t, topology, readings, 2*readings)

	list(t, r, cachetest.InNamespace("demo"), nil)
	waitForCalls(t, topology, readings+1, 2*(readings+1))
}

// A failed reading ends every watch of its cluster with an ERROR, and is what a list then gets.
func TestFailedReadingEndsEveryWatch(t *testing.T) {
	topology := twoKeyspaces()
	r, clock := onFakeClock(t, cachetest.Clusters{cachetest.Cluster("demo", "example")}, fakeTopologies{"demo/example": topology})
	ws := make([]watch.Interface, 3)
	for i := range ws {
		ws[i] = startWatch(t, r, &metainternalversion.ListOptions{})
		nextEvents(t, ws[i], 2)
	}
	topology.change(func(f *fakeTopology) { f.err = status.Error(codes.Unavailable, "connection refused") })
	clock.Step(testPollInterval)
	for _, w := range ws {
		_, events := nextEvents(t, w, 1)
		if s, ok := events[0].Object.(*metav1.Status); events[0].Type != watch.Error || !ok || s.Code != 503 {
			t.Fatalf("event %s %+v, want an ERROR with a 503 status", events[0].Type, events[0].Object)
		}
		if _, open := <-w.ResultChan(); open {
			t.Error("a watch went on after the error")
		}
	}
	if _, err := r.List(cachetest.InNamespace("demo"), nil); !apierrors.IsServiceUnavailable(err) {
		t.Errorf("list after the failed reading: %v, want 503", err)
	}
	waitForCalls(t, topology, 2, 2)
}

// Destroy ends the readers and the watches, and the requests that come after it are refused.
func TestDestroy(t *testing.T) {
	r, _ := onFakeClock(t, cachetest.Clusters{cachetest.Cluster("demo", "example")}, fakeTopologies{"demo/example": twoKeyspaces()})
	w := startWatch(t, r, &metainternalversion.ListOptions{})
	nextEvents(t, w, 2)
	r.Destroy() // returns once the readers have ended
	select {
	case _, open := <-w.ResultChan():
		if open {
			t.Error("an event after Destroy")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the watch goes on after Destroy")
	}
	if _, err := r.List(cachetest.InNamespace("demo"), nil); !apierrors.IsServiceUnavailable(err) {
		t.Errorf("list after Destroy: %v, want 503", err)
	}
}

// BenchmarkTabletWatchers follows one two-keyspace cluster with 1 and with 100 watches, an
// interval being a change of the topology, the reading that sees it, every watch's event, and a
// list. It reports the vtctld calls per interval, which should not grow with the watches (a watch
// polling for itself made three each), and the time of a list.
func BenchmarkTabletWatchers(b *testing.B) {
	for _, watches := range []int{1, 100} {
		b.Run(fmt.Sprintf("watches=%d", watches), func(b *testing.B) {
			topology := twoKeyspaces()
			r, clock := onFakeClock(b, cachetest.Clusters{cachetest.Cluster("demo", "example")}, fakeTopologies{"demo/example": topology})
			ws := make([]watch.Interface, watches)
			for i := range ws {
				ws[i] = startWatch(b, r, &metainternalversion.ListOptions{})
				nextEvents(b, ws[i], 2)
			}
			allTablets, shardRoutes := topology.calls()
			callsBefore := allTablets + shardRoutes
			var listing time.Duration
			b.ResetTimer()
			for i := range b.N {
				topology.change(func(f *fakeTopology) { f.tablets[0].Hostname = fmt.Sprintf("moved-%d", i) })
				clock.Step(testPollInterval)
				for _, w := range ws {
					nextEvents(b, w, 1)
				}
				start := time.Now()
				if _, err := r.List(cachetest.InNamespace("demo"), nil); err != nil {
					b.Fatal(err)
				}
				listing += time.Since(start)
			}
			b.StopTimer()
			allTablets, shardRoutes = topology.calls()
			b.ReportMetric(float64(allTablets+shardRoutes-callsBefore)/float64(b.N), "vtctld-calls/interval")
			b.ReportMetric(float64(listing.Nanoseconds())/float64(b.N), "list-ns")
		})
	}
}
