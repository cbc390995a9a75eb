package integration

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestEtcdLockserverMembers: an EtcdLockserver becomes three member Pods with their PVCs, a client
// and a headless peer Service and a PodDisruptionBudget; the members run (kwok) and the lockserver
// reports Ready; a deleted member comes back on its own PVC; a spec change rolls the members one
// by one; deleting the lockserver removes its Pods and Services and keeps its data.
func TestEtcdLockserverMembers(t *testing.T) {
	ctx := testContext(t)
	ns := newNamespace(t, "etcd")
	mustApply(t, kindFixtures[1].manifest(ns)) // EtcdLockserver demo-etcd
	core := kubeClient(t)
	api := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1()
	members := []string{"demo-etcd-1", "demo-etcd-2", "demo-etcd-3"}

	eventually(t, "members running and ready, lockserver Ready", func() (bool, error) {
		for _, name := range members {
			pod, err := core.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil || !podIsReady(pod) {
				return false, err
			}
			pvc, err := core.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil || pvc.Status.Phase != corev1.ClaimBound {
				return false, err
			}
		}
		lockserver, err := api.EtcdLockservers(ns).Get(ctx, "demo-etcd", metav1.GetOptions{})
		return err == nil && meta.IsStatusConditionTrue(lockserver.Status.Conditions, "Ready") && lockserver.Status.Members.Ready == 3, err
	})
	pod, _ := core.CoreV1().Pods(ns).Get(ctx, "demo-etcd-1", metav1.GetOptions{})
	wantCluster := "--initial-cluster=demo-etcd-1=http://demo-etcd-1.demo-etcd-peer." + ns + ".svc:2380,demo-etcd-2="
	if !slices.ContainsFunc(pod.Spec.Containers[0].Args, func(arg string) bool { return strings.HasPrefix(arg, wantCluster) }) {
		t.Errorf("member args lack %s...: %v", wantCluster, pod.Spec.Containers[0].Args)
	}
	if pod.Spec.Subdomain != "demo-etcd-peer" || pod.Spec.SecurityContext == nil || pod.Spec.SecurityContext.RunAsNonRoot == nil || !*pod.Spec.SecurityContext.RunAsNonRoot {
		t.Errorf("member pod: subdomain %q, security context %+v", pod.Spec.Subdomain, pod.Spec.SecurityContext)
	}
	peer, err := core.CoreV1().Services(ns).Get(ctx, "demo-etcd-peer", metav1.GetOptions{})
	if err != nil || peer.Spec.ClusterIP != corev1.ClusterIPNone || !peer.Spec.PublishNotReadyAddresses {
		t.Errorf("peer service: %v %+v", err, peer.Spec)
	}
	if _, err := core.CoreV1().Services(ns).Get(ctx, "demo-etcd-client", metav1.GetOptions{}); err != nil {
		t.Errorf("client service: %v", err)
	}
	pdb, err := core.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "etcd-lockserver-demo-etcd", metav1.GetOptions{})
	if err != nil || pdb.Spec.MinAvailable.IntValue() != 2 {
		t.Errorf("pdb: %v %+v", err, pdb)
	}
	if table := kubectl(t, "get", "vtetcd", "-n", ns); !strings.Contains(table, "3/3") {
		t.Errorf("kubectl get etcdlockservers:\n%s", table)
	}

	// A deleted member is recreated on the PVC that kept its data.
	pvc, _ := core.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "demo-etcd-2", metav1.GetOptions{})
	if err := core.CoreV1().Pods(ns).Delete(ctx, "demo-etcd-2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deleted member recreated", func() (bool, error) {
		recreated, err := core.CoreV1().Pods(ns).Get(ctx, "demo-etcd-2", metav1.GetOptions{})
		return err == nil && recreated.UID != pod.UID && podIsReady(recreated), nil
	})
	if kept, _ := core.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "demo-etcd-2", metav1.GetOptions{}); kept.UID != pvc.UID {
		t.Errorf("the member's PVC was replaced")
	}

	// A spec change rolls out to every member.
	patch := `{"spec":{"extraFlags":{"heartbeat-interval":"200"}}}`
	if _, err := api.EtcdLockservers(ns).Patch(ctx, "demo-etcd", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every member runs the new flag", func() (bool, error) {
		for _, name := range members {
			pod, err := core.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil || !podIsReady(pod) || !slices.Contains(pod.Spec.Containers[0].Args, "--heartbeat-interval=200") {
				return false, err
			}
		}
		return true, nil
	})

	// Deleting the lockserver removes its Pods and Services; its PVCs stay.
	if err := api.EtcdLockservers(ns).Delete(ctx, "demo-etcd", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "members and services collected", func() (bool, error) {
		pods, err := core.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		_, err = core.CoreV1().Services(ns).Get(ctx, "demo-etcd-client", metav1.GetOptions{})
		return len(pods.Items) == 0 && apierrors.IsNotFound(err), nil
	})
	pvcs, err := core.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(pvcs.Items) != 3 {
		t.Errorf("the members' PVCs were not kept: %v, %d left", err, len(pvcs.Items))
	}
}

func podIsReady(pod *corev1.Pod) bool {
	for _, condition := range pod.Status.Conditions {
		if condition.Type == corev1.PodReady {
			return condition.Status == corev1.ConditionTrue
		}
	}
	return false
}
