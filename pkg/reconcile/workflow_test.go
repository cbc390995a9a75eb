package reconcile

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

// An action's outcome clears the pending action only while it is still the same request: a newer
// one, accepted meanwhile, is never dropped unseen.
func TestRecordClearsOnlyTheSameRequest(t *testing.T) {
	done := &v1alpha1.VitessWorkflowPendingAction{Action: "switchreads", TabletTypes: []string{"rdonly"}, ID: "first"}
	round := &workflowRound{Reconciler: &Reconciler{events: events.NewFakeRecorder(10)}, workflow: &v1alpha1.VitessWorkflow{}}
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
