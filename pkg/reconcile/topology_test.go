package reconcile

import (
	"sync"
	"testing"
	"time"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// A shard is taken for serving unless a reading of its keyspace says otherwise: a keyspace the
// reading left out (one the spec no longer declares used to be) is no proof that it is idle.
func TestServesShardWithoutReadingOfItsKeyspace(t *testing.T) {
	view := &topologyView{
		cells:   map[string]bool{"zone1": true},
		shards:  map[string]vtctld.Shard{"commerce/-": {Name: "-", IsPrimaryServing: true}, "customer/-": {Name: "-"}},
		serving: map[string][]string{"commerce": {"-"}, "customer": {}},
	}
	for _, tc := range []struct {
		keyspace, shard string
		serves          bool
	}{
		{"commerce", "-", true},
		{"customer", "-", false}, // read: nothing routed to it
		{"removed", "-", true},   // not read
	} {
		if got := view.servesShard(tc.keyspace, tc.shard); got != tc.serves {
			t.Errorf("servesShard(%s, %s) = %v, want %v", tc.keyspace, tc.shard, got, tc.serves)
		}
	}
	var unread *topologyView
	if !unread.servesShard("commerce", "-") {
		t.Error("without a reading, a shard must be taken for serving")
	}
}

// A view is read without the lock once published (observeTopology reads its nextReading) while a
// reparent's end makes the next reading due: run with -race.
func TestReadSoonLeavesPublishedViewsAlone(t *testing.T) {
	topo := newTopology()
	topo.setView("demo/demo", &topologyView{nextReading: time.Now().Add(time.Minute)})
	published := topo.view("demo/demo")
	var done sync.WaitGroup
	done.Go(func() { topo.readSoon("demo/demo") })
	if published.nextReading.IsZero() {
		t.Error("readSoon changed a published view")
	}
	done.Wait()
	if due := topo.view("demo/demo"); !due.nextReading.IsZero() {
		t.Errorf("after readSoon the next reading is due at %v, want now", due.nextReading)
	}
}
