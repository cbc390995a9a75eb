package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

// TestBackupActions asks for backups through vitessshards/backup and vitesskeyspaces/backup, and
// restores through vitessshards/restore: refused with 409 while the shard has no backup location
// or an action is pending (a keyspace's request then records none), 422 for a keyspace's backup
// that names a tablet and a restore that names none or two targets, 503 for a restore while no
// vtctld answers (Vitess checks it in a dry run first); a dry run records nothing; a request is recorded in the shard's status.pendingAction with the requester and an
// Event; edit may ask for a backup, view may not. On kwok no vtctld answers, so the backups stay
// pending: taking them is the real node's (TestExampleCluster) and the unit tests'.
func TestBackupActions(t *testing.T) {
	ctx := testContext(t)
	ns := newNamespace(t, "backups")
	manifest := strings.Replace(clusterManifest(ns, "demo"), "        parts: 1", "        parts: 2", 1)
	mustApply(t, manifest)
	mustApply(t, fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: editor, namespace: %[1]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: backup-editor}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: viewer, namespace: %[1]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: backup-viewer}]
`, ns))
	admin := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1()
	var shards []v1alpha1.VitessShard
	var keyspace string
	eventually(t, "the cluster's two shards exist", func() (bool, error) {
		list, err := admin.VitessShards(ns).List(ctx, metav1.ListOptions{})
		if err != nil || len(list.Items) != 2 {
			return false, err
		}
		shards = list.Items
		keyspace = metav1.GetControllerOf(&shards[0]).Name
		return true, nil
	})
	shard := shards[0].Name
	request := &v1alpha1.VitessBackupRequest{}
	expect := func(what string, err error, check func(error) bool, words string) {
		t.Helper()
		if !check(err) || !strings.Contains(fmt.Sprint(err), words) {
			t.Errorf("%s: %v, want an error saying %q", what, err, words)
		}
	}

	_, err := admin.VitessShards(ns).Backup(ctx, shard, request, metav1.CreateOptions{})
	expect("a shard without a backup location", err, apierrors.IsConflict, "no backup location")

	if _, err := admin.VitessClusters(ns).Patch(ctx, "demo", types.MergePatchType,
		[]byte(`{"spec":{"backup":{"engine":"builtin","locations":[{"volume":{"emptyDir":{}}}]}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the shards get the cluster's backup location", func() (bool, error) {
		for _, s := range shards {
			got, err := admin.VitessShards(ns).Get(ctx, s.Name, metav1.GetOptions{})
			if err != nil || len(got.Spec.BackupLocations) == 0 {
				return false, err
			}
		}
		return true, nil
	})

	_, err = admin.VitessKeyspaces(ns).Backup(ctx, keyspace, &v1alpha1.VitessBackupRequest{Tablet: "zone1-0000000101"}, metav1.CreateOptions{})
	expect("a keyspace's backup naming a tablet", err, apierrors.IsInvalid, "tablet")
	_, err = admin.VitessShards(ns).Backup(ctx, shard, &v1alpha1.VitessBackupRequest{ObjectMeta: metav1.ObjectMeta{Name: "other"}}, metav1.CreateOptions{})
	expect("URL and body disagree", err, apierrors.IsBadRequest, "other")
	viewer := vitessClient(t, controlPlane.ImpersonatedConfig("backup-viewer")).VitessV1alpha1()
	_, err = viewer.VitessShards(ns).Backup(ctx, shard, request, metav1.CreateOptions{})
	expect("view asks for a shard's backup", err, apierrors.IsForbidden, "vitessshards/backup")
	_, err = viewer.VitessKeyspaces(ns).Backup(ctx, keyspace, request, metav1.CreateOptions{})
	expect("view asks for a keyspace's backup", err, apierrors.IsForbidden, "vitesskeyspaces/backup")

	editor := vitessClient(t, controlPlane.ImpersonatedConfig("backup-editor")).VitessV1alpha1()
	_, err = editor.VitessShards(ns).Restore(ctx, shard, &v1alpha1.VitessRestoreRequest{}, metav1.CreateOptions{})
	expect("a restore naming no tablet", err, apierrors.IsInvalid, "tablet")
	_, err = editor.VitessShards(ns).Restore(ctx, shard, &v1alpha1.VitessRestoreRequest{Tablet: "zone1-0000000101", RestoreToPosition: "MySQL56/x:1-2",
		RestoreToTimestamp: &metav1.Time{Time: time.Now()}}, metav1.CreateOptions{})
	expect("a restore to a time and a position", err, apierrors.IsInvalid, "restoreToTimestamp")
	_, err = editor.VitessShards(ns).Restore(ctx, shard, &v1alpha1.VitessRestoreRequest{Tablet: "zone1-0000000101"}, metav1.CreateOptions{})
	expect("a restore while no vtctld answers", err, apierrors.IsServiceUnavailable, "")
	_, err = viewer.VitessShards(ns).Restore(ctx, shard, &v1alpha1.VitessRestoreRequest{Tablet: "zone1-0000000101"}, metav1.CreateOptions{})
	expect("view asks for a restore", err, apierrors.IsForbidden, "vitessshards/restore")
	if _, err := editor.VitessShards(ns).Backup(ctx, shard, request, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if got, err := admin.VitessShards(ns).Get(ctx, shard, metav1.GetOptions{}); err != nil || got.Status.PendingAction != nil {
		t.Fatalf("after a dry run: pendingAction %+v, %v", got.Status.PendingAction, err)
	}

	// As the README shows it, with kubectl.
	path := fmt.Sprintf("/apis/vitess.planetscale.com/v1alpha1/namespaces/%s/vitessshards/%s/backup", ns, shard)
	out, err := kubectlWithInput(t, `{"apiVersion":"vitess.planetscale.com/v1alpha1","kind":"VitessBackupRequest","incremental":true}`,
		"create", "--raw", path, "-f", "-", "--as", "backup-editor")
	if err != nil || !strings.Contains(out, `"kind":"VitessShard"`) || !strings.Contains(out, `"pendingAction"`) {
		t.Fatalf("kubectl create --raw backup: %v\n%s", err, out)
	}
	got, err := admin.VitessShards(ns).Get(ctx, shard, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Status.PendingAction; p == nil || p.RequestedBy != "backup-editor" || !p.Incremental || p.ID == "" {
		t.Fatalf("pendingAction %+v", p)
	}
	eventually(t, "an Event on the shard records the request", func() (bool, error) {
		out, err := controlPlaneKubectlErr(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name="+shard, "-o", "jsonpath={.items[*].message}")
		return strings.Contains(out, "backup-editor requested an incremental backup"), err
	})

	_, err = editor.VitessShards(ns).Backup(ctx, shard, request, metav1.CreateOptions{})
	expect("a second backup while one is pending", err, apierrors.IsConflict, "still being carried out")
	_, err = editor.VitessKeyspaces(ns).Backup(ctx, keyspace, request, metav1.CreateOptions{})
	expect("a keyspace's backup while a shard's is pending", err, apierrors.IsConflict, "still being carried out")
	if other, err := admin.VitessShards(ns).Get(ctx, shards[1].Name, metav1.GetOptions{}); err != nil || other.Status.PendingAction != nil {
		t.Errorf("the refused keyspace backup recorded one in the other shard: %+v, %v", other.Status.PendingAction, err)
	}
}
