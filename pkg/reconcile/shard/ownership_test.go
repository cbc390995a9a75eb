package shard

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clienttesting "k8s.io/client-go/testing"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objectstest"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
)

// startedController is a shard controller on fake clientsets holding objects, with its caches
// synced.
func startedController(t *testing.T, vitessObjects, coreObjects []runtime.Object) (*Controller, *objectstest.Fakes) {
	t.Helper()
	fakes := objectstest.New(vitessObjects, coreObjects)
	c := New(fakes.Clients, fakes.Kinds, topology.New(func(string) {}, func(string) {}))
	fakes.Sync(t)
	return c, fakes
}

// keyspaceShard is exampleShard under the controller reference of its keyspace.
func keyspaceShard(t *testing.T) (*v1alpha1.VitessKeyspace, *v1alpha1.VitessShard) {
	t.Helper()
	keyspace := &v1alpha1.VitessKeyspace{ObjectMeta: metav1.ObjectMeta{Name: "example-commerce-fb9b866a", Namespace: "example", UID: "keyspace-uid"}}
	shard := exampleShard(t)
	shard.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(keyspace, v1alpha1.SchemeGroupVersion.WithKind("VitessKeyspace"))}
	return keyspace, shard
}

// TestShardTouchesOnlyWhatItControls: labels find things, but anyone may set them. A VitessShard
// made by hand with another shard's labels must not make the loop delete that shard's tablets (the
// primary's among them) nor run tablets of its own; and a Pod labelled as a shard's tablet that the
// shard does not control is not the shard's to delete.
func TestShardTouchesOnlyWhatItControls(t *testing.T) {
	keyspace, shard := keyspaceShard(t)
	var coreObjects []runtime.Object
	for i, tablet := range shardTablets(shard) {
		pod := tabletPod(shard, tablet)
		pod.UID = types.UID(pod.Name)
		pod.Status.Phase = corev1.PodRunning
		coreObjects = append(coreObjects, pod)
		if i == 0 {
			stray := pod.DeepCopy()
			stray.Name, stray.UID, stray.OwnerReferences = "labelled-like-a-tablet", "stray", nil
			coreObjects = append(coreObjects, stray)
		}
	}
	impostor := shard.DeepCopy()
	impostor.Name, impostor.UID, impostor.OwnerReferences = "hand-made", "impostor-uid", nil
	impostor.Spec.TabletPools[0].Replicas = 1
	c, fakes := startedController(t, []runtime.Object{keyspace, shard, impostor}, coreObjects)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	fakes.Core.ClearActions()
	fakes.Vitess.ClearActions()
	if err := c.reconcile(ctx, shard.Namespace+"/"+impostor.Name); err != nil {
		t.Fatal(err)
	}
	for _, action := range fakes.Changes() {
		t.Errorf("reconciling a hand-made shard did %s %s; it must be ignored", action.GetVerb(), action.GetResource().Resource)
	}

	fakes.Core.ClearActions()
	fakes.Vitess.ClearActions()
	if err := c.reconcile(ctx, shard.Namespace+"/"+shard.Name); err != nil {
		t.Fatal(err)
	}
	for _, action := range fakes.Changes() {
		if action.GetVerb() == "delete" {
			t.Errorf("reconciling the shard deleted %s %s", action.GetResource().Resource, action.(clienttesting.DeleteAction).GetName())
		}
	}
}
