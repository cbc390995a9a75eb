package vitesskeyspace

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
	"k8s.io/client-go/tools/events"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

// workflowStarter is what the movetables and reshard actions share: they look up the keyspace
// named in the URL and store the VitessWorkflow that records the user's intent. The reconcile
// loop then creates the workflow in Vitess and mirrors its state into the workflow's status.
type workflowStarter struct {
	keyspaces rest.Getter
	workflows rest.Creater
	events    events.EventRecorder
}

// admit checks that the URL and the body name the same keyspace, as pods/eviction does, then
// runs the admission chain's validation of the request.
func admit(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc) error {
	request, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	if request.GetName() != "" && request.GetName() != name {
		return apierrors.NewBadRequest(fmt.Sprintf("the request names keyspace %q but was posted to %q", request.GetName(), name))
	}
	if createValidation != nil {
		return createValidation(ctx, obj)
	}
	return nil
}

// start stores the workflow for the keyspace, filling in what the keyspace determines (its
// cluster and Vitess name), and records an Event on the keyspace.
func (s *workflowStarter) start(ctx context.Context, keyspaceName string, workflow *vitess.VitessWorkflow, options *metav1.CreateOptions) (runtime.Object, error) {
	obj, err := s.keyspaces.Get(ctx, keyspaceName, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	keyspace := obj.(*vitess.VitessKeyspace)
	workflow.Namespace = keyspace.Namespace
	workflow.Spec.Cluster = keyspace.Spec.Cluster
	workflow.Spec.TargetKeyspace = keyspace.Spec.Name
	created, err := s.workflows.Create(ctx, workflow, rest.ValidateAllObjectFunc, options)
	if err != nil {
		return nil, err
	}
	if len(options.DryRun) == 0 {
		user, _ := genericapirequest.UserFrom(ctx)
		username := "unknown"
		if user != nil {
			username = user.GetName()
		}
		s.events.Eventf(reference("VitessKeyspace", keyspace), reference("VitessWorkflow", created.(*vitess.VitessWorkflow)), corev1.EventTypeNormal,
			string(workflow.Spec.Type)+"Requested", string(workflow.Spec.Type),
			"%s requested %s workflow %s", username, workflow.Spec.Type, workflow.Name)
	}
	return created, nil
}

// reference names an object of the group for an Event, in the version clients read it in.
func reference(kind string, obj metav1.Object) *corev1.ObjectReference {
	return &corev1.ObjectReference{
		APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: kind,
		Namespace: obj.GetNamespace(), Name: obj.GetName(), UID: obj.GetUID(), ResourceVersion: obj.GetResourceVersion(),
	}
}
