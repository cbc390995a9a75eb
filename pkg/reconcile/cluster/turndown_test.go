package cluster

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clienttesting "k8s.io/client-go/testing"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objectstest"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
)

// A keyspace the cluster no longer declares keeps its shards (turndownPolicy RequireIdle) while the
// last reading of the topology says they serve, or says nothing of them, and an Event on the
// cluster says why it waits; a reading that shows them idle lets them go.
func TestRemovedKeyspaceIsTurnedDownOnlyOnceIdle(t *testing.T) {
	for _, tc := range []struct {
		name    string
		view    *topology.View // nil: not read yet
		deleted bool
	}{
		{name: "not read yet", view: nil},
		{name: "read, serving", view: &topology.View{Cells: map[string]bool{"zone1": true}, Serving: map[string][]string{"customer": {"-"}}}},
		{name: "read, not the removed keyspace", view: &topology.View{Cells: map[string]bool{"zone1": true}, Serving: map[string][]string{"commerce": {"-"}}}},
		{name: "read, idle", view: &topology.View{Cells: map[string]bool{"zone1": true}, Serving: map[string][]string{"customer": {}}}, deleted: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cluster := exampleCluster()
			cluster.Spec.Keyspaces[1].Partitionings = cluster.Spec.Keyspaces[1].Partitionings[:1]
			desired, err := desiredChildren(cluster)
			if err != nil {
				t.Fatal(err)
			}
			customer := desired.Keyspaces[1]
			customer.UID = "customer-uid"
			shard := desired.Shards[customer.Name][0]
			shard.UID = "customer-shard-uid"
			shard.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(customer, v1alpha1.SchemeGroupVersion.WithKind("VitessKeyspace"))}
			cluster.Spec.Keyspaces = cluster.Spec.Keyspaces[:1]

			fakes := objectstest.New([]runtime.Object{cluster, customer, shard}, nil)
			topo := topology.New(func(string) {}, func(string) {})
			addresses := topology.VtctldAddresses{}
			c := New(fakes.Vitess, fakes.Clients, fakes.Kinds, fakes.Informers.Vitess.Vitess().V1alpha1().VitessClusters().Lister(), topo, addresses)
			fakes.Sync(t)
			key := cluster.Namespace + "/" + cluster.Name
			if tc.view != nil {
				tc.view.Address, tc.view.NextReading = addresses.Of(cluster), time.Now().Add(time.Hour)
				topo.SetView(key, tc.view)
			}
			_ = c.reconcile(t.Context(), key)

			deletedShard := false
			for _, action := range fakes.Changes() {
				if action.GetVerb() == "delete" && action.GetResource().Resource == "vitessshards" {
					deletedShard = action.(clienttesting.DeleteAction).GetName() == shard.Name
				}
			}
			if deletedShard != tc.deleted {
				t.Fatalf("shard %s deleted = %v, want %v", shard.Name, deletedShard, tc.deleted)
			}
			if tc.deleted {
				return
			}
			if !hasEvent(fakes.Events.Events, reasonTurndownPending) {
				t.Errorf("no %s Event", reasonTurndownPending)
			}
		})
	}
}

func hasEvent(events <-chan string, reason string) bool {
	for {
		select {
		case event := <-events:
			if strings.Contains(event, " "+reason+" ") {
				return true
			}
		default:
			return false
		}
	}
}
