package shard

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// TestFirstBackup: a shard with a backup location gets one first backup, made by an rdonly tablet or
// else a replica that is not the primary, once its tablets are ready and it has a primary; not when it has a complete
// backup already, not under initializeBackup: false, not without a location; a failure is a
// Warning Event, tried again after backupRetry rather than on every pass. The BackedUp condition
// says which of these the shard is in.
func TestFirstBackup(t *testing.T) {
	keyspace, shard := keyspaceShard(t)
	shard.Spec.VitessOrchestrator = nil
	shard.Spec.BackupLocations = []v1alpha1.VitessBackupLocation{{Volume: &corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	tablets := shardTablets(shard)
	primary := tablets[0].alias()
	rdonlyAlias := func() string {
		s := shard.DeepCopy()
		s.Spec.TabletPools[0].Type = v1alpha1.TabletPoolTypeRdonly
		return shardTablets(s)[0].alias()
	}()
	for _, tc := range []struct {
		name     string
		mutate   func(*v1alpha1.VitessShard, *fakeVitess)
		notReady bool
		want     []string // the tablets backed up
		event    string
		// backedUp is the reason of the shard's BackedUp condition after the passes; "" is none.
		backedUp string
	}{
		{name: "a new shard", want: []string{tablets[1].alias()}, event: "InitialBackupTaken", backedUp: "BackupComplete"},
		{name: "tablets not ready yet", notReady: true, backedUp: "InitialBackupPending"},
		{name: "a complete backup exists", mutate: func(_ *v1alpha1.VitessShard, f *fakeVitess) {
			f.backups = []vtctld.Backup{{Name: "2026-12-07.120000.zone1-0000000101", Complete: false}, {Name: "2026-12-07.130000.zone1-0000000101", Complete: true}}
		}, backedUp: "BackupComplete"},
		{name: "only an incomplete backup exists", mutate: func(_ *v1alpha1.VitessShard, f *fakeVitess) {
			f.backups = []vtctld.Backup{{Name: "2026-12-07.120000.zone1-0000000101", Complete: false}}
		}, want: []string{tablets[1].alias()}, event: "InitialBackupTaken", backedUp: "BackupComplete"},
		{name: "initializeBackup false", mutate: func(s *v1alpha1.VitessShard, _ *fakeVitess) {
			s.Spec.Replication = &v1alpha1.VitessReplicationSpec{InitializeBackup: ptr.To(false)}
		}},
		{name: "no location", mutate: func(s *v1alpha1.VitessShard, _ *fakeVitess) { s.Spec.BackupLocations = nil }},
		{name: "the pools use a location vtctld does not read", mutate: func(s *v1alpha1.VitessShard, _ *fakeVitess) {
			s.Spec.BackupLocations = append(s.Spec.BackupLocations, v1alpha1.VitessBackupLocation{Name: "offsite", Volume: &corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
			s.Spec.TabletPools[0].BackupLocationName = "offsite"
		}},
		{name: "an rdonly tablet before a replica", mutate: func(s *v1alpha1.VitessShard, _ *fakeVitess) {
			rdonly := s.Spec.TabletPools[0]
			rdonly.Type, rdonly.Replicas = v1alpha1.TabletPoolTypeRdonly, 1
			s.Spec.TabletPools = append(s.Spec.TabletPools, rdonly)
		}, want: []string{rdonlyAlias}, event: "InitialBackupTaken", backedUp: "BackupComplete"},
		{name: "the backup fails", mutate: func(_ *v1alpha1.VitessShard, f *fakeVitess) { f.backupErr = errors.New("xtrabackup: not found") },
			want: []string{tablets[1].alias()}, event: "InitialBackupFailed", backedUp: "InitialBackupFailed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shard := shard.DeepCopy()
			vitessShard := &fakeVitess{primary: primary}
			if tc.mutate != nil {
				tc.mutate(shard, vitessShard)
			}
			var pods []runtime.Object
			for _, tablet := range shardTablets(shard) {
				pod := tabletPod(shard, tablet)
				if !tc.notReady {
					pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
				}
				pods = append(pods, pod, tabletPVC(shard, tablet))
			}
			c, fakes := controllerAskingVitess(t, keyspace, shard, pods, vitessShard, &topology.View{Address: "vtctld:15999", Cells: map[string]bool{"zone1": true},
				Shards: map[string]vtctld.Shard{"commerce/-": {Name: "-", PrimaryAlias: primary}}})
			key := shard.Namespace + "/" + shard.Name
			for range 2 {
				if err := c.reconcile(t.Context(), key); err != nil {
					t.Fatal(err)
				}
				c.background.Wait()
			}
			// Once each: the second pass finds the backup made, or waits backupRetry after a failure.
			if !slices.Equal(vitessShard.backedUp, tc.want) {
				t.Errorf("backed up %v over two passes, want %v", vitessShard.backedUp, tc.want)
			}
			var events []string
			for len(fakes.Events.Events) > 0 {
				events = append(events, <-fakes.Events.Events)
			}
			if tc.event != "" && !slices.ContainsFunc(events, func(e string) bool { return strings.Contains(e, tc.event) }) {
				t.Errorf("events %v, want a %s", events, tc.event)
			}
			stored, err := fakes.Vitess.VitessV1alpha1().VitessShards(shard.Namespace).Get(t.Context(), shard.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			condition := meta.FindStatusCondition(stored.Status.Conditions, v1alpha1.ConditionBackedUp)
			switch {
			case tc.backedUp == "" && condition != nil:
				t.Errorf("BackedUp = %+v on a shard that makes no first backup", condition)
			case tc.backedUp != "" && (condition == nil || condition.Reason != tc.backedUp ||
				(condition.Status == metav1.ConditionTrue) != (tc.backedUp == "BackupComplete")):
				t.Errorf("BackedUp = %+v, want reason %s", condition, tc.backedUp)
			}
		})
	}
}

// TestPendingAction: a backup or restore recorded in status.pendingAction is claimed (startedAt)
// before Vitess is asked, carried out once (a backup from the tablet it names or else the one a
// first backup would use, with its options), and then cleared, with an Event, and for a backup the
// BackedUp condition and lastBackup, saying how it went. One claimed by a server that stopped
// mid-call is never carried out again: a backup is done if the shard lists one since the claim,
// and anything else failed.
func TestPendingAction(t *testing.T) {
	keyspace, shard := keyspaceShard(t)
	shard.Spec.VitessOrchestrator = nil
	shard.Spec.BackupLocations = []v1alpha1.VitessBackupLocation{{Volume: &corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	// The first backup is left out of this test: the shard has one, older than the requests.
	shard.Spec.Replication = &v1alpha1.VitessReplicationSpec{InitializeBackup: ptr.To(false)}
	tablets := shardTablets(shard)
	primary := tablets[0].alias()
	requestedAt := metav1.NewTime(time.Now().Add(-20 * time.Minute))
	claimedAt := metav1.NewTime(time.Now().Add(-10 * time.Minute))
	older := vtctld.Backup{Name: "older", TabletAlias: tablets[1].alias(), Time: requestedAt.Add(-time.Hour), Complete: true}
	for _, tc := range []struct {
		name    string
		pending v1alpha1.VitessShardPendingAction
		mutate  func(*v1alpha1.VitessShard, *fakeVitess)
		// want is the tablets backed up, options the options of the first; restored the restores.
		want     []string
		options  vtctld.BackupOptions
		restored []string
		event    string
		// backedUp is the BackedUp condition's reason; lastBackup the backup status.lastBackup names.
		backedUp, lastBackup string
	}{
		{name: "the tablet a first backup would use", want: []string{tablets[1].alias()}, event: "BackupTaken", backedUp: "BackupComplete", lastBackup: tablets[1].alias()},
		{name: "a named tablet, incrementally, the primary allowed", pending: v1alpha1.VitessShardPendingAction{Tablet: primary, Incremental: true, AllowPrimary: true},
			want: []string{primary}, options: vtctld.BackupOptions{Incremental: true, AllowPrimary: true}, event: "BackupTaken", backedUp: "BackupComplete", lastBackup: primary},
		{name: "Vitess refuses", mutate: func(_ *v1alpha1.VitessShard, f *fakeVitess) { f.backupErr = errors.New("no space left on device") },
			want: []string{tablets[1].alias()}, event: "BackupFailed", backedUp: "BackupFailed", lastBackup: "older"},
		{name: "no tablet but the primary backs up to vtctld's location", mutate: func(s *v1alpha1.VitessShard, _ *fakeVitess) {
			s.Spec.BackupLocations = append(s.Spec.BackupLocations, v1alpha1.VitessBackupLocation{Name: "offsite", Volume: &corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
			s.Spec.TabletPools[0].BackupLocationName = "offsite"
		}, event: "BackupFailed", backedUp: "BackupFailed", lastBackup: "older"},
		{name: "claimed by a server that stopped: no backup since", pending: v1alpha1.VitessShardPendingAction{StartedAt: &claimedAt},
			event: "BackupFailed", backedUp: "BackupFailed", lastBackup: "older"},
		{name: "claimed by a server that stopped: the backup was taken", pending: v1alpha1.VitessShardPendingAction{StartedAt: &claimedAt},
			mutate: func(_ *v1alpha1.VitessShard, f *fakeVitess) {
				f.backups = append(f.backups, vtctld.Backup{Name: "taken", TabletAlias: tablets[1].alias(), Time: claimedAt.Add(time.Minute), Complete: true})
			}, event: "BackupTaken", backedUp: "BackupComplete", lastBackup: "taken"},
		{name: "a restore to a point in time", pending: v1alpha1.VitessShardPendingAction{Action: vitess.ActionRestore, Tablet: tablets[1].alias(), RestoreToTimestamp: &claimedAt},
			restored: []string{tablets[1].alias() + " to the point in time " + claimedAt.UTC().Format(time.RFC3339)}, event: "Restored", backedUp: "BackupComplete", lastBackup: "older"},
		{name: "a restore claimed by a server that stopped", pending: v1alpha1.VitessShardPendingAction{Action: vitess.ActionRestore, Tablet: tablets[1].alias(), StartedAt: &claimedAt},
			event: "RestoreFailed", backedUp: "BackupComplete", lastBackup: "older"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shard := shard.DeepCopy()
			pending := tc.pending
			if pending.Action == "" {
				pending.Action = vitess.ActionBackup
			}
			pending.ID, pending.RequestedBy, pending.RequestedAt = "request-1", "alice", requestedAt
			shard.Status.PendingAction = &pending
			vitessShard := &fakeVitess{primary: primary, backups: []vtctld.Backup{older}}
			if tc.mutate != nil {
				tc.mutate(shard, vitessShard)
			}
			var pods []runtime.Object
			for _, tablet := range shardTablets(shard) {
				pod := tabletPod(shard, tablet)
				pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
				pods = append(pods, pod, tabletPVC(shard, tablet))
			}
			c, fakes := controllerAskingVitess(t, keyspace, shard, pods, vitessShard, &topology.View{Address: "vtctld:15999", Cells: map[string]bool{"zone1": true},
				Shards: map[string]vtctld.Shard{"commerce/-": {Name: "-", PrimaryAlias: primary}}})
			key := shard.Namespace + "/" + shard.Name
			shards := fakes.Vitess.VitessV1alpha1().VitessShards(shard.Namespace)
			for range 3 {
				if err := c.reconcile(t.Context(), key); err != nil {
					t.Fatal(err)
				}
				c.background.Wait()
				// The passes read the shard from the informer's cache: let it catch up with the writes.
				stored, err := shards.Get(t.Context(), shard.Name, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				waitForShardInCache(t, c, stored)
			}
			// A claim is a startedAt written; later status writes carry it on.
			claims := map[time.Time]bool{}
			for _, action := range fakes.Changes() {
				if update, ok := action.(clienttesting.UpdateAction); ok && action.GetSubresource() == "status" {
					if p := update.GetObject().(*v1alpha1.VitessShard).Status.PendingAction; p != nil && p.StartedAt != nil && !p.StartedAt.Equal(pending.StartedAt) {
						claims[p.StartedAt.Time] = true
					}
				}
			}
			if tc.pending.StartedAt == nil && len(claims) != 1 {
				t.Errorf("the backup was claimed %d times, want once", len(claims))
			}
			if !slices.Equal(vitessShard.backedUp, tc.want) {
				t.Errorf("backed up %v over three passes, want %v", vitessShard.backedUp, tc.want)
			}
			if !slices.Equal(vitessShard.restored, tc.restored) {
				t.Errorf("restored %v, want %v", vitessShard.restored, tc.restored)
			}
			if len(tc.want) > 0 && vitessShard.backupOptions[0] != tc.options {
				t.Errorf("backed up with %+v, want %+v", vitessShard.backupOptions[0], tc.options)
			}
			var events []string
			for len(fakes.Events.Events) > 0 {
				events = append(events, <-fakes.Events.Events)
			}
			if !slices.ContainsFunc(events, func(e string) bool { return strings.Contains(e, tc.event) && strings.Contains(e, "alice") }) {
				t.Errorf("events %v, want a %s naming the requester", events, tc.event)
			}
			stored, err := shards.Get(t.Context(), shard.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if stored.Status.PendingAction != nil {
				t.Errorf("pendingBackup %+v after the backup ended", stored.Status.PendingAction)
			}
			if condition := meta.FindStatusCondition(stored.Status.Conditions, v1alpha1.ConditionBackedUp); condition == nil || condition.Reason != tc.backedUp {
				t.Errorf("BackedUp = %+v, want reason %s", condition, tc.backedUp)
			}
			if last := stored.Status.LastBackup; last == nil || !strings.Contains(last.Name, tc.lastBackup) {
				t.Errorf("lastBackup = %+v, want %s", last, tc.lastBackup)
			}
		})
	}
}

// waitForShardInCache waits until the controller's informer shows the shard's stored status.
func waitForShardInCache(t *testing.T, c *Controller, stored *v1alpha1.VitessShard) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		cached, err := c.Shards.Get(stored.Namespace, stored.Name)
		return err == nil && apiequality.Semantic.DeepEqual(cached.Status, stored.Status), nil
	})
	if err != nil {
		t.Fatalf("the informer did not catch up with the shard's status: %v", err)
	}
}
