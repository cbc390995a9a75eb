package integration

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	vitessapi "github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/test/scenario"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// TestTabletRollout: a deleted tablet Pod comes back on its PVC; under updateStrategy External a
// larger claim template grows the PVCs only once allowResourceChanges lists storage, and a
// changed image only marks the tablets as scheduled, each replaced once released, and only once
// Vitess says which tablet is the primary: not while vtctld is down (it used to go by the status).
func TestTabletRollout(t *testing.T) {
	ctx := testContext(t)
	ns := newNamespace(t, "rollout")
	// A real topology and vtctld: with no tablets running (kwok runs none), it says the shard
	// has no primary.
	topo, vtctld := vitess.StartForTest(ctx, t, vitess.DataDir(t, "vitess", t.Name()))
	manifest := func(storage, external string) string {
		pools := "[{cell: zone1, type: replica, replicas: 2, dataVolumeClaimTemplate: {accessModes: [ReadWriteOnce], resources: {requests: {storage: " + storage + "}}}}]"
		m := realVitessCluster(ns, topo, vtctld, scenario.Keyspace("commerce", pools, 1))
		return strings.Replace(m, "spec:\n", "spec:\n  updateStrategy: {type: External"+external+"}\n", 1)
	}
	mustApply(t, manifest("1Gi", ""))
	api := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1()
	core := kubeClient(t)
	shardName := names.Shard("demo", "commerce", "x-x")
	var pods []string
	for index := uint32(1); index <= 2; index++ {
		pods = append(pods, names.TabletPodName("demo", "zone1", names.TabletUID("zone1", "commerce", "-", "replica", index)))
	}
	tabletsReady := func(what string) {
		t.Helper()
		eventually(t, what, func() (bool, error) {
			shard, err := api.VitessShards(ns).Get(ctx, shardName, metav1.GetOptions{})
			return err == nil && shard.Status.Tablets.Ready == 2 && meta.IsStatusConditionTrue(shard.Status.Conditions, "Ready"), err
		})
	}
	tabletsReady("tablets ready")

	first, err := core.CoreV1().Pods(ns).Get(ctx, pods[0], metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data := slices.IndexFunc(first.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == "vtdataroot" })
	if data < 0 || first.Spec.Volumes[data].PersistentVolumeClaim == nil || first.Spec.Volumes[data].PersistentVolumeClaim.ClaimName != pods[0] {
		t.Errorf("tablet volumes: %+v", first.Spec.Volumes)
	}
	if err := core.CoreV1().Pods(ns).Delete(ctx, pods[0], metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deleted tablet Pod recreated", func() (bool, error) {
		pod, err := core.CoreV1().Pods(ns).Get(ctx, pods[0], metav1.GetOptions{})
		return err == nil && pod.UID != first.UID && podIsReady(pod), nil
	})
	tabletsReady("tablets ready again")

	// A larger claim waits for the outside tool too, unless storage changes are allowed.
	mustApply(t, manifest("2Gi", ""))
	eventually(t, "the shard saw the larger claim template", func() (bool, error) {
		shard, err := api.VitessShards(ns).Get(ctx, shardName, metav1.GetOptions{})
		return err == nil && shard.Status.ObservedGeneration == shard.Generation && shard.Generation > 1, err
	})
	storageOf := func(name string) string {
		pvc, err := core.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		request := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
		return request.String()
	}
	if got := storageOf(pods[0]); got != "1Gi" {
		t.Errorf("PVC %s requests %s under External without allowResourceChanges, want 1Gi", pods[0], got)
	}
	mustApply(t, manifest("2Gi", ", external: {allowResourceChanges: [storage]}"))
	eventually(t, "both PVCs grown to 2Gi", func() (bool, error) {
		return storageOf(pods[0]) == "2Gi" && storageOf(pods[1]) == "2Gi", nil
	})

	if _, err := api.VitessClusters(ns).Patch(ctx, "demo", types.MergePatchType, []byte(`{"spec":{"images":{"vttablet":"vitess/lite:v24.0.1"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both tablets scheduled for replacement, none replaced", func() (bool, error) {
		for _, name := range pods {
			pod, err := core.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil || pod.Annotations[vitessapi.AnnotationRolloutScheduled] == "" {
				return false, err
			}
			if pod.Spec.Containers[0].Image == "vitess/lite:v24.0.1" {
				t.Fatalf("tablet %s was replaced before it was released", name)
			}
		}
		shard, err := api.VitessShards(ns).Get(ctx, shardName, metav1.GetOptions{})
		progressing := meta.FindStatusCondition(shard.Status.Conditions, "Progressing")
		return err == nil && progressing != nil && progressing.Reason == "RolloutWaiting", err
	})
	vtctld.Stop()
	release := `{"metadata":{"annotations":{"` + vitessapi.AnnotationRolloutReleased + `":"true"}}}`
	if _, err := core.CoreV1().Pods(ns).Patch(ctx, pods[1], types.MergePatchType, []byte(release), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the released tablet waiting for Vitess to say which tablet is the primary", func() (bool, error) {
		if pod, err := core.CoreV1().Pods(ns).Get(ctx, pods[1], metav1.GetOptions{}); err != nil || pod.Spec.Containers[0].Image == "vitess/lite:v24.0.1" {
			t.Fatalf("the released tablet was replaced while vtctld was down (%v)", err)
		}
		shard, err := api.VitessShards(ns).Get(ctx, shardName, metav1.GetOptions{})
		progressing := meta.FindStatusCondition(shard.Status.Conditions, "Progressing")
		return err == nil && progressing != nil && strings.Contains(progressing.Message, "once Vitess says which tablet is the primary"), err
	})
	if err := vtctld.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the released tablet replaced with the new image", func() (bool, error) {
		pod, err := core.CoreV1().Pods(ns).Get(ctx, pods[1], metav1.GetOptions{})
		return err == nil && pod.Spec.Containers[0].Image == "vitess/lite:v24.0.1" && podIsReady(pod), nil
	})
	if pod, err := core.CoreV1().Pods(ns).Get(ctx, pods[0], metav1.GetOptions{}); err != nil || pod.Spec.Containers[0].Image == "vitess/lite:v24.0.1" {
		t.Errorf("the tablet that was not released was replaced: %v", err)
	}
	onlyEvent(ctx, t, ns, shardName, "ReplacingTablet")
}
