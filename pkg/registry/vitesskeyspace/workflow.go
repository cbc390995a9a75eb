package vitesskeyspace

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/tools/events"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// workflowStarter is what the movetables and reshard actions share: they look up the keyspace
// named in the URL and store the VitessWorkflow that records the user's intent. The reconcile
// loop then creates the workflow in Vitess and mirrors its state into the workflow's status.
type workflowStarter struct {
	keyspaces rest.Getter
	workflows rest.Creater
	admit     registry.WorkflowAdmission
	events    events.EventRecorder
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
	// The workflow goes through the cluster's admission as a create of vitessworkflows would: an
	// action is no way around the webhooks and policies that guard that resource.
	validate, err := s.admit.Create(ctx, workflow, options)
	if err != nil {
		return nil, err
	}
	created, err := s.workflows.Create(ctx, workflow, validate, options)
	if err != nil {
		return nil, err
	}
	if len(options.DryRun) == 0 {
		s.events.Eventf(registry.Reference("VitessKeyspace", keyspace), registry.Reference("VitessWorkflow", created.(*vitess.VitessWorkflow)), corev1.EventTypeNormal,
			string(workflow.Spec.Type)+"Requested", string(workflow.Spec.Type),
			"%s requested %s workflow %s", registry.Requester(ctx), workflow.Spec.Type, workflow.Name)
	}
	return created, nil
}

// keyspaceVtctld finds a keyspace and the vtctld of its cluster, for the actions that act on
// Vitess directly.
type keyspaceVtctld struct {
	keyspaces rest.Getter
	vtctlds   registry.Vtctlds
	events    events.EventRecorder
}

func (k *keyspaceVtctld) lookup(ctx context.Context, name string) (*vitess.VitessKeyspace, *vtctld.Client, error) {
	obj, err := k.keyspaces.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, nil, err
	}
	keyspace := obj.(*vitess.VitessKeyspace)
	client, err := k.vtctlds.Vtctld(ctx, keyspace.Namespace, keyspace.Spec.Cluster)
	if err != nil {
		return nil, nil, err
	}
	return keyspace, client, nil
}
