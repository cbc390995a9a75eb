package lockserver

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

func exampleLockserver() *v1alpha1.EtcdLockserver {
	return &v1alpha1.EtcdLockserver{
		ObjectMeta: metav1.ObjectMeta{Name: "example-etcd-faf13de3", Namespace: "example", UID: "ls-uid", Labels: map[string]string{vitess.LabelCluster: "example"}},
	}
}

func TestEtcdMemberPod(t *testing.T) {
	pod := etcdMemberPod(exampleLockserver(), 2)
	if pod.Name != "example-etcd-faf13de3-2" || pod.Spec.Subdomain != "example-etcd-faf13de3-peer" || pod.Labels[vitess.LabelCluster] != "example" {
		t.Errorf("pod: name %q subdomain %q labels %v", pod.Name, pod.Spec.Subdomain, pod.Labels)
	}
	args := pod.Spec.Containers[0].Args
	for _, want := range []string{
		"--name=example-etcd-faf13de3-2",
		"--initial-advertise-peer-urls=http://example-etcd-faf13de3-2.example-etcd-faf13de3-peer.example.svc:2380",
		"--initial-cluster=example-etcd-faf13de3-1=http://example-etcd-faf13de3-1.example-etcd-faf13de3-peer.example.svc:2380," +
			"example-etcd-faf13de3-2=http://example-etcd-faf13de3-2.example-etcd-faf13de3-peer.example.svc:2380," +
			"example-etcd-faf13de3-3=http://example-etcd-faf13de3-3.example-etcd-faf13de3-peer.example.svc:2380",
	} {
		if !slices.Contains(args, want) {
			t.Errorf("args lack %s: %v", want, args)
		}
	}
	if claim := pod.Spec.Volumes[0].PersistentVolumeClaim; claim == nil || claim.ClaimName != "example-etcd-faf13de3-2" {
		t.Errorf("data volume: %+v", pod.Spec.Volumes[0])
	}
	if owner := metav1.GetControllerOf(pod); owner == nil || owner.UID != "ls-uid" {
		t.Errorf("pod's controller: %+v", owner)
	}

	// The hash is stable for the same spec and moves with it.
	if again := etcdMemberPod(exampleLockserver(), 2); again.Annotations[vitess.AnnotationSpecHash] != pod.Annotations[vitess.AnnotationSpecHash] {
		t.Errorf("the same spec hashed differently")
	}
	changed := exampleLockserver()
	changed.Spec.ExtraFlags = map[string]string{"heartbeat-interval": "200"}
	if etcdMemberPod(changed, 2).Annotations[vitess.AnnotationSpecHash] == pod.Annotations[vitess.AnnotationSpecHash] {
		t.Errorf("a changed spec kept its hash")
	}
}

func TestEtcdDataIsNotOwned(t *testing.T) {
	if pvc := etcdMemberPVC(exampleLockserver(), 1); len(pvc.OwnerReferences) != 0 {
		t.Errorf("a member's PVC is owned, so deleting the lockserver would delete its data: %+v", pvc.OwnerReferences)
	}
}

func TestEtcdOptionalObjects(t *testing.T) {
	lockserver := exampleLockserver()
	if len(etcdServices(lockserver)) != 2 || etcdPDB(lockserver) == nil {
		t.Fatalf("by default a lockserver has two Services and a PodDisruptionBudget")
	}
	if pdb := etcdPDB(lockserver); pdb.Spec.MinAvailable.IntValue() != 2 {
		t.Errorf("quorum of three is two, got %v", pdb.Spec.MinAvailable)
	}
	lockserver.Spec.CreatePDB, lockserver.Spec.CreatePeerService = ptr.To(false), ptr.To(false)
	if len(etcdServices(lockserver)) != 1 || etcdPDB(lockserver) != nil {
		t.Errorf("createPDB and createPeerService false still create them")
	}
}
