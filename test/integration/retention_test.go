package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/test/scenario"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// TestBackupRetention: a cluster with spec.backup.retention (minRetentionTime 24h,
// minRetentionCount 2) has its shard's backups in a real vtctld's file backup storage, laid out
// by hand with different ages, pruned by the shard controller through vtctld's RemoveBackup, oldest
// first, named in a BackupPruned Event on the VitessShard. Kept: the backup being made (the newest,
// which Vitess v24 lists with no status and so does not count), the two newest before it (one
// older than a day, kept by the count), and the one whose removal the storage refuses, a
// BackupPruneFailed Warning with Vitess' reason.
func TestBackupRetention(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := vitess.DataDir(t, "vitess", t.Name())
	root := filepath.Join(dir, "backups")
	topo, vtctld, raw := startVitessWithZone1(ctx, t, dir, vitess.WithFileBackupStorage(root))
	if _, err := raw.CreateKeyspace(ctx, &vtctldatapb.CreateKeyspaceRequest{Name: "commerce", DurabilityPolicy: "none"}); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.CreateShard(ctx, &vtctldatapb.CreateShardRequest{Keyspace: "commerce", ShardName: "-"}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	backup := func(age time.Duration, uid uint32, complete bool) string {
		return writeBackup(t, root, "commerce", "-", now.Add(-age), uid, complete)
	}
	oldest := backup(72*time.Hour, 101, true)
	abandoned := backup(48*time.Hour, 102, false)
	refused := backup(30*time.Hour, 101, true)
	keptByCount := backup(26*time.Hour, 102, true)
	newest := backup(time.Hour, 101, true)
	beingMade := backup(10*time.Minute, 102, false)
	// vtctld runs as another user: it may remove every backup but the refused one.
	shardDir := filepath.Join(root, "commerce", "-")
	for _, writable := range []string{shardDir, filepath.Join(shardDir, oldest), filepath.Join(shardDir, abandoned)} {
		if err := os.Chmod(writable, 0o777); err != nil {
			t.Fatal(err)
		}
	}

	ns := newNamespace(t, "retention")
	mustApply(t, realVitessCluster(ns, topo, vtctld, scenario.Keyspace("commerce", "[{cell: zone1, type: replica, replicas: 1}]", 1))+`  backup:
    locations: [{volume: {emptyDir: {}}}]
    retention: {minRetentionTime: 24h, minRetentionCount: 2}
`)
	api := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1()
	shardName := names.Shard("demo", "commerce", "x-x")
	eventually(t, "the shard carries the cluster's retention", func() (bool, error) {
		shard, err := api.VitessShards(ns).Get(ctx, shardName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		r := shard.Spec.BackupRetention
		return r != nil && r.MinRetentionTime.Duration == 24*time.Hour && r.MinRetentionCount == 2, fmt.Errorf("backupRetention %+v", r)
	})

	var notes []string
	eventually(t, "a BackupPruned Event for the oldest two, and a BackupPruneFailed Warning for the third", func() (bool, error) {
		events, err := kubeClient(t).EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		notes = nil
		for _, e := range events.Items {
			if e.Regarding.Kind == "VitessShard" && e.Regarding.Name == shardName && strings.HasPrefix(e.Reason, "BackupPrune") {
				notes = append(notes, e.Type+" "+e.Reason+": "+e.Note)
			}
		}
		return len(notes) >= 2, fmt.Errorf("events: %v", notes)
	})
	taken := func(age time.Duration) string { return now.Add(-age).Format(time.RFC3339) }
	for _, want := range []string{
		fmt.Sprintf("Normal BackupPruned: pruned backup %s (taken %s), backup %s (taken %s): older than the retention's minRetentionTime 24h0m0s, "+
			"with at least minRetentionCount 2 newer complete backups kept", oldest, taken(72*time.Hour), abandoned, taken(48*time.Hour)),
		"Warning BackupPruneFailed: pruning backup " + refused + " failed, tried again when the backups are next read: unlinkat " +
			filepath.Join(shardDir, refused, "MANIFEST") + ": permission denied",
	} {
		if !slices.Contains(notes, want) {
			t.Errorf("events %v, want %q", notes, want)
		}
	}

	// What is left, in the storage and as vtctld lists it through the API.
	entries, err := os.ReadDir(shardDir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if want := []string{refused, keptByCount, newest, beingMade}; !slices.Equal(left, want) {
		t.Errorf("backups left in the storage %v, want %v", left, want)
	}
	eventually(t, "the VitessBackups are the ones kept", func() (bool, error) {
		list, err := api.VitessBackups(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		var listed []string
		for _, b := range list.Items {
			listed = append(listed, b.Status.Name)
		}
		slices.Sort(listed)
		return slices.Equal(listed, left), fmt.Errorf("listed %v", listed)
	})
	// The newest listed backup, the one being made, is what lastBackup names: Vitess v24 does not
	// tell it from a complete one.
	eventually(t, "lastBackup names a kept backup", func() (bool, error) {
		shard, err := api.VitessShards(ns).Get(ctx, shardName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		last := shard.Status.LastBackup
		return last != nil && slices.Contains(left, last.Name), fmt.Errorf("lastBackup %+v", last)
	})
}
