package shard

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// backupAged is a backup taken age before now that Vitess reports complete, named as Vitess names it.
func backupAged(now time.Time, age time.Duration) vtctld.Backup {
	at := now.Add(-age).UTC().Truncate(time.Second)
	return vtctld.Backup{Name: at.Format("2006-01-02.150405") + ".zone1-0000000101", TabletAlias: "zone1-0000000101", Time: at,
		Status: "COMPLETE", Complete: true}
}

func incomplete(b vtctld.Backup) vtctld.Backup {
	b.Status, b.Complete = "INCOMPLETE", false
	return b
}

// unknown is the backup as Vitess v24 lists it: with no status, counted as complete.
func unknown(b vtctld.Backup) vtctld.Backup {
	b.Status = "UNKNOWN"
	return b
}

func TestBackupsToPrune(t *testing.T) {
	now := time.Date(2026, 12, 8, 4, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	aged := func(days ...float64) []vtctld.Backup {
		var backups []vtctld.Backup
		for _, d := range days {
			backups = append(backups, backupAged(now, time.Duration(d*float64(day))))
		}
		return backups
	}
	retention := func(minTime time.Duration, minCount int32) v1alpha1.VitessBackupRetention {
		return v1alpha1.VitessBackupRetention{MinRetentionTime: &metav1.Duration{Duration: minTime}, MinRetentionCount: minCount}
	}
	fiveDays := aged(5, 4, 3, 2, 1)
	unnamed := backupAged(now, 0)
	unnamed.Name, unnamed.Time = "undated", time.Time{}
	sameTime := aged(3, 3)
	sameTime[0].Name, sameTime[1].Name = "listed-first", "listed-last"
	for _, tc := range []struct {
		name      string
		backups   []vtctld.Backup
		retention v1alpha1.VitessBackupRetention
		want      []vtctld.Backup // oldest first
	}{
		{name: "none", retention: retention(time.Hour, 1)},
		{name: "the count keeps the newest, however old", backups: fiveDays, retention: retention(time.Hour, 3), want: fiveDays[:2]},
		{name: "the time keeps the young", backups: fiveDays, retention: retention(60*time.Hour, 1), want: fiveDays[:3]},
		{name: "both: the count keeps more than the time", backups: fiveDays, retention: retention(36*time.Hour, 4), want: fiveDays[:1]},
		{name: "both: the time keeps more than the count", backups: fiveDays, retention: retention(84*time.Hour, 2), want: fiveDays[:2]},
		{name: "all young", backups: fiveDays, retention: retention(6*day, 1)},
		{name: "exactly minRetentionTime old", backups: aged(2, 1), retention: retention(2*day, 1), want: aged(2)},
		{name: "unsorted input, pruned oldest first", backups: []vtctld.Backup{fiveDays[3], fiveDays[0], fiveDays[4], fiveDays[2], fiveDays[1]},
			retention: retention(60*time.Hour, 1), want: fiveDays[:3]},
		{name: "an old incomplete newest backup may be in progress", backups: []vtctld.Backup{fiveDays[0], fiveDays[1], incomplete(fiveDays[2])},
			retention: retention(time.Hour, 1), want: fiveDays[:1]},
		{name: "incomplete backups do not count as kept ones", backups: []vtctld.Backup{fiveDays[0], incomplete(fiveDays[1]), incomplete(fiveDays[2])},
			retention: retention(time.Hour, 1)},
		{name: "an abandoned incomplete backup is pruned", backups: []vtctld.Backup{fiveDays[0], incomplete(fiveDays[1]), fiveDays[2], fiveDays[3]},
			retention: retention(time.Hour, 2), want: []vtctld.Backup{fiveDays[0], incomplete(fiveDays[1])}},
		{name: "v24: the newest, with no status, may be in progress and does not count", backups: []vtctld.Backup{unknown(fiveDays[2]), unknown(fiveDays[3]), unknown(fiveDays[4])},
			retention: retention(time.Hour, 1), want: []vtctld.Backup{unknown(fiveDays[2])}},
		{name: "v24: older backups with no status count", backups: []vtctld.Backup{unknown(fiveDays[2]), unknown(fiveDays[3]), unknown(fiveDays[4])},
			retention: retention(time.Hour, 2)},
		{name: "a backup without a time is kept", backups: []vtctld.Backup{unnamed, fiveDays[3], fiveDays[4]}, retention: retention(time.Hour, 1), want: fiveDays[3:4]},
		{name: "of two at the same time the last listed is the newest", backups: sameTime, retention: retention(time.Hour, 1), want: sameTime[:1]},
		{name: "no time prunes nothing", backups: fiveDays, retention: v1alpha1.VitessBackupRetention{MinRetentionCount: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			listed := slices.Clone(tc.backups)
			got := backupsToPrune(tc.backups, now, tc.retention)
			if !slices.Equal(got, tc.want) {
				t.Errorf("pruned %v, want %v", backupNames(got), backupNames(tc.want))
			}
			if !slices.Equal(tc.backups, listed) {
				t.Errorf("the listing was reordered: %v", backupNames(tc.backups))
			}
		})
	}
}

func backupNames(backups []vtctld.Backup) []string {
	var n []string
	for _, b := range backups {
		n = append(n, b.Name)
	}
	return n
}

// TestBackupRetention: a shard's backups, once read, are pruned as its retention says, oldest
// first, with one BackupPruned Event naming them and the retention; a removal Vitess refuses is a
// BackupPruneFailed Warning that stops the pruning until the next read. Nothing is pruned while a
// restore is asked for, whether it is there when the backups are read or arrives mid-pruning.
func TestBackupRetention(t *testing.T) {
	keyspace, shard := keyspaceShard(t)
	shard.Spec.VitessOrchestrator = nil
	shard.Spec.BackupLocations = []v1alpha1.VitessBackupLocation{{Volume: &corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	shard.Spec.Replication = &v1alpha1.VitessReplicationSpec{InitializeBackup: ptr.To(false)}
	shard.Spec.BackupRetention = &v1alpha1.VitessBackupRetention{MinRetentionTime: &metav1.Duration{Duration: 24 * time.Hour}, MinRetentionCount: 2}
	tablets := shardTablets(shard)
	primary := tablets[0].alias()
	now := time.Now()
	// Kept: the two newest complete ones (the count), and the young one.
	backups := []vtctld.Backup{
		backupAged(now, 72*time.Hour), backupAged(now, 48*time.Hour), incomplete(backupAged(now, 47*time.Hour)),
		backupAged(now, 25*time.Hour), backupAged(now, 24*time.Hour+time.Minute), backupAged(now, time.Hour),
	}
	restore := &v1alpha1.VitessShardPendingAction{ID: "restore-1", Action: vitess.ActionRestore, Tablet: tablets[1].alias(), RequestedBy: "alice", RequestedAt: metav1.Now()}
	for _, tc := range []struct {
		name   string
		mutate func(*v1alpha1.VitessShard, *fakeVitess)
		// restoreDone: the pending restore's outcome is recorded, and the pass that clears it is
		// the one that reads the backups.
		restoreDone bool
		// restoreAfterFirstRemoval asks for a restore once the first backup is removed.
		restoreAfterFirstRemoval bool
		removed                  []string
		// failed is the backup whose removal fails.
		failed string
	}{
		{name: "pruned as the retention says", removed: backupNames(backups[:4])},
		{name: "no retention", mutate: func(s *v1alpha1.VitessShard, _ *fakeVitess) { s.Spec.BackupRetention = nil }},
		{name: "a removal fails", mutate: func(_ *v1alpha1.VitessShard, f *fakeVitess) {
			f.removeErr = map[string]error{backups[1].Name: status.Error(codes.Unknown, "permission denied")}
		}, removed: backupNames(backups[:1]), failed: backups[1].Name},
		{name: "a restore is pending", mutate: func(s *v1alpha1.VitessShard, _ *fakeVitess) { s.Status.PendingAction = restore.DeepCopy() }, restoreDone: true},
		{name: "a restore is asked for mid-pruning", restoreAfterFirstRemoval: true, removed: backupNames(backups[:1])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shard := shard.DeepCopy()
			vitessShard := &fakeVitess{primary: primary, backups: slices.Clone(backups)}
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
			shards := fakes.Vitess.VitessV1alpha1().VitessShards(shard.Namespace)
			if tc.restoreDone {
				// Carrying out a restore takes the shard's backup work, which would leave the
				// backups unread: that it is done leaves only the pending restore in the way.
				c.updateBackupState(shard.UID, func(state *backupState) { state.finished = map[string]bool{restore.ID: true} })
			}
			if tc.restoreAfterFirstRemoval {
				vitessShard.afterRemove = func() {
					vitessShard.afterRemove = nil
					// Asked for again until the informer shows it: the pass's own status update,
					// concurrent with this background work, may write over it.
					err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
						if cached, err := c.Shards.Get(shard.Namespace, shard.Name); err == nil && cached.Status.PendingAction != nil {
							return true, nil
						}
						stored, err := shards.Get(ctx, shard.Name, metav1.GetOptions{})
						if err == nil && stored.Status.PendingAction == nil {
							stored.Status.PendingAction = restore.DeepCopy()
							_, err = shards.UpdateStatus(ctx, stored, metav1.UpdateOptions{})
						}
						if apierrors.IsConflict(err) {
							err = nil
						}
						return false, err
					})
					if err != nil {
						t.Errorf("the informer did not show the restore asked for: %v", err)
					}
				}
			}
			// The second pass reports what the first one's background work read.
			for range 2 {
				if err := c.reconcile(t.Context(), shard.Namespace+"/"+shard.Name); err != nil {
					t.Fatal(err)
				}
				c.background.Wait()
				stored, err := shards.Get(t.Context(), shard.Name, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				waitForShardInCache(t, c, stored)
			}

			if !slices.Equal(vitessShard.removed, tc.removed) {
				t.Errorf("removed %v, want %v", vitessShard.removed, tc.removed)
			}
			var events []string
			for len(fakes.Events.Events) > 0 {
				events = append(events, <-fakes.Events.Events)
			}
			var pruned []string
			for _, e := range events {
				if strings.Contains(e, "BackupPruned") {
					pruned = append(pruned, e)
				}
			}
			switch {
			case len(tc.removed) == 0 && len(pruned) > 0:
				t.Errorf("BackupPruned Events %v, want none", pruned)
			case len(tc.removed) > 0 && len(pruned) != 1:
				t.Errorf("BackupPruned Events %v, want one naming %v", pruned, tc.removed)
			case len(tc.removed) > 0:
				var named []string
				for _, name := range tc.removed {
					taken := backups[slices.IndexFunc(backups, func(b vtctld.Backup) bool { return b.Name == name })].Time
					named = append(named, "backup "+name+" (taken "+taken.Format(time.RFC3339)+")")
				}
				want := "Normal BackupPruned pruned " + strings.Join(named, ", ") +
					": older than the retention's minRetentionTime 24h0m0s, with at least minRetentionCount 2 newer complete backups kept"
				if pruned[0] != want {
					t.Errorf("Event %q, want %q", pruned[0], want)
				}
			}
			failedEvent := slices.ContainsFunc(events, func(e string) bool {
				return strings.HasPrefix(e, corev1.EventTypeWarning+" BackupPruneFailed") && strings.Contains(e, tc.failed) && strings.HasSuffix(e, ": permission denied")
			})
			if (tc.failed != "") != failedEvent {
				t.Errorf("events %v, want a BackupPruneFailed Warning with Vitess' reason: %t", events, tc.failed != "")
			}
			stored, err := shards.Get(t.Context(), shard.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if last := stored.Status.LastBackup; tc.mutate == nil && !tc.restoreAfterFirstRemoval && (last == nil || last.Name != backups[len(backups)-1].Name) {
				t.Errorf("lastBackup = %+v, want the newest, %s", last, backups[len(backups)-1].Name)
			}
		})
	}
}
