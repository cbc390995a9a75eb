package vitesstablet

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/topologycache/cachetest"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

func startWatch(t testing.TB, r *REST, options *metainternalversion.ListOptions) watch.Interface {
	t.Helper()
	w, err := r.Watch(cachetest.InNamespace("demo"), options)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return w
}

// event is what a test checks of a watch event.
type event struct {
	Type watch.EventType
	Name string
}

// nextEvents receives n events, failing the test if they do not come in time.
func nextEvents(t testing.TB, w watch.Interface, n int) ([]event, []watch.Event) {
	t.Helper()
	var summary []event
	var events []watch.Event
	for range n {
		select {
		case e, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed after %v", summary)
			}
			events = append(events, e)
			name := ""
			if tablet, ok := e.Object.(*vitess.VitessTablet); ok {
				name = tablet.Name
			}
			summary = append(summary, event{e.Type, name})
		case <-time.After(5 * time.Second):
			t.Fatalf("no event after %v", summary)
		}
	}
	return summary, events
}

func compareEvents(a, b event) int { return cmp.Compare(a.Name, b.Name) }

func resourceVersionOf(e watch.Event) string { return e.Object.(*vitess.VitessTablet).ResourceVersion }

func TestWatchSendsChanges(t *testing.T) {
	r, topologies := fixture(t)
	w := startWatch(t, r, &metainternalversion.ListOptions{})
	got, _ := nextEvents(t, w, 4)
	want := []event{
		{watch.Added, "example-zone1-0000000101"}, {watch.Added, "example-zone1-0000000102"},
		{watch.Added, "example-zone1-0000000103"}, {watch.Added, "other-zone1-0000000201"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("initial events %v, want %v", got, want)
	}

	// A reparent: 102 becomes primary, 101 a replica; and 201 goes away.
	topologies["demo/example"].change(func(f *fakeTopology) {
		f.tablets[0].Type, f.tablets[0].PrimaryTermStartTime = "REPLICA", time.Time{}
		f.tablets[1].Type, f.tablets[1].PrimaryTermStartTime = "PRIMARY", primaryTermStart.Add(time.Minute)
	})
	topologies["demo/other"].change(func(f *fakeTopology) { f.tablets = nil })
	got, events := nextEvents(t, w, 3)
	// Each cluster is read on its own, so the events of the two may come in either order.
	want = []event{{watch.Modified, "example-zone1-0000000101"}, {watch.Modified, "example-zone1-0000000102"}, {watch.Deleted, "other-zone1-0000000201"}}
	if !slices.Equal(slices.SortedFunc(slices.Values(got), compareEvents), want) {
		t.Fatalf("events %v, want %v in any order", got, want)
	}
	promoted := events[slices.Index(got, want[1])].Object.(*vitess.VitessTablet)
	if promoted.Labels["planetscale.com/tablet-type"] != "primary" || promoted.Status.PrimaryTermStartTime == nil {
		t.Errorf("promoted tablet %+v", promoted)
	}
	// Each event carries its own version, and the last is the state a list now shows.
	if versions := []string{resourceVersionOf(events[0]), resourceVersionOf(events[1]), resourceVersionOf(events[2])}; versions[0] == versions[1] || versions[1] == versions[2] {
		t.Errorf("event versions %v", versions)
	}
	if now := list(t, r, cachetest.InNamespace("demo"), nil); now.ResourceVersion != resourceVersionOf(events[2]) {
		t.Errorf("list resourceVersion %s after an event of %s", now.ResourceVersion, resourceVersionOf(events[2]))
	}
}

// A watch from a list's version sends no initial events, only what changes afterwards.
func TestWatchFromListVersion(t *testing.T) {
	r, topologies := fixture(t)
	options := &metainternalversion.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", "example-zone1-0000000103")}
	listed := list(t, r, cachetest.InNamespace("demo"), options)
	options.ResourceVersion = listed.ResourceVersion
	w := startWatch(t, r, options)

	// A change the selector hides sends nothing.
	topologies["demo/other"].change(func(f *fakeTopology) { f.tablets = nil })
	select {
	case e := <-w.ResultChan():
		t.Fatalf("unexpected event %v", e)
	case <-time.After(10 * testPollInterval):
	}
	// The rdonly's type starts being routed.
	topologies["demo/example"].change(func(f *fakeTopology) {
		f.routes["commerce"] = append(f.routes["commerce"], vtctld.ShardRoute{Cell: "zone1", TabletType: "RDONLY", Shard: "-"})
	})
	_, events := nextEvents(t, w, 1)
	if tablet := events[0].Object.(*vitess.VitessTablet); events[0].Type != watch.Modified || tablet.Status.ServingState != ServingStateServing {
		t.Errorf("event %s %+v", events[0].Type, tablet)
	}
}

func TestWatchFromPastVersionIsGone(t *testing.T) {
	r, topologies := fixture(t)
	listed := list(t, r, cachetest.InNamespace("demo"), nil)
	topologies["demo/other"].change(func(f *fakeTopology) { f.tablets = nil })
	time.Sleep(testPollInterval) // for the reading listed to be too old to start a watch from
	for _, options := range []*metainternalversion.ListOptions{
		{ResourceVersion: listed.ResourceVersion},
		{ResourceVersion: listed.ResourceVersion, SendInitialEvents: ptr.To(false), ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan},
	} {
		if _, err := r.Watch(cachetest.InNamespace("demo"), options); !apierrors.IsResourceExpired(err) {
			t.Errorf("watch from a past version: %v, want 410 Expired", err)
		}
	}
}

// What informers ask for: the current tablets, then the bookmark that ends the initial events,
// carrying the version a list would have.
func TestWatchSendInitialEvents(t *testing.T) {
	r, _ := fixture(t)
	w := startWatch(t, r, &metainternalversion.ListOptions{
		SendInitialEvents:    ptr.To(true),
		AllowWatchBookmarks:  true,
		ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan,
		ResourceVersion:      "some version of long ago",
	})
	got, events := nextEvents(t, w, 5)
	if got[3] != (event{watch.Added, "other-zone1-0000000201"}) || got[4].Type != watch.Bookmark {
		t.Fatalf("events %v", got)
	}
	bookmark := events[4].Object.(*vitess.VitessTablet)
	if bookmark.Annotations[metav1.InitialEventsAnnotationKey] != "true" {
		t.Errorf("bookmark annotations %v", bookmark.Annotations)
	}
	if listed := list(t, r, cachetest.InNamespace("demo"), nil); bookmark.ResourceVersion != listed.ResourceVersion {
		t.Errorf("bookmark resourceVersion %s, list %s", bookmark.ResourceVersion, listed.ResourceVersion)
	}
}

func TestWatchEndsWhenVtctldIsUnreachable(t *testing.T) {
	r, topologies := fixture(t)
	w := startWatch(t, r, &metainternalversion.ListOptions{ResourceVersion: list(t, r, cachetest.InNamespace("demo"), nil).ResourceVersion})
	topologies["demo/other"].change(func(f *fakeTopology) { f.err = status.Error(codes.Unavailable, "connection refused") })
	_, events := nextEvents(t, w, 1)
	if s, ok := events[0].Object.(*metav1.Status); events[0].Type != watch.Error || !ok || s.Code != 503 {
		t.Fatalf("event %s %+v, want an ERROR with a 503 status", events[0].Type, events[0].Object)
	}
	if _, open := <-w.ResultChan(); open {
		t.Error("the watch went on after the error")
	}
}

func TestWatchStop(t *testing.T) {
	r, _ := fixture(t)
	w := startWatch(t, r, &metainternalversion.ListOptions{})
	w.Stop()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, open := <-w.ResultChan():
			if !open {
				return
			}
		case <-deadline:
			t.Fatal("the result channel stayed open after Stop")
		}
	}
}
