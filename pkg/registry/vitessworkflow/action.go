package vitessworkflow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// NewActions returns the workflow's action subresources, keyed by subresource name. They read
// workflows from workflows, record what they start through status (vitessworkflows/status) and
// reach Vitess through the vtctld of the workflow's cluster.
func NewActions(workflows rest.Getter, status rest.Updater, vtctlds registry.Vtctlds, recorder events.EventRecorder) map[string]rest.Storage {
	a := &actions{workflows: workflows, status: status, vtctlds: vtctlds, events: recorder}
	return map[string]rest.Storage{
		vitess.ActionSwitchReads:    &SwitchReadsREST{actions: a},
		vitess.ActionSwitchWrites:   &SwitchWritesREST{actions: a},
		vitess.ActionReverseTraffic: &ReverseTrafficREST{actions: a},
		vitess.ActionComplete:       &CompleteREST{actions: a},
		vitess.ActionCancel:         &CancelREST{actions: a},
		vitess.ActionVDiff:          &VDiffREST{actions: a},
	}
}

// actions is what every action subresource shares.
type actions struct {
	workflows rest.Getter
	status    rest.Updater
	vtctlds   registry.Vtctlds
	events    events.EventRecorder
}

// action is one action on a workflow. Vitess is asked first, in a dry run, whether it would
// accept it now, so a refusal comes back to the user at once as 409 with Vitess' reason; then
// the action is recorded as the workflow's pendingAction and the reconcile loop carries it out,
// since a traffic switch or cleanup may take longer than a request may.
type action struct {
	// name is the subresource, reason the Events' reason prefix (SwitchReads...).
	name, reason string
	// tabletTypes the action moves traffic for; defaultTypes picks them from the workflow's
	// state when the request names none.
	tabletTypes  []string
	defaultTypes func(status *vitess.VitessWorkflowStatus) []string
	// refuse says why the workflow's mirrored state rules the action out, or "".
	refuse func(status *vitess.VitessWorkflowStatus) string
	// check asks Vitess, in a dry run, what the action would do.
	check func(ctx context.Context, client *vtctld.Client, workflow *vitess.VitessWorkflow, tabletTypes []string) (string, error)
	// now, when set, does the whole action during the request instead, and returns how to record
	// it in the status.
	now func(ctx context.Context, client *vtctld.Client, workflow *vitess.VitessWorkflow) (string, func(*vitess.VitessWorkflowStatus), error)
}

func (a *actions) run(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions, act action) (runtime.Object, error) {
	if err := registry.AdmitAction(ctx, "VitessWorkflow", name, obj, createValidation); err != nil {
		return nil, err
	}
	got, err := a.workflows.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	workflow := got.(*vitess.VitessWorkflow)
	conflict := func(format string, args ...any) error {
		return apierrors.NewConflict(vitess.Resource("vitessworkflows"), name, fmt.Errorf(format, args...))
	}
	status := &workflow.Status
	switch {
	case status.Phase == vitess.WorkflowPhaseCompleted || status.Phase == vitess.WorkflowPhaseCancelled:
		return nil, conflict("the workflow is %s", strings.ToLower(string(status.Phase)))
	case !meta.IsStatusConditionTrue(status.Conditions, v1alpha1.ConditionCreated):
		return nil, conflict("the workflow is not created in Vitess yet; see its %s condition", v1alpha1.ConditionCreated)
	case status.PendingAction != nil:
		return nil, conflict("%s, requested by %s at %s, is still being carried out", status.PendingAction.Action,
			status.PendingAction.RequestedBy, status.PendingAction.RequestedAt.UTC().Format(time.RFC3339))
	}
	if act.refuse != nil {
		if reason := act.refuse(status); reason != "" {
			return nil, conflict("%s", reason)
		}
	}
	if act.tabletTypes == nil && act.defaultTypes != nil {
		act.tabletTypes = act.defaultTypes(status)
	}
	client, err := a.vtctlds.Vtctld(ctx, workflow.Namespace, workflow.Spec.Cluster)
	if err != nil {
		return nil, err
	}
	dryRun := len(options.DryRun) > 0
	checkCtx, cancel := context.WithTimeout(ctx, registry.CheckTimeout)
	defer cancel()
	var summary string
	if act.check != nil {
		if summary, err = act.check(checkCtx, client.WithTimeout(registry.CheckTimeout), workflow, act.tabletTypes); err != nil {
			return nil, vtctld.RefusalError(err, fmt.Sprintf("%s of workflow %s", act.name, name))
		}
	}
	if dryRun {
		return workflow, nil
	}
	record := func(status *vitess.VitessWorkflowStatus) {
		status.PendingAction = &vitess.VitessWorkflowPendingAction{
			Action: act.name, TabletTypes: act.tabletTypes, RequestedBy: registry.Requester(ctx), RequestedAt: metav1.Now(),
			ID: string(uuid.NewUUID()),
		}
	}
	if act.now != nil {
		if summary, record, err = act.now(checkCtx, client.WithTimeout(registry.CheckTimeout), workflow); err != nil {
			return nil, vtctld.RefusalError(err, fmt.Sprintf("%s of workflow %s", act.name, name))
		}
	}
	// The reconcile loop writes the status too (it mirrors Vitess every few seconds): write on
	// the latest version rather than fail the user's request over that.
	var stored runtime.Object
	var pending *vitess.VitessWorkflowPendingAction
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		latest, err := a.workflows.Get(ctx, name, &metav1.GetOptions{})
		if err != nil {
			return err
		}
		updated := latest.(*vitess.VitessWorkflow).DeepCopy()
		if pending = updated.Status.PendingAction; pending != nil {
			return nil // another request's action came first: not a write to retry
		}
		record(&updated.Status)
		stored, _, err = a.status.Update(ctx, name, rest.DefaultUpdatedObjectInfo(updated), nil, nil, false, &metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return nil, err
	}
	if pending != nil {
		return nil, conflict("%s, requested by %s, is being carried out", pending.Action, pending.RequestedBy)
	}
	a.events.Eventf(registry.Reference("VitessWorkflow", workflow), nil, corev1.EventTypeNormal, act.reason+"Requested", act.reason,
		"%s requested %s: %s", registry.Requester(ctx), act.name, summary)
	return stored, nil
}

// tabletTypes is the request's tablet types, lower-cased, or the defaults when it has none; a
// type outside allowed is invalid.
func tabletTypes(kind, name string, requested, allowed, defaults []string) ([]string, error) {
	if len(requested) == 0 {
		return defaults, nil
	}
	var errs field.ErrorList
	types := make([]string, 0, len(requested))
	for i, t := range requested {
		t = strings.ToLower(t)
		if !slices.Contains(allowed, t) {
			errs = append(errs, field.NotSupported(field.NewPath("tabletTypes").Index(i), t, allowed))
		}
		types = append(types, t)
	}
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(vitess.Kind(kind), name, errs)
	}
	return types, nil
}

// readsSwitched tells whether the target serves reads of every type in types.
func readsSwitched(status *vitess.VitessWorkflowStatus, types ...string) bool {
	for _, t := range types {
		if !slices.Contains(status.ReadsSwitched, t) {
			return false
		}
	}
	return true
}

// switchTraffic is the dry run of a traffic switch.
func switchTraffic(reverse bool) func(context.Context, *vtctld.Client, *vitess.VitessWorkflow, []string) (string, error) {
	return func(ctx context.Context, client *vtctld.Client, workflow *vitess.VitessWorkflow, types []string) (string, error) {
		return client.SwitchTraffic(ctx, vtctld.Switch{
			Keyspace: workflow.Spec.TargetKeyspace, Workflow: workflow.Name, TabletTypes: types, Reverse: reverse, DryRun: true,
		})
	}
}
