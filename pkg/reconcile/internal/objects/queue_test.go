package objects

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// Background work runs one at a time per key, never once the term's context is done, and Wait
// waits for it: a former leader must not go on writing.
func TestBackgroundIsBoundToTheTerm(t *testing.T) {
	var background Background
	ctx, cancel := context.WithCancel(t.Context())
	release := make(chan struct{})
	var runs atomic.Int32
	work := func(context.Context) {
		runs.Add(1)
		<-release
	}
	background.Go(ctx, "shard", work)
	background.Go(ctx, "shard", work) // under way: not started again
	cancel()
	background.Go(ctx, "other", work) // the term is over: not started
	waited := make(chan struct{})
	go func() {
		background.Wait()
		close(waited)
	}()
	select {
	case <-waited:
		t.Fatal("Wait returned while work was under way")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-waited
	if got := runs.Load(); got != 1 {
		t.Errorf("%d runs, want 1", got)
	}
}

// RunWorkers returns once the term's context is done and its workers stopped; what the queue
// still holds is left to the next term.
func TestRunWorkersStopsWithTheTerm(t *testing.T) {
	queue := NewQueue("test")
	ctx, cancel := context.WithCancel(t.Context())
	var reconciled atomic.Int32
	first := make(chan struct{})
	done := make(chan struct{})
	go func() {
		RunWorkers(ctx, queue, 1, "Test", func(ctx context.Context, key string) error {
			if reconciled.Add(1) == 1 {
				close(first)
				<-ctx.Done()
			}
			return nil
		})
		close(done)
	}()
	queue.Add("a")
	<-first
	queue.Add("b")
	cancel()
	<-done
	if got := reconciled.Load(); got != 1 {
		t.Errorf("%d keys reconciled, want 1: none after the term ended", got)
	}
}
