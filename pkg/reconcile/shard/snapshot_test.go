package shard

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// A snapshot keyspace's shard starts no tablet until the topology has its keyspace as a snapshot
// (a tablet would create it as a normal keyspace, and restore nothing); its tablets restore with
// --wait-for-backup-interval (never start empty) and the base's database; no primary is elected
// and no first backup is made.
func TestSnapshotShard(t *testing.T) {
	keyspace, shard := keyspaceShard(t)
	shard.Name, shard.Spec.KeyspaceName, shard.Spec.DatabaseName = "example-snapshot-x-x-0123", "snapshot", "vt_commerce"
	shard.Spec.VitessOrchestrator = nil
	shard.Spec.BackupLocations = []v1alpha1.VitessBackupLocation{{Volume: &corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	shard.Spec.KeyspaceSnapshot = &v1alpha1.VitessKeyspaceSnapshot{BaseKeyspace: "commerce", Time: metav1.NewTime(time.Date(2026, 12, 8, 4, 0, 0, 0, time.UTC))}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	key := shard.Namespace + "/" + shard.Name
	vitess := &fakeVitess{}
	for _, tablet := range shardTablets(shard) {
		vitess.registered = append(vitess.registered, vtctld.Tablet{Alias: tablet.alias(), Type: "REPLICA"})
	}
	normal := &topology.View{Cells: map[string]bool{"zone1": true}, Snapshots: map[string]bool{}, Shards: map[string]vtctld.Shard{}, NextReading: time.Now().Add(time.Hour)}
	var claims []runtime.Object
	for _, tablet := range shardTablets(shard) {
		claims = append(claims, tabletPVC(shard, tablet))
	}
	c, fakes := controllerAskingVitess(t, keyspace, shard, claims, vitess, normal)
	_ = c.reconcile(ctx, key)
	for _, action := range fakes.Changes() {
		if action.GetVerb() == "create" && action.GetResource().Resource == "pods" {
			t.Fatalf("a tablet Pod was created before the keyspace was a snapshot in the topology")
		}
	}
	stored, err := fakes.Vitess.VitessV1alpha1().VitessShards("example").Get(ctx, shard.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if progressing := meta.FindStatusCondition(stored.Status.Conditions, v1alpha1.ConditionProgressing); progressing == nil ||
		!strings.Contains(progressing.Message, "once keyspace snapshot is in the topology as a snapshot of commerce") {
		t.Errorf("Progressing %+v", progressing)
	}

	// Once it is, the tablets start, every one running and registered, and still none is elected.
	fakes.Core.ClearActions()
	c.topology.SetView("example/example", &topology.View{Cells: map[string]bool{"zone1": true}, Snapshots: map[string]bool{"snapshot": true},
		Shards: map[string]vtctld.Shard{"snapshot/-": {}}, NextReading: time.Now().Add(time.Hour)})
	_ = c.reconcile(ctx, key)
	var pods []*corev1.Pod
	for _, action := range fakes.Changes() {
		if action.GetVerb() == "create" && action.GetResource().Resource == "pods" {
			pods = append(pods, action.(interface{ GetObject() runtime.Object }).GetObject().(*corev1.Pod))
		}
	}
	if len(pods) != 3 {
		t.Fatalf("%d tablet Pods created, want 3", len(pods))
	}
	args := pods[0].Spec.Containers[slices.IndexFunc(pods[0].Spec.Containers, func(c corev1.Container) bool { return c.Name == "vttablet" })].Args
	for _, want := range []string{"--restore-from-backup=true", "--wait-for-backup-interval=30s", "--init-db-name-override=vt_commerce", "--init-keyspace=snapshot"} {
		if !slices.Contains(args, want) {
			t.Errorf("vttablet args lack %s: %v", want, args)
		}
	}
	if initializesBackup(shard) {
		t.Errorf("a snapshot shard would get a first backup")
	}
	pass := &shardPass{Controller: c, shard: shard, desired: 3, running: 3}
	pass.electPrimary(ctx)
	c.background.Wait()
	if len(vitess.candidates) > 0 {
		t.Errorf("a primary was elected in a snapshot shard among %v", vitess.candidates)
	}
}
