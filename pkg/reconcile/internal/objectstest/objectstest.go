// Package objectstest runs a controller's decision logic against the generated fake clientsets,
// as Kubernetes' own controllers are unit-tested.
package objectstest

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/events"

	vitessfake "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned/fake"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
)

// Fakes are fake clientsets holding the objects a test starts from, and what a controller is built
// from on them.
type Fakes struct {
	Vitess    *vitessfake.Clientset
	Core      *kubefake.Clientset
	Events    *events.FakeRecorder
	Informers *objects.Informers
	Clients   *objects.Clients
	Kinds     *objects.Kinds
}

// New holds the objects in fake clientsets. Build the controller (which makes its listers), then
// call Sync.
func New(vitessObjects, coreObjects []runtime.Object) *Fakes {
	f := &Fakes{
		Vitess: vitessfake.NewClientset(vitessObjects...),
		Core:   kubefake.NewClientset(coreObjects...),
		Events: events.NewFakeRecorder(100),
	}
	f.Informers = objects.NewInformers(f.Vitess, f.Core)
	f.Clients = f.Informers.Clients(f.Core, f.Events)
	f.Kinds = f.Informers.Kinds(f.Vitess)
	return f
}

// Sync fills the caches; they stop when the test ends.
func (f *Fakes) Sync(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		f.Informers.Shutdown()
	})
	if err := f.Informers.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	f.Vitess.ClearActions()
	f.Core.ClearActions()
}

// Changes are the actions that change something, of either clientset.
func (f *Fakes) Changes() []clienttesting.Action {
	var changed []clienttesting.Action
	for _, action := range append(f.Vitess.Actions(), f.Core.Actions()...) {
		switch action.GetVerb() {
		case "get", "list", "watch":
		default:
			changed = append(changed, action)
		}
	}
	return changed
}
