package workflow

import (
	"testing"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objectstest"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// An action's outcome clears the pending action only while it is still the same request: a newer
// one, accepted meanwhile, is never dropped unseen.
func TestRecordClearsOnlyTheSameRequest(t *testing.T) {
	done := &v1alpha1.VitessWorkflowPendingAction{Action: "switchreads", TabletTypes: []string{"rdonly"}, ID: "first"}
	round := &workflowRound{Controller: &Controller{clients: &objects.Clients{Events: events.NewFakeRecorder(10)}}, workflow: &v1alpha1.VitessWorkflow{}}
	round.record(done, "switched", nil)

	newer := &v1alpha1.VitessWorkflowPendingAction{Action: "switchreads", TabletTypes: []string{"replica"}, ID: "second"}
	status := v1alpha1.VitessWorkflowStatus{PendingAction: newer.DeepCopy()}
	for _, change := range round.changes {
		change(&status)
	}
	if status.PendingAction == nil || status.PendingAction.ID != "second" {
		t.Errorf("recording the first request's outcome left pending action %+v, want the second request", status.PendingAction)
	}

	status = v1alpha1.VitessWorkflowStatus{PendingAction: done.DeepCopy()}
	status.PendingAction.StartedAt = &metav1.Time{}
	for _, change := range round.changes {
		change(&status)
	}
	if status.PendingAction != nil {
		t.Errorf("recording a request's outcome left it pending: %+v", status.PendingAction)
	}
}

// An action is claimed in the stored status before Vitess is asked, and only by one round: not
// when the stored request is another one, not when someone claimed it first (another leader), and
// not once the workflow has finished.
func TestClaimIsOncePerRequest(t *testing.T) {
	stored := func(pending *v1alpha1.VitessWorkflowPendingAction, phase v1alpha1.VitessWorkflowPhase) *v1alpha1.VitessWorkflow {
		return &v1alpha1.VitessWorkflow{
			ObjectMeta: metav1.ObjectMeta{Name: "commerce2customer", Namespace: "example", UID: "workflow-uid"},
			Status:     v1alpha1.VitessWorkflowStatus{Phase: phase, PendingAction: pending},
		}
	}
	request := &v1alpha1.VitessWorkflowPendingAction{Action: vitess.ActionSwitchWrites, TabletTypes: []string{"primary"}, ID: "request-1"}
	claimedBefore := request.DeepCopy()
	claimedBefore.StartedAt = &metav1.Time{Time: time.Now().Add(-time.Second).Truncate(time.Second)}
	other := request.DeepCopy()
	other.ID = "request-2"
	for _, tc := range []struct {
		name     string
		workflow *v1alpha1.VitessWorkflow
		claims   bool
	}{
		{name: "the pending request, unclaimed", workflow: stored(request, v1alpha1.WorkflowPhaseRunning), claims: true},
		{name: "claimed by another round", workflow: stored(claimedBefore, v1alpha1.WorkflowPhaseRunning)},
		{name: "another request pending", workflow: stored(other, v1alpha1.WorkflowPhaseRunning)},
		{name: "the workflow is complete", workflow: stored(request, v1alpha1.WorkflowPhaseCompleted)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakes := objectstest.New([]runtime.Object{tc.workflow}, nil)
			c := New(fakes.Vitess, fakes.Clients, fakes.Kinds, fakes.Informers.Vitess.Vitess().V1alpha1().VitessClusters().Lister(),
				topology.New(func(string) {}, func(string) {}), topology.VtctldAddresses{})
			fakes.Sync(t)
			round := &workflowRound{Controller: c, workflow: tc.workflow}
			claimed, err := round.claim(t.Context(), request)
			if err != nil || claimed != tc.claims {
				t.Fatalf("claim = %v, %v; want %v", claimed, err, tc.claims)
			}
			latest, err := fakes.Vitess.VitessV1alpha1().VitessWorkflows("example").Get(t.Context(), "commerce2customer", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			startedAt := latest.Status.PendingAction.StartedAt
			switch {
			case tc.claims && startedAt == nil:
				t.Error("the claim was not written to the stored status")
			case !tc.claims && !apiequality.Semantic.DeepEqual(latest.Status, tc.workflow.Status):
				t.Errorf("a refused claim changed the stored status to %+v", latest.Status)
			}
		})
	}
}

// A workflow found in Vitess under a claimed name is taken as created only when its creation ran
// to the end, which Vitess marks by starting its streams last; one cut short before that is made
// anew, unless it serves traffic.
func TestCreationFinished(t *testing.T) {
	running := vtctld.Stream{State: "Running"}
	copying := vtctld.Stream{State: "Copying"}
	neverStarted := vtctld.Stream{State: "Stopped"}
	stoppedAfterCopy := vtctld.Stream{State: "Stopped", Message: "Stopped after copy."}
	const notSwitched = "Reads Not Switched. Writes Not Switched"
	for _, tc := range []struct {
		name      string
		state     vtctld.WorkflowState
		autoStart bool
		want      bool
	}{
		{"every stream started", vtctld.WorkflowState{Streams: []vtctld.Stream{running, copying}, TrafficState: notSwitched}, true, true},
		{"a stream never started", vtctld.WorkflowState{Streams: []vtctld.Stream{running, neverStarted}, TrafficState: notSwitched}, true, false},
		{"no streams", vtctld.WorkflowState{TrafficState: notSwitched}, true, false},
		{"stopped after its copy", vtctld.WorkflowState{Streams: []vtctld.Stream{stoppedAfterCopy}, TrafficState: notSwitched}, true, true},
		{"not to be started", vtctld.WorkflowState{Streams: []vtctld.Stream{neverStarted}, TrafficState: notSwitched}, false, false},
		{"reads switched", vtctld.WorkflowState{Streams: []vtctld.Stream{neverStarted}, TrafficState: "All Reads Switched. Writes Not Switched"}, true, true},
		{"writes switched", vtctld.WorkflowState{Streams: []vtctld.Stream{neverStarted}, TrafficState: "All Reads Switched. Writes Switched"}, false, true},
	} {
		if got := creationFinished(&tc.state, tc.autoStart); got != tc.want {
			t.Errorf("%s: creationFinished = %t, want %t", tc.name, got, tc.want)
		}
	}
}

// Vitess counts rows only during a copy: no count is a finished copy, except while a stream is yet
// to begin its copy, which must not read 100%.
func TestCopyProgress(t *testing.T) {
	for _, tc := range []struct {
		name  string
		phase v1alpha1.VitessWorkflowPhase
		state vtctld.WorkflowState
		want  string
	}{
		{"copying", v1alpha1.WorkflowPhaseCopying, vtctld.WorkflowState{RowsCopied: 250, RowsTotal: 1000}, "25%"},
		{"copy not begun", v1alpha1.WorkflowPhaseCopying, vtctld.WorkflowState{}, "0%"},
		{"copy over", v1alpha1.WorkflowPhaseRunning, vtctld.WorkflowState{}, "100%"},
		{"estimate short of the rows", v1alpha1.WorkflowPhaseCopying, vtctld.WorkflowState{RowsCopied: 1200, RowsTotal: 1000}, "100%"},
	} {
		if got := copyProgress(tc.phase, &tc.state); got != tc.want {
			t.Errorf("%s: copyProgress = %q, want %q", tc.name, got, tc.want)
		}
	}
}
