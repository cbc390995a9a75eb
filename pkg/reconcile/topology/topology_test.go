package topology

import (
	"sync"
	"testing"
	"time"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// A shard is taken for serving unless a reading of its keyspace says otherwise: a keyspace the
// reading left out (one the spec no longer declares used to be) is no proof that it is idle.
func TestServesShardWithoutReadingOfItsKeyspace(t *testing.T) {
	view := &View{
		Cells:   map[string]bool{"zone1": true},
		Shards:  map[string]vtctld.Shard{"commerce/-": {Name: "-", IsPrimaryServing: true}, "customer/-": {Name: "-"}},
		Serving: map[string][]string{"commerce": {"-"}, "customer": {}},
	}
	for _, tc := range []struct {
		keyspace, shard string
		serves          bool
	}{
		{"commerce", "-", true},
		{"customer", "-", false}, // read: nothing routed to it
		{"removed", "-", true},   // not read
	} {
		if got := view.ServesShard(tc.keyspace, tc.shard); got != tc.serves {
			t.Errorf("ServesShard(%s, %s) = %v, want %v", tc.keyspace, tc.shard, got, tc.serves)
		}
	}
	var unread *View
	if !unread.ServesShard("commerce", "-") {
		t.Error("without a reading, a shard must be taken for serving")
	}
}

// A view is read without the lock once published (the cluster controller reads its NextReading) while a
// reparent's end makes the next reading due: run with -race.
func TestReadSoonLeavesPublishedViewsAlone(t *testing.T) {
	topo := New(func(string) {}, func(string) {})
	topo.SetView("demo/demo", &View{NextReading: time.Now().Add(time.Minute)})
	published := topo.View("demo/demo")
	var done sync.WaitGroup
	done.Go(func() { topo.ReadSoon("demo/demo") })
	if published.NextReading.IsZero() {
		t.Error("ReadSoon changed a published view")
	}
	done.Wait()
	if due := topo.View("demo/demo"); !due.NextReading.IsZero() {
		t.Errorf("after ReadSoon the next reading is due at %v, want now", due.NextReading)
	}
}

// A deleted cluster's vtctld client is closed once no other cluster's reading uses its address.
func TestForgetClosesTheClientOfADeletedCluster(t *testing.T) {
	topo := New(func(string) {}, func(string) {})
	t.Cleanup(topo.Close)
	shared, err := topo.Client("vtctld.a.svc:15999")
	if err != nil {
		t.Fatal(err)
	}
	topo.SetView("a/one", &View{Address: "vtctld.a.svc:15999"})
	topo.SetView("a/two", &View{Address: "vtctld.a.svc:15999"})
	topo.Forget("a/one")
	if again, _ := topo.Client("vtctld.a.svc:15999"); again != shared {
		t.Fatal("the client was closed while another cluster still uses its vtctld")
	}
	topo.Forget("a/two")
	if again, _ := topo.Client("vtctld.a.svc:15999"); again == shared {
		t.Fatal("the client of a deleted cluster's vtctld was kept")
	}
}
