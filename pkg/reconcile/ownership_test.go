package reconcile

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	vitessfake "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned/fake"
)

// startedReconciler is a Reconciler on fake clientsets holding objects, with its caches synced.
func startedReconciler(t *testing.T, vitessObjects, coreObjects []runtime.Object) (*Reconciler, *kubefake.Clientset) {
	t.Helper()
	core := kubefake.NewClientset(coreObjects...)
	r := New(vitessfake.NewClientset(vitessObjects...), core, events.NewFakeRecorder(100), VtctldAddresses{})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		r.informers.Shutdown()
		r.coreInformers.Shutdown()
	})
	r.informers.Start(ctx.Done())
	r.coreInformers.Start(ctx.Done())
	for informer, synced := range r.informers.WaitForCacheSync(ctx.Done()) {
		if !synced {
			t.Fatalf("%v did not sync", informer)
		}
	}
	for informer, synced := range r.coreInformers.WaitForCacheSync(ctx.Done()) {
		if !synced {
			t.Fatalf("%v did not sync", informer)
		}
	}
	return r, core
}

// keyspaceShard is exampleShard under the controller reference its keyspace gives it.
func keyspaceShard(t *testing.T) (*v1alpha1.VitessKeyspace, *v1alpha1.VitessShard) {
	t.Helper()
	desired, err := desiredChildren(exampleCluster())
	if err != nil {
		t.Fatal(err)
	}
	keyspace := desired.keyspaces[0]
	keyspace.UID = "keyspace-uid"
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
	r, core := startedReconciler(t, []runtime.Object{keyspace, shard, impostor}, coreObjects)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	core.ClearActions()
	if err := r.reconcileShard(ctx, shard.Namespace+"/"+impostor.Name); err != nil {
		t.Fatal(err)
	}
	for _, action := range changesIn(core.Actions()) {
		t.Errorf("reconciling a hand-made shard did %s %s; it must be ignored", action.GetVerb(), action.GetResource().Resource)
	}

	core.ClearActions()
	if err := r.reconcileShard(ctx, shard.Namespace+"/"+shard.Name); err != nil {
		t.Fatal(err)
	}
	for _, action := range changesIn(core.Actions()) {
		if action.GetVerb() == "delete" {
			t.Errorf("reconciling the shard deleted %s %s", action.GetResource().Resource, action.(clienttesting.DeleteAction).GetName())
		}
	}
}

// changesIn are the actions that change something.
func changesIn(actions []clienttesting.Action) []clienttesting.Action {
	var changed []clienttesting.Action
	for _, action := range actions {
		switch action.GetVerb() {
		case "get", "list", "watch":
		default:
			changed = append(changed, action)
		}
	}
	return changed
}
