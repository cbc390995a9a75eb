package reconcile

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// pass is one reconcile of one object: it records whether it wrote anything and what failed, and
// reports every write as an Event on the object.
type pass struct {
	*Reconciler
	owner runtime.Object
	wrote bool
	errs  []error
}

func (p *pass) fail(err error) { p.errs = append(p.errs, err) }

// controls tells whether the pass's object is obj's controller. The loop changes and deletes only
// what it controls: labels are for finding things, and anyone may set them.
func (p *pass) controls(obj metav1.Object) bool {
	return metav1.IsControlledBy(obj, p.owner.(metav1.Object))
}

// notControlled is the failure of a pass that found its object's name taken by another's.
func (p *pass) notControlled(kind string, obj metav1.Object) {
	p.fail(fmt.Errorf("%s %s exists and is not controlled by %s; it is left alone", kind, obj.GetName(), p.owner.(metav1.Object).GetName()))
}

func (p *pass) write(verb, reason, kind, name string, do func() error) {
	if err := do(); err != nil && !(verb == "delete" && apierrors.IsNotFound(err)) {
		p.fail(fmt.Errorf("%s %s %s: %w", verb, kind, name, err))
		p.events.Eventf(p.owner, nil, corev1.EventTypeWarning, "SyncFailed", verb, "%s %s %s: %v", verb, kind, name, err)
		return
	}
	p.wrote = true
	countWrite(kind, verb)
	p.events.Eventf(p.owner, nil, corev1.EventTypeNormal, reason, verb, "%s %s %s", verb, kind, name)
}

func (p *pass) create(kind, name string, do func() error) {
	p.write("create", "Created", kind, name, do)
}

func (p *pass) delete(kind, name string, do func() error) {
	p.write("delete", "Deleted", kind, name, do)
}

// syncService makes the fields the reconciler sets match; the server's own (cluster IPs,
// session affinity) are left as they are.
func (p *pass) syncService(ctx context.Context, desired *corev1.Service) {
	services := p.core.CoreV1().Services(desired.Namespace)
	existing, err := p.services.Services(desired.Namespace).Get(desired.Name)
	if apierrors.IsNotFound(err) {
		p.create("Service", desired.Name, func() error {
			_, err := services.Create(ctx, desired, metav1.CreateOptions{FieldManager: fieldManager})
			return err
		})
		return
	}
	if err != nil {
		p.fail(err)
		return
	}
	if !p.controls(existing) {
		p.notControlled("Service", existing)
		return
	}
	if apiequality.Semantic.DeepEqual(existing.Spec.Selector, desired.Spec.Selector) &&
		apiequality.Semantic.DeepEqual(existing.Spec.Ports, desired.Spec.Ports) &&
		existing.Spec.PublishNotReadyAddresses == desired.Spec.PublishNotReadyAddresses &&
		hasLabels(existing, desired.Labels) {
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
	p.write("update", "Updated", "Service", desired.Name, func() error {
		_, err := services.Update(ctx, updated, metav1.UpdateOptions{FieldManager: fieldManager})
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

// syncDeployment creates the Deployment or, when the hash of what it was made from changed,
// replaces its spec; the Deployment then rolls its Pods.
func (p *pass) syncDeployment(ctx context.Context, desired *appsv1.Deployment) {
	deployments := p.core.AppsV1().Deployments(desired.Namespace)
	existing, err := p.deployments.Deployments(desired.Namespace).Get(desired.Name)
	if apierrors.IsNotFound(err) {
		p.create("Deployment", desired.Name, func() error {
			_, err := deployments.Create(ctx, desired, metav1.CreateOptions{FieldManager: fieldManager})
			return err
		})
		return
	}
	if err != nil {
		p.fail(err)
		return
	}
	if !p.controls(existing) {
		p.notControlled("Deployment", existing)
		return
	}
	if existing.Annotations[AnnotationSpecHash] == desired.Annotations[AnnotationSpecHash] && hasLabels(existing, desired.Labels) &&
		!handEdited(existing, desired) {
		return
	}
	updated := existing.DeepCopy()
	updated.Spec = desired.Spec
	updated.Labels, updated.Annotations = desired.Labels, desired.Annotations
	p.write("update", "Updated", "Deployment", desired.Name, func() error {
		_, err := deployments.Update(ctx, updated, metav1.UpdateOptions{FieldManager: fieldManager})
		return err
	})
}

// ensurePVC creates a PVC when it is missing. An existing PVC is never changed or deleted: it
// holds data.
func (p *pass) ensurePVC(ctx context.Context, pvc *corev1.PersistentVolumeClaim) {
	if _, err := p.pvcs.PersistentVolumeClaims(pvc.Namespace).Get(pvc.Name); !apierrors.IsNotFound(err) {
		if err != nil {
			p.fail(err)
		}
		return
	}
	p.create("PersistentVolumeClaim", pvc.Name, func() error {
		_, err := p.core.CoreV1().PersistentVolumeClaims(pvc.Namespace).Create(ctx, pvc, metav1.CreateOptions{FieldManager: fieldManager})
		return err
	})
}

// growPVC raises an existing claim's storage request to the desired one: the volume grows in
// place where its StorageClass allows expansion. A claim is never shrunk (Kubernetes refuses it,
// and the data would not fit).
func (p *pass) growPVC(ctx context.Context, desired *corev1.PersistentVolumeClaim) {
	existing, err := p.pvcs.PersistentVolumeClaims(desired.Namespace).Get(desired.Name)
	if err != nil {
		return // ensurePVC reports it
	}
	want, have := desired.Spec.Resources.Requests[corev1.ResourceStorage], existing.Spec.Resources.Requests[corev1.ResourceStorage]
	if want.Cmp(have) <= 0 {
		return
	}
	patch := fmt.Sprintf(`{"spec":{"resources":{"requests":{"storage":%q}}}}`, want.String())
	p.write("patch", "ExpandingVolume", "PersistentVolumeClaim", desired.Name, func() error {
		_, err := p.core.CoreV1().PersistentVolumeClaims(desired.Namespace).Patch(ctx, desired.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: fieldManager})
		return err
	})
}

// syncDeployments makes the Deployments that selector finds in namespace the desired ones.
func (p *pass) syncDeployments(ctx context.Context, namespace string, selector map[string]string, desired []*appsv1.Deployment) {
	wanted := map[string]bool{}
	for _, deployment := range desired {
		wanted[deployment.Name] = true
		p.syncDeployment(ctx, deployment)
	}
	existing, err := p.deployments.Deployments(namespace).List(labels.SelectorFromSet(selector))
	if err != nil {
		p.fail(err)
		return
	}
	for _, deployment := range existing {
		if !wanted[deployment.Name] && p.controls(deployment) {
			uid := deployment.UID
			p.delete("Deployment", deployment.Name, func() error {
				return p.core.AppsV1().Deployments(deployment.Namespace).Delete(ctx, deployment.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			})
		}
	}
}

// syncServices makes the Services that selector finds in namespace the desired ones.
func (p *pass) syncServices(ctx context.Context, namespace string, selector map[string]string, desired []*corev1.Service) {
	wanted := map[string]bool{}
	for _, service := range desired {
		wanted[service.Name] = true
		p.syncService(ctx, service)
	}
	existing, err := p.services.Services(namespace).List(labels.SelectorFromSet(selector))
	if err != nil {
		p.fail(err)
		return
	}
	for _, service := range existing {
		if !wanted[service.Name] && p.controls(service) {
			uid := service.UID
			p.delete("Service", service.Name, func() error {
				return p.core.CoreV1().Services(service.Namespace).Delete(ctx, service.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			})
		}
	}
}

func (p *pass) createPod(ctx context.Context, pod *corev1.Pod) {
	p.create("Pod", pod.Name, func() error {
		_, err := p.core.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{FieldManager: fieldManager})
		return err
	})
}

// deletePod deletes the Pod that was seen, not a successor of the same name.
func (p *pass) deletePod(ctx context.Context, pod *corev1.Pod) {
	uid := pod.UID
	p.delete("Pod", pod.Name, func() error {
		return p.core.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	})
}
