package registry

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

// CheckTimeout bounds an action's dry run in Vitess, well inside the ~34 s a request may take.
const CheckTimeout = 20 * time.Second

// AdmitAction checks that the URL and the body of an action request name the same object (of
// the given kind), as pods/eviction does, then runs the admission chain's validation of it.
func AdmitAction(ctx context.Context, kind, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc) error {
	request, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	if request.GetName() != "" && request.GetName() != name {
		return apierrors.NewBadRequest(fmt.Sprintf("the request names %s %q but was posted to %q", kind, request.GetName(), name))
	}
	if createValidation != nil {
		return createValidation(ctx, obj)
	}
	return nil
}

// Requester is the user who made the request, for Events.
func Requester(ctx context.Context) string {
	if user, ok := genericapirequest.UserFrom(ctx); ok && user != nil {
		return user.GetName()
	}
	return "unknown"
}

// Reference names an object of the group for an Event, in the version clients read it in.
func Reference(kind string, obj metav1.Object) *corev1.ObjectReference {
	return &corev1.ObjectReference{
		APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: kind,
		Namespace: obj.GetNamespace(), Name: obj.GetName(), UID: obj.GetUID(), ResourceVersion: obj.GetResourceVersion(),
	}
}

// WorkflowAdmission runs the server's admission chain (mutating, then validating: webhooks and
// admission policies) on a VitessWorkflow that an action creates, as if the requester had created
// it through vitessworkflows.
type WorkflowAdmission struct {
	Admission admission.Interface
	Scheme    *runtime.Scheme
}

// Create mutates workflow as the chain's mutating plugins say, and returns the validation to run
// when it is stored.
func (a WorkflowAdmission) Create(ctx context.Context, workflow *vitess.VitessWorkflow, options *metav1.CreateOptions) (rest.ValidateObjectFunc, error) {
	attributes := func(obj runtime.Object) admission.Attributes {
		user, _ := genericapirequest.UserFrom(ctx)
		return admission.NewAttributesRecord(obj, nil, v1alpha1.SchemeGroupVersion.WithKind("VitessWorkflow"), workflow.Namespace, workflow.Name,
			v1alpha1.SchemeGroupVersion.WithResource("vitessworkflows"), "", admission.Create, options, len(options.DryRun) > 0, user)
	}
	interfaces := admission.NewObjectInterfacesFromScheme(a.Scheme)
	if mutating, ok := a.Admission.(admission.MutationInterface); ok && mutating.Handles(admission.Create) {
		if err := mutating.Admit(ctx, attributes(workflow), interfaces); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context, obj runtime.Object) error {
		if validating, ok := a.Admission.(admission.ValidationInterface); ok && validating.Handles(admission.Create) {
			return validating.Validate(ctx, attributes(obj), interfaces)
		}
		return nil
	}, nil
}
