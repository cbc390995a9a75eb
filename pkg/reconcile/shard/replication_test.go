package shard

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// TestReplicationResumedOnTabletsThatCameBackOnTheirData: a Ready tablet of a pool with a backup
// location (so run with --restore-from-backup, which on a volume with data leaves replication
// stopped) whose replication is stopped gets it started, once per Pod, with an Event; the primary,
// a DRAINED tablet (restored to a point in time), tablets without a location, and a new shard's
// tablets before its primary is elected are not looked at.
func TestReplicationResumedOnTabletsThatCameBackOnTheirData(t *testing.T) {
	keyspace, shard := keyspaceShard(t)
	shard.Spec.VitessOrchestrator = nil
	shard.Spec.Replication = &v1alpha1.VitessReplicationSpec{InitializeBackup: new(bool)}
	tablets := shardTablets(shard)
	primary, replica, drained := tablets[0].alias(), tablets[1].alias(), tablets[2].alias()
	for _, tc := range []struct {
		name       string
		location   bool
		noPrimary  bool
		stopped    []string
		read, want []string
	}{
		{name: "a replica that came back without replicating", location: true, stopped: []string{replica, drained},
			read: []string{replica}, want: []string{replica}},
		{name: "a replica that replicates", location: true, read: []string{replica}},
		{name: "no backup location, so no --restore-from-backup", stopped: []string{replica}},
		{name: "a new shard before its primary is elected", location: true, noPrimary: true, stopped: []string{replica}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shard := shard.DeepCopy()
			if tc.location {
				shard.Spec.BackupLocations = []v1alpha1.VitessBackupLocation{{Volume: &corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
			}
			var pods []runtime.Object
			for _, tablet := range shardTablets(shard) {
				pod := tabletPod(shard, tablet)
				pod.UID = types.UID("uid-" + tablet.alias())
				pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
				pods = append(pods, pod, tabletPVC(shard, tablet))
			}
			shardPrimary := primary
			if tc.noPrimary {
				shardPrimary = ""
			}
			vitessShard := &fakeVitess{primary: shardPrimary, stoppedReplication: tc.stopped}
			c, fakes := controllerAskingVitess(t, keyspace, shard, pods, vitessShard, &topology.View{
				Address: "vtctld:15999", Cells: map[string]bool{"zone1": true},
				Shards:      map[string]vtctld.Shard{"commerce/-": {Name: "-", PrimaryAlias: shardPrimary}},
				TabletTypes: map[string]string{primary: "PRIMARY", replica: "REPLICA", drained: "DRAINED"},
			})
			for range 2 {
				if err := c.reconcile(t.Context(), shard.Namespace+"/"+shard.Name); err != nil {
					t.Fatal(err)
				}
				c.background.Wait()
			}
			if !slices.Equal(vitessShard.replicationRead, tc.read) {
				t.Errorf("read the replication of %v over two passes, want %v once", vitessShard.replicationRead, tc.read)
			}
			if !slices.Equal(vitessShard.replicationStarted, tc.want) {
				t.Errorf("started replication on %v, want %v", vitessShard.replicationStarted, tc.want)
			}
			var events []string
			for len(fakes.Events.Events) > 0 {
				events = append(events, <-fakes.Events.Events)
			}
			if started := slices.ContainsFunc(events, func(e string) bool { return strings.Contains(e, "ReplicationStarted") }); started != (len(tc.want) > 0) {
				t.Errorf("events %v: a ReplicationStarted Event is %v, want %v", events, started, len(tc.want) > 0)
			}
		})
	}
}
