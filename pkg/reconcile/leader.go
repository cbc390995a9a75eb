package reconcile

import (
	"context"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
)

// leaseName is the Lease the server replicas compete for; only its holder reconciles, while
// every replica serves the API.
const leaseName = "vitess-apiserver-reconciler"

// RunLeaderElected runs run whenever this process holds the lease, until ctx is done. Losing the
// lease cancels run's context and puts the process back in the running for it, without stopping
// the API, once run has returned: run must return only when nothing it started acts any more,
// and each call must start afresh (a new Manager per term).
func RunLeaderElected(ctx context.Context, client kubernetes.Interface, namespace, identity string, run func(context.Context)) {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: namespace, Name: leaseName},
		Client:     client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
	}
	for ctx.Err() == nil {
		var term leaderTerm
		leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
			Lock:            lock,
			Name:            leaseName,
			LeaseDuration:   15 * time.Second,
			RenewDeadline:   10 * time.Second,
			RetryPeriod:     2 * time.Second,
			ReleaseOnCancel: true,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(ctx context.Context) { term.run(ctx, run) },
				OnStoppedLeading: func() {
					klog.InfoS("Stopped reconciling: lease lost or released", "lease", namespace+"/"+leaseName, "identity", identity)
				},
			},
		})
		term.end()
	}
}

// leaderTerm waits for the work of one term of leadership. leaderelection starts
// OnStartedLeading in a goroutine and returns once the lease is lost without waiting for it.
type leaderTerm struct {
	mu      sync.Mutex
	ended   bool
	running sync.WaitGroup
}

// run runs work with the term's context, unless the term has ended already (the goroutine began
// after the lease was lost).
func (t *leaderTerm) run(ctx context.Context, work func(context.Context)) {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return
	}
	t.running.Add(1)
	t.mu.Unlock()
	defer t.running.Done()
	work(ctx)
}

// end returns once the term's work has returned; work that had not begun will not.
func (t *leaderTerm) end() {
	t.mu.Lock()
	t.ended = true
	t.mu.Unlock()
	t.running.Wait()
}
