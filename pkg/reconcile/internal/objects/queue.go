package objects

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// Queue is a controller's queue of the namespace/name keys of the objects it reconciles.
type Queue = workqueue.TypedRateLimitingInterface[string]

// NewQueue is a queue with client-go's controller rate limiter; name labels its metrics.
func NewQueue(name string) Queue {
	return workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: name})
}

// RunWorkers reconciles the queue's keys with workers goroutines until ctx is done, then shuts the
// queue down and returns once every worker has stopped: a former leader must not act any more.
// A failed key is retried with the queue's backoff.
func RunWorkers(ctx context.Context, queue Queue, workers int, kind string, reconcile func(ctx context.Context, key string) error) {
	var running sync.WaitGroup
	for range workers {
		running.Go(func() {
			wait.UntilWithContext(ctx, func(ctx context.Context) { work(ctx, queue, kind, reconcile) }, time.Second)
		})
	}
	<-ctx.Done()
	queue.ShutDown()
	running.Wait()
}

func work(ctx context.Context, queue Queue, kind string, reconcile func(ctx context.Context, key string) error) {
	for {
		key, shutdown := queue.Get()
		if shutdown {
			return
		}
		if ctx.Err() != nil {
			// The queue hands out what it still holds after ShutDown: leave it to the next term.
			queue.Done(key)
			return
		}
		start := time.Now()
		err := reconcile(ctx, key)
		Observe(kind, start, err)
		if err != nil {
			klog.ErrorS(err, "Reconciling", "kind", kind, "key", key)
			queue.AddRateLimited(key)
		} else {
			queue.Forget(key)
		}
		queue.Done(key)
	}
}

// Background runs a controller's slow work (a vtctld call, a reparent, a workflow's round) off its
// workers, one at a time per key, bound to the leader's context.
type Background struct {
	mu      sync.Mutex
	busy    map[string]bool
	running sync.WaitGroup
}

// Go runs work unless the key's work is under way or ctx is done. ctx is the worker's, so the
// work ends with the leader's term; Wait waits for it.
func (b *Background) Go(ctx context.Context, key string, work func(ctx context.Context)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.busy[key] || ctx.Err() != nil {
		return
	}
	if b.busy == nil {
		b.busy = map[string]bool{}
	}
	b.busy[key] = true
	b.running.Go(func() {
		defer func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			delete(b.busy, key)
		}()
		work(ctx)
	})
}

// Wait returns once the work Go started has ended.
func (b *Background) Wait() { b.running.Wait() }

// Busy tells whether the key's work is under way.
func (b *Background) Busy(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.busy[key]
}
