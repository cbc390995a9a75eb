package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// TestVitessBackups serves the backups of a real vtctld's file backup storage, laid out by hand as
// Vitess lays it out: kubectl lists, selects, gets and watches them (a backup appears while it is
// being made), deleting one removes its directory (a right vitess-viewer and edit lack, and
// vitess-backup-admin has; 409 when the storage refuses), and without vtctld every request is 503.
func TestVitessBackups(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := vitess.DataDir(t, "vitess", t.Name())
	root := filepath.Join(dir, "backups")
	topo, vtctld, raw := startVitessWithZone1(ctx, t, dir, vitess.WithFileBackupStorage(root))
	for keyspace, shards := range map[string][]string{"commerce": {"-"}, "customer": {"-80", "80-"}} {
		if _, err := raw.CreateKeyspace(ctx, &vtctldatapb.CreateKeyspaceRequest{Name: keyspace, DurabilityPolicy: "none"}); err != nil {
			t.Fatal(err)
		}
		for _, shard := range shards {
			if _, err := raw.CreateShard(ctx, &vtctldatapb.CreateShardRequest{Keyspace: keyspace, ShardName: shard}); err != nil {
				t.Fatal(err)
			}
		}
	}
	monday := writeBackup(t, root, "commerce", "-", time.Date(2026, 12, 7, 1, 30, 0, 0, time.UTC), 101, true)
	customer := writeBackup(t, root, "customer", "-80", time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC), 201, true)

	// The cluster declares no keyspace, so the reconciler leaves the topology to this test, and
	// the shards have no VitessShard: a removal is recorded on the VitessCluster.
	ns := newNamespace(t, "backups")
	mustApply(t, realVitessCluster(ns, topo, vtctld))
	api := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1()
	mondayName := names.Backup("demo", "commerce", "x-x", monday)
	customerName := names.Backup("demo", "customer", "x-80", customer)

	// What `kubectl get` shows. Vitess v24's GetBackups reports neither a backup's engine nor its
	// status (its detailed listing is unimplemented): the engine column is blank, which drops it
	// from the fields, and the phase Unknown; a listed backup counts as complete (a failed one
	// removes itself).
	want := [][]string{
		{"NAME", "CLUSTER", "KEYSPACE", "SHARD", "TABLET", "ENGINE", "PHASE", "COMPLETE", "AGE"},
		{mondayName, "demo", "commerce", "-", "zone1-0000000101", "Unknown", "true"},
		{customerName, "demo", "customer", "-80", "zone1-0000000201", "Unknown", "true"},
	}
	eventually(t, "both backups listed", func() (bool, error) {
		out, err := kubectlOutput(t, "get", "vitessbackups", "-n", ns)
		rows := tableRows(out)
		if err != nil || len(rows) != len(want) || !slices.Equal(rows[0], want[0]) {
			return false, fmt.Errorf("%v:\n%s", err, out)
		}
		for i, row := range rows[1:] {
			// Then the age.
			if len(row) != len(want[i+1])+1 || !slices.Equal(row[:len(want[i+1])], want[i+1]) {
				return false, fmt.Errorf("row %d: %v\n%s", i+1, row, out)
			}
		}
		return true, nil
	})
	if out := kubectl(t, "get", "vtb", customerName, "-n", ns, "-o", "jsonpath={.status.name} {.status.shard} {.metadata.creationTimestamp} {.metadata.labels}"); !strings.HasPrefix(out, customer+" -80 2026-12-07T02:00:00Z ") ||
		!strings.Contains(out, `"planetscale.com/shard":"x-80"`) || !strings.Contains(out, `"planetscale.com/cell":"zone1"`) {
		t.Errorf("kubectl get vtb %s: %s", customerName, out)
	}
	if out := kubectl(t, "get", "vitessbackups", "-n", ns, "-l", "planetscale.com/keyspace=commerce", "-o", "name"); strings.TrimSpace(out) != "vitessbackup.vitess.planetscale.com/"+mondayName {
		t.Errorf("backups of keyspace commerce: %q", out)
	}

	// A backup being made (its directory, not yet its MANIFEST) appears to kubectl get --watch and
	// to a watch from a list's version.
	kubectlWatch := startKubectlGetWatch(t, "vitessbackups", "-n", ns)
	listed, err := api.VitessBackups(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	watcher, err := api.VitessBackups(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: listed.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Stop()
	tuesday := writeBackup(t, root, "commerce", "-", time.Date(2026, 12, 8, 1, 30, 0, 0, time.UTC), 102, false)
	tuesdayName := names.Backup("demo", "commerce", "x-x", tuesday)
	added := waitForEvent(ctx, t, watcher, func(e watch.Event) bool {
		b, ok := e.Object.(*v1alpha1.VitessBackup)
		return ok && e.Type == watch.Added && b.Name == tuesdayName
	}).(*v1alpha1.VitessBackup)
	if added.Status.Name != tuesday || added.Status.TabletAlias != "zone1-0000000102" || added.Status.Keyspace != "commerce" {
		t.Errorf("the backup being made, as watched: %+v", added.Status)
	}
	eventually(t, "kubectl get --watch shows the backup being made", func() (bool, error) {
		return strings.Contains(kubectlWatch.String(), tuesdayName), fmt.Errorf("output so far:\n%s", kubectlWatch.String())
	})

	// Deleting is vitess-backup-admin's right: not vitess-viewer's nor edit's, who read backups.
	mustApply(t, fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: backup-viewer, namespace: %[1]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: vitess-viewer}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: vera}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: backup-editor, namespace: %[1]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: edgar}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: backup-admin, namespace: %[1]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: vitess-backup-admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: bram}]
`, ns))
	mondayDir := filepath.Join(root, "commerce", "-", monday)
	for _, user := range []string{"vera", "edgar"} {
		as := vitessClient(t, controlPlane.ImpersonatedConfig(user)).VitessV1alpha1().VitessBackups(ns)
		eventually(t, user+" reads backups", func() (bool, error) {
			_, err := as.Get(ctx, mondayName, metav1.GetOptions{})
			return err == nil, err
		})
		if err := as.Delete(ctx, mondayName, metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("%s deletes a backup: %v, want 403", user, err)
		}
	}
	bram := vitessClient(t, controlPlane.ImpersonatedConfig("bram")).VitessV1alpha1().VitessBackups(ns)
	eventually(t, "bram reads backups", func() (bool, error) {
		_, err := bram.Get(ctx, mondayName, metav1.GetOptions{})
		return err == nil, err
	})
	if err := bram.Delete(ctx, mondayName, metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatalf("dry-run delete: %v", err)
	}
	if _, err := os.Stat(mondayDir); err != nil {
		t.Fatalf("a dry run removed the backup: %v", err)
	}
	// vtctld runs as another user, who cannot write the directories this test made: the removal
	// fails in the backup storage, which is a 409 with Vitess' reason, and removes nothing.
	if err := bram.Delete(ctx, mondayName, metav1.DeleteOptions{}); !apierrors.IsConflict(err) || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("a removal the backup storage refuses: %v, want 409 with its reason", err)
	}
	for _, writable := range []string{filepath.Dir(mondayDir), mondayDir} {
		if err := os.Chmod(writable, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	if err := bram.Delete(ctx, mondayName, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("bram deletes a backup: %v", err)
	}
	if _, err := os.Stat(mondayDir); !os.IsNotExist(err) {
		t.Errorf("the deleted backup's directory: %v, want it gone", err)
	}
	// Gone at once from a list, not a poll interval later.
	if out := kubectl(t, "get", "vitessbackups", "-n", ns, "-o", "name"); strings.Contains(out, mondayName) || !strings.Contains(out, tuesdayName) {
		t.Errorf("backups after the removal: %s", out)
	}
	waitForEvent(ctx, t, watcher, func(e watch.Event) bool {
		b, ok := e.Object.(*v1alpha1.VitessBackup)
		return ok && e.Type == watch.Deleted && b.Name == mondayName
	})
	if err := bram.Delete(ctx, mondayName, metav1.DeleteOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("deleting a removed backup: %v, want 404", err)
	}
	eventually(t, "an Event BackupRemoved names bram", func() (bool, error) {
		events, err := kubeClient(t).EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		var seen []string
		for _, e := range events.Items {
			if e.Reason == "BackupRemoved" && e.Regarding.Kind == "VitessCluster" && e.Regarding.Name == "demo" &&
				strings.Contains(e.Note, "bram removed backup "+monday) {
				return true, nil
			}
			seen = append(seen, e.Reason+": "+e.Note)
		}
		return false, fmt.Errorf("events: %v", seen)
	})

	// Without vtctld nothing can be said of the backups, nor any removed.
	vtctld.Stop()
	eventually(t, "list without vtctld is 503", func() (bool, error) {
		_, err := api.VitessBackups(ns).List(ctx, metav1.ListOptions{})
		return apierrors.IsServiceUnavailable(err), err
	})
	if err := bram.Delete(ctx, tuesdayName, metav1.DeleteOptions{}); !apierrors.IsServiceUnavailable(err) {
		t.Errorf("delete without vtctld: %v, want 503", err)
	}
	failure := waitForEvent(ctx, t, watcher, func(e watch.Event) bool { return e.Type == watch.Error })
	if status, ok := failure.(*metav1.Status); !ok || status.Code != 503 {
		t.Errorf("watch error %+v, want a 503 status", failure)
	}
}

// writeBackup lays a backup of the shard, taken at the time by tablet zone1-<uid>, out in the
// file backup storage under root as Vitess does: <root>/<keyspace>/<shard>/<name>/, with the
// MANIFEST (mysqlctl.BackupManifest) that finishes it if complete. It returns the backup's name.
func writeBackup(t *testing.T, root, keyspace, shard string, at time.Time, uid uint32, complete bool) string {
	t.Helper()
	alias := fmt.Sprintf("zone1-%010d", uid)
	name := at.Format("2006-01-02.150405") + "." + alias
	dir := filepath.Join(root, keyspace, shard, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if !complete {
		return name
	}
	manifest, err := json.Marshal(map[string]any{
		"BackupName":   name,
		"BackupMethod": "builtin",
		"Position":     "MySQL56/16b1039f-22b6-11ed-b765-0a43f95f28a3:1-615",
		"BackupTime":   at.Format(time.RFC3339),
		"FinishedTime": at.Add(time.Minute).Format(time.RFC3339),
		"TabletAlias":  alias,
		"Keyspace":     keyspace,
		"Shard":        shard,
		"Incremental":  false,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "MANIFEST"), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}
