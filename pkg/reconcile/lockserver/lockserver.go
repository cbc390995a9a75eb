package lockserver

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
)

// reconcile deploys an EtcdLockserver's members, Services and PodDisruptionBudget.
// A member whose Pod no longer matches the spec is replaced only while every other member is
// ready, so the cluster keeps its quorum through a rollout.
func (c *Controller) reconcile(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	lockserver, err := c.Lockservers.Get(namespace, name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if lockserver.DeletionTimestamp != nil {
		return nil
	}
	pass := &lockserverPass{Pass: objects.NewPass(c.clients, lockserver), lockserver: lockserver}
	for _, service := range etcdServices(lockserver) {
		pass.SyncService(ctx, service)
	}
	if pdb := etcdPDB(lockserver); pdb != nil {
		pass.SyncPDB(ctx, pdb)
	}
	ready, stale := 0, []*corev1.Pod{}
	for index := 1; index <= names.EtcdMembers; index++ {
		pass.EnsurePVC(ctx, etcdMemberPVC(lockserver, index))
		desired := etcdMemberPod(lockserver, index)
		existing, err := c.clients.Pods.Pods(namespace).Get(desired.Name)
		switch {
		case apierrors.IsNotFound(err):
			pass.CreatePod(ctx, desired)
		case err != nil:
			pass.Fail(err)
		case !pass.Controls(existing):
			pass.NotControlled("Pod", existing)
		default:
			if existing.DeletionTimestamp == nil && objects.PodReady(existing) {
				ready++
			}
			if existing.DeletionTimestamp == nil && existing.Annotations[vitess.AnnotationSpecHash] != desired.Annotations[vitess.AnnotationSpecHash] {
				stale = append(stale, existing)
			}
		}
	}
	if len(stale) > 0 {
		member := stale[0]
		othersReady := ready
		if objects.PodReady(member) {
			othersReady--
		}
		if othersReady == names.EtcdMembers-1 {
			pass.DeletePod(ctx, member)
		} else {
			pass.waiting = fmt.Sprintf("member %s is out of date; it is replaced once the other members are ready", member.Name)
		}
	}
	return errors.Join(append(pass.Errs, c.updateStatus(ctx, lockserver, ready, pass))...)
}

// lockserverPass is one reconcile of one lockserver.
type lockserverPass struct {
	objects.Pass
	lockserver *v1alpha1.EtcdLockserver
	waiting    string
}

func (c *Controller) updateStatus(ctx context.Context, lockserver *v1alpha1.EtcdLockserver, ready int, pass *lockserverPass) error {
	return c.Lockservers.UpdateStatus(ctx, lockserver, func(lockserver *v1alpha1.EtcdLockserver) {
		status := &lockserver.Status
		status.ObservedGeneration = lockserver.Generation
		status.Members = v1alpha1.ReadyCount{Desired: names.EtcdMembers, Ready: int32(ready)}
		status.ClientServiceName = ""
		if ptr.Deref(lockserver.Spec.CreateClientService, true) {
			status.ClientServiceName = names.EtcdClientServiceName(lockserver.Name)
		}
		set := func(conditionType string, value bool, reason, message string) {
			objects.SetCondition(&status.Conditions, lockserver.Generation, conditionType, value, reason, message)
		}
		if len(pass.Errs) > 0 {
			set(v1alpha1.ConditionDegraded, true, "ReconcileFailed", pass.Errs[0].Error())
		} else {
			set(v1alpha1.ConditionDegraded, false, "AsExpected", "every member, Service and PodDisruptionBudget is as specified")
		}
		switch {
		case pass.Wrote:
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
