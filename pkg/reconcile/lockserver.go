package reconcile

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
)

// reconcileLockserver deploys an EtcdLockserver's members, Services and PodDisruptionBudget.
// A member whose Pod no longer matches the spec is replaced only while every other member is
// ready, so the cluster keeps its quorum through a rollout.
func (r *Reconciler) reconcileLockserver(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	lockserver, err := r.lockservers.get(namespace, name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if lockserver.DeletionTimestamp != nil {
		return nil
	}
	pass := &lockserverPass{pass: pass{Reconciler: r, owner: lockserver}, lockserver: lockserver}
	for _, service := range etcdServices(lockserver) {
		pass.syncService(ctx, service)
	}
	if pdb := etcdPDB(lockserver); pdb != nil {
		pass.syncPDB(ctx, pdb)
	}
	ready, stale := 0, []*corev1.Pod{}
	for index := 1; index <= names.EtcdMembers; index++ {
		pass.ensurePVC(ctx, etcdMemberPVC(lockserver, index))
		desired := etcdMemberPod(lockserver, index)
		existing, err := r.pods.Pods(namespace).Get(desired.Name)
		switch {
		case apierrors.IsNotFound(err):
			pass.createPod(ctx, desired)
		case err != nil:
			pass.fail(err)
		case !pass.controls(existing):
			pass.notControlled("Pod", existing)
		default:
			if existing.DeletionTimestamp == nil && podReady(existing) {
				ready++
			}
			if existing.DeletionTimestamp == nil && existing.Annotations[AnnotationSpecHash] != desired.Annotations[AnnotationSpecHash] {
				stale = append(stale, existing)
			}
		}
	}
	if len(stale) > 0 {
		member := stale[0]
		othersReady := ready
		if podReady(member) {
			othersReady--
		}
		if othersReady == names.EtcdMembers-1 {
			pass.deletePod(ctx, member)
		} else {
			pass.waiting = fmt.Sprintf("member %s is out of date; it is replaced once the other members are ready", member.Name)
		}
	}
	return errors.Join(append(pass.errs, r.updateLockserverStatus(ctx, lockserver, ready, pass))...)
}

// lockserverPass is one reconcile of one lockserver.
type lockserverPass struct {
	pass
	lockserver *v1alpha1.EtcdLockserver
	waiting    string
}

func (p *lockserverPass) syncPDB(ctx context.Context, desired *policyv1.PodDisruptionBudget) {
	pdbs := p.core.PolicyV1().PodDisruptionBudgets(desired.Namespace)
	existing, err := p.pdbs.PodDisruptionBudgets(desired.Namespace).Get(desired.Name)
	if apierrors.IsNotFound(err) {
		p.create("PodDisruptionBudget", desired.Name, func() error {
			_, err := pdbs.Create(ctx, desired, metav1.CreateOptions{FieldManager: fieldManager})
			return err
		})
		return
	}
	if err != nil {
		p.fail(err)
		return
	}
	if !p.controls(existing) {
		p.notControlled("PodDisruptionBudget", existing)
		return
	}
	if apiequality.Semantic.DeepEqual(existing.Spec.MinAvailable, desired.Spec.MinAvailable) &&
		apiequality.Semantic.DeepEqual(existing.Spec.Selector, desired.Spec.Selector) {
		return
	}
	updated := existing.DeepCopy()
	updated.Spec.MinAvailable, updated.Spec.Selector = desired.Spec.MinAvailable, desired.Spec.Selector
	p.write("update", "Updated", "PodDisruptionBudget", desired.Name, func() error {
		_, err := pdbs.Update(ctx, updated, metav1.UpdateOptions{FieldManager: fieldManager})
		return err
	})
}

func (r *Reconciler) updateLockserverStatus(ctx context.Context, lockserver *v1alpha1.EtcdLockserver, ready int, pass *lockserverPass) error {
	return r.lockservers.updateStatus(ctx, lockserver, func(lockserver *v1alpha1.EtcdLockserver) {
		status := &lockserver.Status
		status.ObservedGeneration = lockserver.Generation
		status.Members = v1alpha1.ReadyCount{Desired: names.EtcdMembers, Ready: int32(ready)}
		status.ClientServiceName = ""
		if ptr.Deref(lockserver.Spec.CreateClientService, true) {
			status.ClientServiceName = names.EtcdClientServiceName(lockserver.Name)
		}
		set := func(conditionType string, value bool, reason, message string) {
			setCondition(&status.Conditions, lockserver.Generation, conditionType, value, reason, message)
		}
		if len(pass.errs) > 0 {
			set(v1alpha1.ConditionDegraded, true, "ReconcileFailed", pass.errs[0].Error())
		} else {
			set(v1alpha1.ConditionDegraded, false, "AsExpected", "every member, Service and PodDisruptionBudget is as specified")
		}
		switch {
		case pass.wrote:
			set(v1alpha1.ConditionProgressing, true, "MembersUpdated", "creating or replacing members")
		case pass.waiting != "":
			set(v1alpha1.ConditionProgressing, true, "RolloutWaiting", pass.waiting)
		default:
			set(v1alpha1.ConditionProgressing, false, "MembersInSync", "every member runs its current spec")
		}
		allReady := ready == names.EtcdMembers
		set(v1alpha1.ConditionReady, allReady, map[bool]string{true: "QuorumReady", false: "MembersNotReady"}[allReady],
			fmt.Sprintf("%d/%d members ready", ready, names.EtcdMembers))
	})
}

// containerRunning tells whether the pod's container of that name runs.
func containerRunning(pod *corev1.Pod, name string) bool {
	for _, status := range pod.Status.ContainerStatuses {
		if status.Name == name {
			return status.State.Running != nil
		}
	}
	return false
}

func podReady(pod *corev1.Pod) bool {
	for _, condition := range pod.Status.Conditions {
		if condition.Type == corev1.PodReady {
			return condition.Status == corev1.ConditionTrue
		}
	}
	return false
}
