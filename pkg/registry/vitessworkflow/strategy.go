// Package vitessworkflow stores VitessWorkflows: VReplication workflows (MoveTables, Reshard) whose state is mirrored from Vitess.
package vitessworkflow

import (
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/validation"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

// NewStrategy governs writes of the spec, which is immutable once the workflow exists: actions move it along.
func NewStrategy(typer runtime.ObjectTyper) registry.SpecStrategy[*vitess.VitessWorkflow] {
	return registry.SpecStrategy[*vitess.VitessWorkflow]{
		NamespacedStrategy: registry.NewNamespacedStrategy(typer),
		ValidateCreate:     validation.ValidateVitessWorkflow,
		ValidateChange:     validation.ValidateVitessWorkflowUpdate,
	}
}

// NewStatusStrategy governs writes of the status, which the reconciler reports.
func NewStatusStrategy(typer runtime.ObjectTyper) registry.StatusStrategy[*vitess.VitessWorkflow] {
	return registry.StatusStrategy[*vitess.VitessWorkflow]{NamespacedStrategy: registry.NewNamespacedStrategy(typer)}
}

// selectableFields lets clients select workflows by cluster, target keyspace, type and phase.
func selectableFields(obj runtime.Object) fields.Set {
	workflow := obj.(*vitess.VitessWorkflow)
	return fields.Set{
		"spec.cluster":        workflow.Spec.Cluster,
		"spec.targetKeyspace": workflow.Spec.TargetKeyspace,
		"spec.type":           string(workflow.Spec.Type),
		"status.phase":        string(workflow.Status.Phase),
	}
}
