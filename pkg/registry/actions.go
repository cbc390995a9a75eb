package registry

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

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
