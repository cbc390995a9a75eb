package cluster

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objectstest"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
)

// A cluster is Ready only once its own components are too: with every cell, keyspace and tablet
// ready, a lockserver without quorum or a vtctld not yet available keeps it not Ready, and says
// which.
func TestClusterIsReadyOnlyWithItsLockserverAndVtctld(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		lockserverReady, vtctldUp bool
		wantReady                 bool
		wantInMessage             string
	}{
		{name: "everything ready", lockserverReady: true, vtctldUp: true, wantReady: true},
		{name: "lockserver without quorum", vtctldUp: true, wantInMessage: "not ready: lockserver"},
		{name: "vtctld not available", lockserverReady: true, wantInMessage: "not ready: vtctld in zone1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cluster := exampleCluster()
			desired, err := desiredChildren(cluster)
			if err != nil {
				t.Fatal(err)
			}
			ready := func(conditions *[]metav1.Condition, value bool) {
				objects.SetCondition(conditions, 0, v1alpha1.ConditionReady, value, "Test", "")
			}
			stored := []runtime.Object{cluster}
			ready(&desired.Lockserver.Status.Conditions, tc.lockserverReady)
			stored = append(stored, desired.Lockserver)
			for _, cell := range desired.Cells {
				ready(&cell.Status.Conditions, true)
				stored = append(stored, cell)
			}
			for _, keyspace := range desired.Keyspaces {
				ready(&keyspace.Status.Conditions, true)
				stored = append(stored, keyspace)
				for _, shard := range desired.Shards[keyspace.Name] {
					for _, pool := range shard.Spec.TabletPools {
						shard.Status.Tablets.Ready += pool.Replicas
					}
					ready(&shard.Status.Conditions, true)
					stored = append(stored, shard)
				}
			}
			vtctld := vtctldDeployment(cluster, "zone1")
			if tc.vtctldUp {
				vtctld.Status.AvailableReplicas = *vtctld.Spec.Replicas
			}

			fakes := objectstest.New(stored, []runtime.Object{vtctld})
			c := New(fakes.Vitess, fakes.Clients, fakes.Kinds, fakes.Informers.Vitess.Vitess().V1alpha1().VitessClusters().Lister(),
				topology.New(func(string) {}, func(string) {}), topology.VtctldAddresses{})
			fakes.Sync(t)
			pass := &clusterPass{Pass: objects.NewPass(fakes.Clients, cluster), Controller: c, cluster: cluster}
			if err := c.updateStatus(t.Context(), cluster, desired, pass); err != nil {
				t.Fatal(err)
			}
			updated, err := fakes.Vitess.VitessV1alpha1().VitessClusters(cluster.Namespace).Get(t.Context(), cluster.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			condition := meta.FindStatusCondition(updated.Status.Conditions, v1alpha1.ConditionReady)
			if condition == nil || (condition.Status == metav1.ConditionTrue) != tc.wantReady || !strings.Contains(condition.Message, tc.wantInMessage) {
				t.Errorf("Ready: %+v; want ready %v, a message with %q", condition, tc.wantReady, tc.wantInMessage)
			}
		})
	}
}
