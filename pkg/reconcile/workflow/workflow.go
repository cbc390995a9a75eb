package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// The reconciler creates each VitessWorkflow in Vitess, carries out the action its subresources
// recorded as pendingAction, and mirrors the workflow's state (streams, copy progress, lag,
// traffic, the last VDiff) into its status. All of it runs in the background, one workflow at a
// time per workflow, so a slow or unreachable vtctld never holds a worker.

const (
	// workflowActivePoll is how often a workflow is read while something moves: a VDiff, an
	// action. workflowCopyPoll during the copy, workflowPoll otherwise.
	workflowActivePoll = 2 * time.Second
	// workflowCopyPoll is less often: each reading of a copying workflow queries every source and
	// target primary (copy state, table sizes) on the tablets doing the copy, which lasts minutes
	// to hours and needs no finer progress.
	workflowCopyPoll = 5 * time.Second
	workflowPoll     = 10 * time.Second
	// workflowRetry is when a failed creation is tried again.
	workflowRetry = 15 * time.Second
	// workflowActionTimeout bounds an action in Vitess: a traffic switch waits up to 30 s for
	// the target to catch up.
	workflowActionTimeout = 90 * time.Second
	// vdiffTimeLayout is how VDiff reports times (UTC).
	vdiffTimeLayout = "2006-01-02 15:04:05"
)

func (c *Controller) reconcile(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	workflow, err := c.Workflows.Get(namespace, name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	held := slices.Contains(workflow.Finalizers, vitess.FinalizerWorkflow)
	switch {
	case workflow.DeletionTimestamp == nil && !held && !finished(workflow):
		// Deleting it must stop what it runs in Vitess: hold it until the loop has.
		updated := workflow.DeepCopy()
		updated.Finalizers = append(updated.Finalizers, vitess.FinalizerWorkflow)
		_, err := c.Workflows.Update(ctx, updated)
		return err
	case workflow.DeletionTimestamp != nil && !held:
		return nil
	case workflow.DeletionTimestamp != nil && finished(workflow) && workflow.Status.PendingAction == nil:
		return c.releaseWorkflow(ctx, workflow)
	case workflow.DeletionTimestamp == nil && finished(workflow) && workflow.Status.PendingAction == nil:
		return nil
	}
	cluster, err := c.clusters.VitessClusters(namespace).Get(workflow.Spec.Cluster)
	if apierrors.IsNotFound(err) && workflow.DeletionTimestamp != nil {
		return c.releaseWorkflow(ctx, workflow) // its Vitess went with the cluster
	}
	if apierrors.IsNotFound(err) {
		// Its cluster's creation enqueues the workflow again.
		return c.Workflows.UpdateStatus(ctx, workflow, func(updated *v1alpha1.VitessWorkflow) {
			objects.SetCondition(&updated.Status.Conditions, updated.Generation, v1alpha1.ConditionReady, false, "ClusterNotFound",
				fmt.Sprintf("VitessCluster %s does not exist", workflow.Spec.Cluster))
		})
	}
	if err != nil {
		return err
	}
	c.background.Go(ctx, key, func(ctx context.Context) {
		next := c.followWorkflow(ctx, workflow.DeepCopy(), c.addresses.Of(cluster))
		c.queue.AddAfter(key, next)
	})
	return nil
}

// releaseWorkflow removes the loop's finalizer from a deleted workflow.
func (c *Controller) releaseWorkflow(ctx context.Context, workflow *v1alpha1.VitessWorkflow) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		latest, err := c.client.VitessV1alpha1().VitessWorkflows(workflow.Namespace).Get(ctx, workflow.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || (err == nil && latest.UID != workflow.UID) {
			return nil
		}
		if err != nil {
			return err
		}
		released := latest.DeepCopy()
		released.Finalizers = slices.DeleteFunc(released.Finalizers, func(f string) bool { return f == vitess.FinalizerWorkflow })
		_, err = c.Workflows.Update(ctx, released)
		return err
	})
}

func finished(workflow *v1alpha1.VitessWorkflow) bool {
	return workflow.Status.Phase == v1alpha1.WorkflowPhaseCompleted || workflow.Status.Phase == v1alpha1.WorkflowPhaseCancelled
}

// followWorkflow does one round of a workflow's work and writes what it saw; it returns when the
// next round is due.
func (c *Controller) followWorkflow(ctx context.Context, workflow *v1alpha1.VitessWorkflow, address string) time.Duration {
	ctx, cancel := context.WithTimeout(ctx, workflowActionTimeout+2*topology.CallTimeout)
	defer cancel()
	client, err := c.topology.Client(address)
	if err != nil {
		klog.ErrorS(err, "vtctld client", "address", address)
		return workflowRetry
	}
	w := &workflowRound{Controller: c, vtctld: client, workflow: workflow, next: workflowPoll}
	w.run(ctx)
	// The status is written with retries on conflict, re-applying this round's changes to the
	// latest object: an action must never be carried out twice because a write lost a race.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		latest, err := c.client.VitessV1alpha1().VitessWorkflows(workflow.Namespace).Get(ctx, workflow.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		return c.Workflows.UpdateStatus(ctx, latest, func(updated *v1alpha1.VitessWorkflow) {
			for _, change := range w.changes {
				change(&updated.Status)
			}
			updated.Status.ObservedGeneration = updated.Generation
		})
	})
	if err != nil && !apierrors.IsNotFound(err) {
		klog.ErrorS(err, "Writing the status of a workflow", "workflow", workflow.Namespace+"/"+workflow.Name)
		return workflowActivePoll
	}
	return w.next
}

// workflowRound is one round of a workflow: what it found is kept as changes to the status.
type workflowRound struct {
	*Controller
	vtctld   *vtctld.Client
	workflow *v1alpha1.VitessWorkflow
	changes  []func(*v1alpha1.VitessWorkflowStatus)
	next     time.Duration
}

func (w *workflowRound) change(f func(*v1alpha1.VitessWorkflowStatus)) {
	w.changes = append(w.changes, f)
}

func (w *workflowRound) setCondition(conditionType string, value bool, reason, message string) {
	generation := w.workflow.Generation
	w.change(func(s *v1alpha1.VitessWorkflowStatus) {
		objects.SetCondition(&s.Conditions, generation, conditionType, value, reason, message)
	})
}

// unreachable is the condition message while vtctld does not answer. It leaves out the error's
// details (a refused connection, a failed lookup, a timeout), which vary from one attempt to the
// next and would rewrite the status each time; the Events carry them.
func (w *workflowRound) unreachable() string {
	return fmt.Sprintf("vtctld at %s is unreachable; retrying", w.vtctld.Address())
}

func (w *workflowRound) event(eventType, reason, action, format string, args ...any) {
	w.clients.Events.Eventf(w.workflow, nil, eventType, reason, action, format, args...)
}

func (w *workflowRound) run(ctx context.Context) {
	status := &w.workflow.Status
	if w.workflow.DeletionTimestamp != nil && status.PendingAction == nil {
		w.stopForDeletion(ctx)
		return
	}
	if !meta.IsStatusConditionTrue(status.Conditions, v1alpha1.ConditionCreated) && !w.create(ctx) {
		return
	}
	if status.PendingAction != nil {
		w.act(ctx, status.PendingAction)
		return // the next round, soon, reads the outcome
	}
	if !finished(w.workflow) {
		w.observe(ctx)
	}
}

// reasonCreating is the Created condition's reason once the loop has found the name free in Vitess
// and is creating the workflow: from then on a workflow of that name in Vitess is this object's.
const reasonCreating = "Creating"

// madeInVitess tells whether the loop created, or set out to create, the object's workflow in
// Vitess (a workflow of the same name it found there is not the object's).
func madeInVitess(workflow *v1alpha1.VitessWorkflow) bool {
	created := meta.FindStatusCondition(workflow.Status.Conditions, v1alpha1.ConditionCreated)
	return created != nil && (created.Status == metav1.ConditionTrue || created.Reason == reasonCreating)
}

// stopForDeletion cancels in Vitess the workflow a deleted object made, then lets the object go.
// One whose writes moved to the target is not cancelled, since that would delete the data that
// serves them: the object waits, and says so, until the workflow is completed or reversed.
func (w *workflowRound) stopForDeletion(ctx context.Context) {
	keyspace, name := w.workflow.Spec.TargetKeyspace, w.workflow.Name
	if madeInVitess(w.workflow) && !finished(w.workflow) {
		state, err := w.vtctld.Workflow(ctx, keyspace, name)
		switch {
		case errors.Is(err, vtctld.ErrWorkflowNotFound):
		case err != nil:
			w.setCondition(v1alpha1.ConditionReady, false, "VtctldUnreachable", w.unreachable())
			w.next = workflowRetry
			return
		case vtctld.WritesSwitched(state.TrafficState):
			message := "deleted, but writes are switched to the target: complete the workflow or reverse its traffic, and it goes"
			if previous := meta.FindStatusCondition(w.workflow.Status.Conditions, v1alpha1.ConditionReady); previous == nil || previous.Message != message {
				w.event(corev1.EventTypeWarning, "DeletionBlocked", "Delete", "%s", message)
			}
			w.setCondition(v1alpha1.ConditionReady, false, "DeletionBlocked", message)
			w.next = workflowRetry
			return
		default:
			summary, err := w.vtctld.WithTimeout(workflowActionTimeout).CancelWorkflow(ctx, keyspace, name)
			if err != nil {
				w.event(corev1.EventTypeWarning, "CancelFailed", "Delete", "cancelling deleted workflow %s in Vitess: %v", name, err)
				w.next = workflowRetry
				return
			}
			w.event(corev1.EventTypeNormal, "CancelledOnDeletion", "Delete", "the VitessWorkflow was deleted: cancelled it in Vitess: %s", summary)
		}
	}
	if err := w.releaseWorkflow(ctx, w.workflow); err != nil {
		klog.ErrorS(err, "Releasing a deleted workflow", "workflow", w.workflow.Namespace+"/"+name)
		w.next = workflowRetry
	}
}

// create creates the workflow in Vitess and tells whether it exists there now. Before the first
// attempt it makes sure Vitess has no workflow of that name (one made for another object, or by
// hand, is never taken for this object's) and records that it is creating it: from then on the
// name is the object's, through failed attempts too, since an attempt that failed may have made
// part of the workflow.
func (w *workflowRound) create(ctx context.Context) bool {
	if !madeInVitess(w.workflow) && !w.claimName(ctx) {
		return false
	}
	spec := w.workflow.Spec
	options := vtctld.WorkflowOptions{
		Cells: spec.Cells, TabletTypes: spec.TabletTypes, OnDDL: spec.OnDDL, StopAfterCopy: spec.StopAfterCopy,
		DeferSecondaryKeys: ptr.Deref(spec.DeferSecondaryKeys, false), AutoStart: ptr.Deref(spec.AutoStart, true),
	}
	client := w.vtctld.WithTimeout(workflowActionTimeout)
	var err error
	switch spec.Type {
	case v1alpha1.WorkflowTypeMoveTables:
		err = client.CreateMoveTables(ctx, vtctld.MoveTables{Workflow: w.workflow.Name, TargetKeyspace: spec.TargetKeyspace,
			SourceKeyspace: spec.SourceKeyspace, Tables: spec.Tables, AllTables: spec.AllTables, WorkflowOptions: options})
	case v1alpha1.WorkflowTypeReshard:
		err = client.CreateReshard(ctx, vtctld.Reshard{Workflow: w.workflow.Name, Keyspace: spec.TargetKeyspace,
			SourceShards: spec.SourceShards, TargetShards: spec.TargetShards, WorkflowOptions: options})
	default:
		err = fmt.Errorf("unknown workflow type %q", spec.Type)
	}
	if err != nil && (!vtctld.IsUnavailable(err) || vtctld.IsOutcomeUnknown(err)) {
		// Vitess refuses the name of a workflow an earlier attempt made, and an attempt that
		// reached vtctld can fail, or be cut short (a connection that drops, a leader that dies
		// mid-call, cancels it in vtctld), after making part of one.
		switch made, finished, readErr := w.earlierAttempt(ctx, options.AutoStart); {
		case readErr != nil || !made:
		case finished:
			err = nil
		default:
			w.removeUnfinished(ctx, err)
			return false
		}
	}
	if err != nil {
		reason, message := "CreateFailed", err.Error()
		if vtctld.IsUnavailable(err) {
			reason, message = "VtctldUnreachable", w.unreachable()
		}
		message = "creating the workflow in Vitess; the last attempt failed: " + message
		previous := meta.FindStatusCondition(w.workflow.Status.Conditions, v1alpha1.ConditionCreated)
		if previous == nil || previous.Message != message {
			w.event(corev1.EventTypeWarning, reason, "Create", "creating %s workflow %s in Vitess: %v", spec.Type, w.workflow.Name, err)
		}
		w.setCondition(v1alpha1.ConditionCreated, false, reasonCreating, message)
		w.setCondition(v1alpha1.ConditionReady, false, reason, "the workflow is not created in Vitess")
		w.change(func(s *v1alpha1.VitessWorkflowStatus) { s.Phase = v1alpha1.WorkflowPhasePending })
		w.next = workflowRetry
		return false
	}
	w.event(corev1.EventTypeNormal, "Created", "Create", "created %s workflow %s in Vitess", spec.Type, w.workflow.Name)
	w.setCondition(v1alpha1.ConditionCreated, true, "InVitess", "the workflow exists in Vitess")
	w.next = workflowActivePoll
	return true
}

// earlierAttempt tells whether Vitess has the workflow, which the claimed name makes this
// object's, and whether its creation ran to the end: Vitess starts a workflow's streams last.
// One whose streams were not to start cannot be told from one cut short, and counts as
// unfinished. One that serves any traffic counts as finished, whatever its streams say.
func (w *workflowRound) earlierAttempt(ctx context.Context, autoStart bool) (made, finished bool, err error) {
	state, err := w.vtctld.Workflow(ctx, w.workflow.Spec.TargetKeyspace, w.workflow.Name)
	if errors.Is(err, vtctld.ErrWorkflowNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	return true, creationFinished(state, autoStart), nil
}

// creationFinished tells, by what Vitess shows, whether a workflow's creation ran to the end.
func creationFinished(state *vtctld.WorkflowState, autoStart bool) bool {
	if len(vtctld.ReadsSwitched(state.TrafficState)) > 0 || vtctld.WritesSwitched(state.TrafficState) {
		return true
	}
	if !autoStart || len(state.Streams) == 0 {
		return false
	}
	return !slices.ContainsFunc(state.Streams, func(s vtctld.Stream) bool {
		// A stream is created Stopped and started at the end; one stopped by StopAfterCopy says so.
		return s.State == "Stopped" && !strings.Contains(s.Message, "after copy")
	})
}

// removeUnfinished deletes in Vitess what an unfinished creation of this object's workflow made,
// as Vitess itself cleans up after a creation that fails, so that the next round makes it anew.
func (w *workflowRound) removeUnfinished(ctx context.Context, createErr error) {
	spec := w.workflow.Spec
	w.next = workflowActivePoll
	summary, err := w.vtctld.WithTimeout(workflowActionTimeout).CancelWorkflow(ctx, spec.TargetKeyspace, w.workflow.Name)
	if err != nil {
		w.event(corev1.EventTypeWarning, "CreateFailed", "Create", "removing the unfinished %s workflow %s from Vitess to create it again: %v", spec.Type, w.workflow.Name, err)
		w.setCondition(v1alpha1.ConditionReady, false, "CreateFailed", fmt.Sprintf("the workflow is only partly created in Vitess and could not be removed to be created again: %v", err))
		w.next = workflowRetry
		return
	}
	w.event(corev1.EventTypeWarning, "UnfinishedCreationRemoved", "Create",
		"an earlier attempt left %s workflow %s partly created in Vitess (%v); removed it to create it again: %s", spec.Type, w.workflow.Name, createErr, summary)
	w.setCondition(v1alpha1.ConditionReady, false, "UnfinishedCreationRemoved", "an earlier attempt left the workflow partly created in Vitess; creating it again")
}

// claimName checks that Vitess has no workflow of the object's name and records, before the
// first creation attempt, that the loop is creating it. False: not now (the next round says why).
func (w *workflowRound) claimName(ctx context.Context) bool {
	_, err := w.vtctld.Workflow(ctx, w.workflow.Spec.TargetKeyspace, w.workflow.Name)
	switch {
	case errors.Is(err, vtctld.ErrWorkflowNotFound):
	case err != nil:
		reason, message := "ReadFailed", err.Error()
		if vtctld.IsUnavailable(err) {
			reason, message = "VtctldUnreachable", w.unreachable()
		}
		w.setCondition(v1alpha1.ConditionCreated, false, reason, message)
		w.next = workflowRetry
		return false
	default:
		message := fmt.Sprintf("keyspace %s already has a workflow named %s that was not made for this object: delete it in Vitess, or name this one otherwise",
			w.workflow.Spec.TargetKeyspace, w.workflow.Name)
		w.setCondition(v1alpha1.ConditionCreated, false, "NameTaken", message)
		w.setCondition(v1alpha1.ConditionReady, false, "NameTaken", message)
		w.next = workflowRetry
		return false
	}
	generation := w.workflow.Generation
	claimed, err := w.updateStatusNow(ctx, func(latest *v1alpha1.VitessWorkflow) bool {
		if madeInVitess(latest) {
			return false
		}
		objects.SetCondition(&latest.Status.Conditions, generation, v1alpha1.ConditionCreated, false, reasonCreating, "creating the workflow in Vitess")
		return true
	})
	return err == nil && claimed
}

// updateStatusNow writes the status on the latest object at once, when change says it changed
// it, and tells whether it wrote. A conflict is no error: the next round looks again.
func (w *workflowRound) updateStatusNow(ctx context.Context, change func(latest *v1alpha1.VitessWorkflow) bool) (bool, error) {
	workflows := w.client.VitessV1alpha1().VitessWorkflows(w.workflow.Namespace)
	latest, err := workflows.Get(ctx, w.workflow.Name, metav1.GetOptions{})
	if err != nil || latest.UID != w.workflow.UID {
		return false, err
	}
	updated := latest.DeepCopy()
	if !change(updated) {
		return false, nil
	}
	if _, err := workflows.UpdateStatus(ctx, updated, metav1.UpdateOptions{FieldManager: objects.FieldManager}); err != nil {
		if apierrors.IsConflict(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// actionConditions are the condition types that record each action's outcome.
var actionConditions = map[string]string{
	vitess.ActionSwitchReads: "SwitchReads", vitess.ActionSwitchWrites: "SwitchWrites", vitess.ActionReverseTraffic: "ReverseTraffic",
	vitess.ActionComplete: "Complete", vitess.ActionCancel: "Cancel",
}

// act carries out an action a subresource recorded, exactly once: it is claimed in the status
// (StartedAt) before Vitess is asked, and one found claimed but without an outcome (its leader
// went away mid-call) is asked again only once Vitess shows no effect of it and the earlier call
// must have ended.
func (w *workflowRound) act(ctx context.Context, pending *v1alpha1.VitessWorkflowPendingAction) {
	w.next = workflowActivePoll
	if pending.StartedAt != nil {
		done, err := w.tookEffect(ctx, pending)
		switch {
		case err != nil:
			w.setCondition(v1alpha1.ConditionReady, false, "VtctldUnreachable", w.unreachable())
			return
		case done:
			w.record(pending, "carried out (its answer was lost when the loop's leader changed)", nil)
			return
		case time.Since(pending.StartedAt.Time) < workflowActionTimeout+2*topology.CallTimeout:
			return // the call may still be under way in Vitess
		}
	}
	claimed, err := w.claim(ctx, pending)
	if err != nil || !claimed {
		return // the next round sees what changed
	}
	keyspace, name := w.workflow.Spec.TargetKeyspace, w.workflow.Name
	client := w.vtctld.WithTimeout(workflowActionTimeout)
	var summary string
	switch pending.Action {
	case vitess.ActionSwitchReads, vitess.ActionSwitchWrites, vitess.ActionReverseTraffic:
		summary, err = client.SwitchTraffic(ctx, vtctld.Switch{Keyspace: keyspace, Workflow: name, TabletTypes: pending.TabletTypes,
			Reverse: pending.Action == vitess.ActionReverseTraffic})
	case vitess.ActionComplete:
		summary, err = client.CompleteWorkflow(ctx, keyspace, name, false)
	case vitess.ActionCancel:
		summary, err = client.CancelWorkflow(ctx, keyspace, name)
	default:
		err = fmt.Errorf("unknown action %q", pending.Action)
	}
	switch {
	case vtctld.IsOutcomeUnknown(err):
		// Vitess had it and did not answer: the next rounds look for its effect.
		w.setCondition(v1alpha1.ConditionReady, false, "ActionOutcomeUnknown",
			fmt.Sprintf("%s reached vtctld without an answer; waiting to see its effect", pending.Action))
	case vtctld.IsUnavailable(err):
		// It never reached Vitess: give up the claim, and the next round tries again.
		w.change(func(s *v1alpha1.VitessWorkflowStatus) {
			if s.PendingAction != nil && s.PendingAction.ID == pending.ID {
				s.PendingAction.StartedAt = nil
			}
		})
		w.setCondition(v1alpha1.ConditionReady, false, "VtctldUnreachable", w.unreachable())
	default:
		w.record(pending, summary, err)
	}
}

// record writes an action's outcome and clears it, if it is still the pending one.
func (w *workflowRound) record(pending *v1alpha1.VitessWorkflowPendingAction, summary string, err error) {
	conditionType := actionConditions[pending.Action]
	w.change(func(s *v1alpha1.VitessWorkflowStatus) {
		if s.PendingAction != nil && s.PendingAction.ID == pending.ID {
			s.PendingAction = nil
		}
	})
	if err != nil {
		w.event(corev1.EventTypeWarning, conditionType+"Failed", conditionType, "%s requested by %s failed: %v", pending.Action, pending.RequestedBy, err)
		w.setCondition(conditionType, false, "Failed", err.Error())
		return
	}
	w.event(corev1.EventTypeNormal, conditionType+"Done", conditionType, "%s requested by %s done: %s", pending.Action, pending.RequestedBy, summary)
	w.setCondition(conditionType, true, "Done", summary)
	switch pending.Action {
	case vitess.ActionComplete:
		w.finish(v1alpha1.WorkflowPhaseCompleted, "the workflow is complete; its sources are cleaned up")
	case vitess.ActionCancel:
		w.finish(v1alpha1.WorkflowPhaseCancelled, "the workflow was cancelled and deleted in Vitess")
	}
}

// claim records in the status that this round carries out the pending action, before it asks
// Vitess; it says false when the action is no longer the pending one, or when the write lost a
// race (another writer, a former leader), and the next round looks again. It also re-checks the
// workflow's phase: a finished workflow takes no more actions.
func (w *workflowRound) claim(ctx context.Context, pending *v1alpha1.VitessWorkflowPendingAction) (bool, error) {
	return w.updateStatusNow(ctx, func(latest *v1alpha1.VitessWorkflow) bool {
		current := latest.Status.PendingAction
		if current == nil || current.ID != pending.ID || !apiequality.Semantic.DeepEqual(current.StartedAt, pending.StartedAt) {
			return false
		}
		if finished(latest) {
			w.record(pending, "", fmt.Errorf("the workflow is %s", strings.ToLower(string(latest.Status.Phase))))
			return false
		}
		current.StartedAt = ptr.To(metav1.Now())
		return true
	})
}

// tookEffect tells whether Vitess shows the effect of an action that was claimed earlier and
// whose outcome was not recorded.
func (w *workflowRound) tookEffect(ctx context.Context, pending *v1alpha1.VitessWorkflowPendingAction) (bool, error) {
	state, err := w.vtctld.Workflow(ctx, w.workflow.Spec.TargetKeyspace, w.workflow.Name)
	if errors.Is(err, vtctld.ErrWorkflowNotFound) {
		// Completed or cancelled: gone from Vitess. For a traffic switch that cannot be.
		return pending.Action == vitess.ActionComplete || pending.Action == vitess.ActionCancel, nil
	}
	if err != nil {
		return false, err
	}
	if len(pending.TabletTypes) == 0 {
		return false, nil // no types to look at: the effect cannot be told
	}
	reads, writes := vtctld.ReadsSwitched(state.TrafficState), vtctld.WritesSwitched(state.TrafficState)
	for _, tabletType := range pending.TabletTypes {
		switched := slices.Contains(reads, tabletType)
		if tabletType == "primary" {
			switched = writes
		}
		if switched == (pending.Action == vitess.ActionReverseTraffic) {
			return false, nil
		}
	}
	return pending.Action == vitess.ActionSwitchReads || pending.Action == vitess.ActionSwitchWrites || pending.Action == vitess.ActionReverseTraffic, nil
}

func (w *workflowRound) finish(phase v1alpha1.VitessWorkflowPhase, message string) {
	w.change(func(s *v1alpha1.VitessWorkflowStatus) {
		s.Phase, s.Streams, s.MaxReplicationLagSeconds = phase, nil, 0
	})
	w.setCondition(v1alpha1.ConditionReady, false, string(phase), message)
	w.setCondition(v1alpha1.ConditionProgressing, false, string(phase), message)
}

// observe mirrors the workflow's state in Vitess.
func (w *workflowRound) observe(ctx context.Context) {
	state, err := w.vtctld.Workflow(ctx, w.workflow.Spec.TargetKeyspace, w.workflow.Name)
	switch {
	case errors.Is(err, vtctld.ErrWorkflowNotFound):
		w.change(func(s *v1alpha1.VitessWorkflowStatus) { s.Phase = v1alpha1.WorkflowPhaseError })
		w.setCondition(v1alpha1.ConditionReady, false, "NotInVitess", "Vitess no longer has this workflow")
		return
	case vtctld.IsUnavailable(err):
		w.setCondition(v1alpha1.ConditionReady, false, "VtctldUnreachable", w.unreachable())
		w.next = workflowActivePoll
		return
	case err != nil:
		w.setCondition(v1alpha1.ConditionReady, false, "ReadFailed", err.Error())
		return
	}
	phase := streamsPhase(state.Streams)
	streams := make([]v1alpha1.VitessWorkflowStream, 0, len(state.Streams))
	for _, s := range state.Streams {
		streams = append(streams, v1alpha1.VitessWorkflowStream{ID: s.ID, Shard: s.Shard, SourceShard: s.SourceShard,
			Tablet: s.Tablet, State: s.State, Message: s.Message, RowsCopied: s.RowsCopied})
	}
	progress := copyProgress(phase, state)
	w.change(func(s *v1alpha1.VitessWorkflowStatus) {
		s.Phase, s.Streams, s.TrafficState = phase, streams, state.TrafficState
		s.ReadsSwitched, s.WritesSwitched = vtctld.ReadsSwitched(state.TrafficState), vtctld.WritesSwitched(state.TrafficState)
		s.CopyProgress, s.MaxReplicationLagSeconds = progress, state.MaxLagSeconds
	})
	w.setCondition(v1alpha1.ConditionReady, phase == v1alpha1.WorkflowPhaseRunning, string(phase), fmt.Sprintf("%d stream(s); %s", len(streams), state.TrafficState))
	w.setCondition(v1alpha1.ConditionProgressing, phase == v1alpha1.WorkflowPhaseCopying, string(phase), "copy "+progress)
	if phase == v1alpha1.WorkflowPhaseCopying {
		w.next = workflowCopyPoll
	}
	w.observeVDiff(ctx)
}

// copyProgress is the share of rows copied. Vitess counts rows only while a copy runs, so no
// count means the copy is over, unless a stream is yet to begin it.
func copyProgress(phase v1alpha1.VitessWorkflowPhase, state *vtctld.WorkflowState) string {
	switch {
	case state.RowsTotal > 0:
		return fmt.Sprintf("%d%%", min(100, state.RowsCopied*100/state.RowsTotal))
	case phase == v1alpha1.WorkflowPhaseCopying:
		return "0%"
	default:
		return "100%"
	}
}

// streamsPhase sums up the streams: any error wins, then copying, then running.
func streamsPhase(streams []vtctld.Stream) v1alpha1.VitessWorkflowPhase {
	phase := v1alpha1.WorkflowPhaseStopped
	for _, s := range streams {
		switch s.State {
		case "Error":
			return v1alpha1.WorkflowPhaseError
		case "Copying":
			phase = v1alpha1.WorkflowPhaseCopying
		case "Running":
			if phase != v1alpha1.WorkflowPhaseCopying {
				phase = v1alpha1.WorkflowPhaseRunning
			}
		}
	}
	return phase
}

// observeVDiff follows the last VDiff until it ends.
func (w *workflowRound) observeVDiff(ctx context.Context) {
	last := w.workflow.Status.LastVDiff
	if last == nil || last.State == "completed" || last.State == "error" {
		return
	}
	w.next = workflowActivePoll
	state, err := w.vtctld.VDiff(ctx, w.workflow.Spec.TargetKeyspace, w.workflow.Name, last.UUID)
	if err != nil {
		klog.V(2).InfoS("Reading a VDiff", "workflow", w.workflow.Namespace+"/"+w.workflow.Name, "uuid", last.UUID, "err", err)
		return
	}
	result := &v1alpha1.VitessWorkflowVDiff{UUID: last.UUID, State: state.State, HasMismatch: state.HasMismatch, RowsCompared: state.RowsCompared}
	if at, err := time.Parse(vdiffTimeLayout, state.CompletedAt); err == nil {
		result.CompletedAt = &metav1.Time{Time: at}
	}
	w.change(func(s *v1alpha1.VitessWorkflowStatus) {
		if s.LastVDiff != nil && s.LastVDiff.UUID == result.UUID {
			s.LastVDiff = result
		}
	})
	switch {
	case state.State == "error":
		w.event(corev1.EventTypeWarning, "VDiffFailed", "VDiff", "VDiff %s failed: %v", last.UUID, state.Errors)
	case state.State == "completed" && state.HasMismatch:
		w.event(corev1.EventTypeWarning, "VDiffMismatch", "VDiff", "VDiff %s found differences after comparing %d rows", last.UUID, state.RowsCompared)
	case state.State == "completed":
		w.event(corev1.EventTypeNormal, "VDiffClean", "VDiff", "VDiff %s compared %d rows: no differences", last.UUID, state.RowsCompared)
	}
}
