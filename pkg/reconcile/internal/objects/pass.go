package objects

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// FieldManager names the loop's writes in managedFields.
const FieldManager = "vitess-reconciler"

// Clients are how a controller reads and writes the core objects it makes: the informers'
// listers for reads (a steady state costs no requests), the clientset for writes, and the Event
// recorder every write is reported through.
type Clients struct {
	Core        kubernetes.Interface
	Events      events.EventRecorder
	Pods        corelisters.PodLister
	PVCs        corelisters.PersistentVolumeClaimLister
	Services    corelisters.ServiceLister
	PDBs        policylisters.PodDisruptionBudgetLister
	Deployments appslisters.DeploymentLister
	CronJobs    batchlisters.CronJobLister
	Jobs        batchlisters.JobLister
}

// Pass is one reconcile of one object: it records whether it wrote anything and what failed, and
// reports every write as an Event on the object.
type Pass struct {
	*Clients
	Owner runtime.Object
	Wrote bool
	Errs  []error
}

// NewPass starts a reconcile of owner.
func NewPass(clients *Clients, owner runtime.Object) Pass {
	return Pass{Clients: clients, Owner: owner}
}

func (p *Pass) Fail(err error) { p.Errs = append(p.Errs, err) }

// Controls tells whether the pass's object is obj's controller. The loop changes and deletes only
// what it controls: labels are for finding things, and anyone may set them.
func (p *Pass) Controls(obj metav1.Object) bool {
	return metav1.IsControlledBy(obj, p.Owner.(metav1.Object))
}

// NotControlled is the failure of a pass that found its object's name taken by another's.
func (p *Pass) NotControlled(kind string, obj metav1.Object) {
	p.Fail(fmt.Errorf("%s %s exists and is not controlled by %s; it is left alone", kind, obj.GetName(), p.Owner.(metav1.Object).GetName()))
}

func (p *Pass) Write(verb, reason, kind, name string, do func() error) {
	if err := do(); err != nil && !(verb == "delete" && apierrors.IsNotFound(err)) {
		p.Fail(fmt.Errorf("%s %s %s: %w", verb, kind, name, err))
		p.Events.Eventf(p.Owner, nil, corev1.EventTypeWarning, "SyncFailed", verb, "%s %s %s: %v", verb, kind, name, err)
		return
	}
	p.Wrote = true
	CountWrite(kind, verb)
	p.Events.Eventf(p.Owner, nil, corev1.EventTypeNormal, reason, verb, "%s %s %s", verb, kind, name)
}

func (p *Pass) Create(kind, name string, do func() error) {
	p.Write("create", "Created", kind, name, do)
}

func (p *Pass) Delete(kind, name string, do func() error) {
	p.Write("delete", "Deleted", kind, name, do)
}

// SyncService makes the fields the reconciler sets match; the server's own (cluster IPs,
// session affinity) are left as they are.
func (p *Pass) SyncService(ctx context.Context, desired *corev1.Service) {
	services := p.Core.CoreV1().Services(desired.Namespace)
	existing, err := p.Services.Services(desired.Namespace).Get(desired.Name)
	if apierrors.IsNotFound(err) {
		p.Create("Service", desired.Name, func() error {
			_, err := services.Create(ctx, desired, metav1.CreateOptions{FieldManager: FieldManager})
			return err
		})
		return
	}
	if err != nil {
		p.Fail(err)
		return
	}
	if !p.Controls(existing) {
		p.NotControlled("Service", existing)
		return
	}
	if apiequality.Semantic.DeepEqual(existing.Spec.Selector, desired.Spec.Selector) &&
		apiequality.Semantic.DeepEqual(existing.Spec.Ports, desired.Spec.Ports) &&
		existing.Spec.PublishNotReadyAddresses == desired.Spec.PublishNotReadyAddresses &&
		HasLabels(existing, desired.Labels) {
		return
	}
	updated := existing.DeepCopy()
	updated.Spec.Selector, updated.Spec.Ports = desired.Spec.Selector, desired.Spec.Ports
	updated.Spec.PublishNotReadyAddresses = desired.Spec.PublishNotReadyAddresses
	for k, v := range desired.Labels {
		if updated.Labels == nil {
			updated.Labels = map[string]string{}
		}
		updated.Labels[k] = v
	}
	p.Write("update", "Updated", "Service", desired.Name, func() error {
		_, err := services.Update(ctx, updated, metav1.UpdateOptions{FieldManager: FieldManager})
		return err
	})
}

// handEdited reports whether someone changed what a Deployment runs (replicas, or a container's
// image, command or arguments) without changing the recorded hash. The rest of the spec is not
// compared: the server fills in defaults there.
func handEdited(existing, desired *appsv1.Deployment) bool {
	if !apiequality.Semantic.DeepEqual(existing.Spec.Replicas, desired.Spec.Replicas) ||
		len(existing.Spec.Template.Spec.Containers) != len(desired.Spec.Template.Spec.Containers) {
		return true
	}
	for i, want := range desired.Spec.Template.Spec.Containers {
		have := existing.Spec.Template.Spec.Containers[i]
		if have.Name != want.Name || have.Image != want.Image || !slices.Equal(have.Command, want.Command) || !slices.Equal(have.Args, want.Args) {
			return true
		}
	}
	return false
}

// SyncDeployment creates the Deployment or, when the hash of what it was made from changed,
// replaces its spec; the Deployment then rolls its Pods.
func (p *Pass) SyncDeployment(ctx context.Context, desired *appsv1.Deployment) {
	deployments := p.Core.AppsV1().Deployments(desired.Namespace)
	existing, err := p.Deployments.Deployments(desired.Namespace).Get(desired.Name)
	if apierrors.IsNotFound(err) {
		p.Create("Deployment", desired.Name, func() error {
			_, err := deployments.Create(ctx, desired, metav1.CreateOptions{FieldManager: FieldManager})
			return err
		})
		return
	}
	if err != nil {
		p.Fail(err)
		return
	}
	if !p.Controls(existing) {
		p.NotControlled("Deployment", existing)
		return
	}
	if existing.Annotations[vitess.AnnotationSpecHash] == desired.Annotations[vitess.AnnotationSpecHash] && HasLabels(existing, desired.Labels) &&
		!handEdited(existing, desired) {
		return
	}
	updated := existing.DeepCopy()
	updated.Spec = desired.Spec
	updated.Labels, updated.Annotations = desired.Labels, desired.Annotations
	p.Write("update", "Updated", "Deployment", desired.Name, func() error {
		_, err := deployments.Update(ctx, updated, metav1.UpdateOptions{FieldManager: FieldManager})
		return err
	})
}

// EnsurePVC creates a PVC when it is missing. An existing PVC is never changed or deleted: it
// holds data.
func (p *Pass) EnsurePVC(ctx context.Context, pvc *corev1.PersistentVolumeClaim) {
	if _, err := p.PVCs.PersistentVolumeClaims(pvc.Namespace).Get(pvc.Name); !apierrors.IsNotFound(err) {
		if err != nil {
			p.Fail(err)
		}
		return
	}
	p.Create("PersistentVolumeClaim", pvc.Name, func() error {
		_, err := p.Core.CoreV1().PersistentVolumeClaims(pvc.Namespace).Create(ctx, pvc, metav1.CreateOptions{FieldManager: FieldManager})
		return err
	})
}

// GrowPVC raises an existing claim's storage request to the desired one: the volume grows in
// place where its StorageClass allows expansion. A claim is never shrunk (Kubernetes refuses it,
// and the data would not fit).
func (p *Pass) GrowPVC(ctx context.Context, desired *corev1.PersistentVolumeClaim) {
	existing, err := p.PVCs.PersistentVolumeClaims(desired.Namespace).Get(desired.Name)
	if err != nil {
		return // ensurePVC reports it
	}
	want, have := desired.Spec.Resources.Requests[corev1.ResourceStorage], existing.Spec.Resources.Requests[corev1.ResourceStorage]
	if want.Cmp(have) <= 0 {
		return
	}
	patch := fmt.Sprintf(`{"spec":{"resources":{"requests":{"storage":%q}}}}`, want.String())
	p.Write("patch", "ExpandingVolume", "PersistentVolumeClaim", desired.Name, func() error {
		_, err := p.Core.CoreV1().PersistentVolumeClaims(desired.Namespace).Patch(ctx, desired.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: FieldManager})
		return err
	})
}

// SyncDeployments makes the Deployments that selector finds in namespace the desired ones.
func (p *Pass) SyncDeployments(ctx context.Context, namespace string, selector map[string]string, desired []*appsv1.Deployment) {
	wanted := map[string]bool{}
	for _, deployment := range desired {
		wanted[deployment.Name] = true
		p.SyncDeployment(ctx, deployment)
	}
	existing, err := p.Deployments.Deployments(namespace).List(labels.SelectorFromSet(selector))
	if err != nil {
		p.Fail(err)
		return
	}
	for _, deployment := range existing {
		if !wanted[deployment.Name] && p.Controls(deployment) {
			uid := deployment.UID
			p.Delete("Deployment", deployment.Name, func() error {
				return p.Core.AppsV1().Deployments(deployment.Namespace).Delete(ctx, deployment.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			})
		}
	}
}

// SyncServices makes the Services that selector finds in namespace the desired ones.
func (p *Pass) SyncServices(ctx context.Context, namespace string, selector map[string]string, desired []*corev1.Service) {
	wanted := map[string]bool{}
	for _, service := range desired {
		wanted[service.Name] = true
		p.SyncService(ctx, service)
	}
	existing, err := p.Services.Services(namespace).List(labels.SelectorFromSet(selector))
	if err != nil {
		p.Fail(err)
		return
	}
	for _, service := range existing {
		if !wanted[service.Name] && p.Controls(service) {
			uid := service.UID
			p.Delete("Service", service.Name, func() error {
				return p.Core.CoreV1().Services(service.Namespace).Delete(ctx, service.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			})
		}
	}
}

func (p *Pass) CreatePod(ctx context.Context, pod *corev1.Pod) {
	p.Create("Pod", pod.Name, func() error {
		_, err := p.Core.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{FieldManager: FieldManager})
		return err
	})
}

// DeletePod deletes the Pod that was seen, not a successor of the same name.
func (p *Pass) DeletePod(ctx context.Context, pod *corev1.Pod) {
	uid := pod.UID
	p.Delete("Pod", pod.Name, func() error {
		return p.Core.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	})
}

// SyncPDB creates the PodDisruptionBudget or makes what the loop sets in it match.
func (p *Pass) SyncPDB(ctx context.Context, desired *policyv1.PodDisruptionBudget) {
	pdbs := p.Core.PolicyV1().PodDisruptionBudgets(desired.Namespace)
	existing, err := p.PDBs.PodDisruptionBudgets(desired.Namespace).Get(desired.Name)
	if apierrors.IsNotFound(err) {
		p.Create("PodDisruptionBudget", desired.Name, func() error {
			_, err := pdbs.Create(ctx, desired, metav1.CreateOptions{FieldManager: FieldManager})
			return err
		})
		return
	}
	if err != nil {
		p.Fail(err)
		return
	}
	if !p.Controls(existing) {
		p.NotControlled("PodDisruptionBudget", existing)
		return
	}
	if apiequality.Semantic.DeepEqual(existing.Spec.MinAvailable, desired.Spec.MinAvailable) &&
		apiequality.Semantic.DeepEqual(existing.Spec.Selector, desired.Spec.Selector) {
		return
	}
	updated := existing.DeepCopy()
	updated.Spec.MinAvailable, updated.Spec.Selector = desired.Spec.MinAvailable, desired.Spec.Selector
	p.Write("update", "Updated", "PodDisruptionBudget", desired.Name, func() error {
		_, err := pdbs.Update(ctx, updated, metav1.UpdateOptions{FieldManager: FieldManager})
		return err
	})
}

// SyncCronJobs makes the CronJobs that selector finds in namespace the desired ones: a missing one
// is created, one whose recorded hash differs gets the desired spec, and one no longer desired is
// deleted (its Jobs go with it).
func (p *Pass) SyncCronJobs(ctx context.Context, namespace string, selector map[string]string, desired []*batchv1.CronJob) {
	cronJobs := p.Core.BatchV1().CronJobs(namespace)
	wanted := map[string]bool{}
	for _, cronJob := range desired {
		wanted[cronJob.Name] = true
		existing, err := p.CronJobs.CronJobs(namespace).Get(cronJob.Name)
		switch {
		case apierrors.IsNotFound(err):
			p.Create("CronJob", cronJob.Name, func() error {
				_, err := cronJobs.Create(ctx, cronJob, metav1.CreateOptions{FieldManager: FieldManager})
				return err
			})
		case err != nil:
			p.Fail(err)
		case !p.Controls(existing):
			p.NotControlled("CronJob", existing)
		case existing.Annotations[vitess.AnnotationSpecHash] != cronJob.Annotations[vitess.AnnotationSpecHash] || !HasLabels(existing, cronJob.Labels):
			updated := existing.DeepCopy()
			updated.Spec = cronJob.Spec
			updated.Labels, updated.Annotations = cronJob.Labels, cronJob.Annotations
			p.Write("update", "Updated", "CronJob", cronJob.Name, func() error {
				_, err := cronJobs.Update(ctx, updated, metav1.UpdateOptions{FieldManager: FieldManager})
				return err
			})
		}
	}
	existing, err := p.CronJobs.CronJobs(namespace).List(labels.SelectorFromSet(selector))
	if err != nil {
		p.Fail(err)
		return
	}
	for _, cronJob := range existing {
		if !wanted[cronJob.Name] && p.Controls(cronJob) {
			uid := cronJob.UID
			p.Delete("CronJob", cronJob.Name, func() error {
				return cronJobs.Delete(ctx, cronJob.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid},
					PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)})
			})
		}
	}
}
