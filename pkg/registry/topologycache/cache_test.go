package topologycache

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/topologycache/cachetest"
)

// cluster is one cluster's objects (tablets, which any kind would do) as a test changes them. A
// reading takes them as they are when it begins, and then waits while the test holds it.
type cluster struct {
	mu       sync.Mutex
	names    []string
	readings int
	// hold, when set, is waited on by the next reading, after it has taken the objects.
	hold chan struct{}
}

func (c *cluster) read(ctx context.Context, namespace, name string) ([]*vitess.VitessTablet, error) {
	c.mu.Lock()
	c.readings++
	var objects []*vitess.VitessTablet
	for _, n := range c.names {
		objects = append(objects, &vitess.VitessTablet{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name + "-" + n}})
	}
	hold := c.hold
	c.hold = nil
	c.mu.Unlock()
	if hold != nil {
		<-hold
	}
	return objects, nil
}

func (c *cluster) set(names ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.names = names
}

func (c *cluster) holdNext() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hold = make(chan struct{})
	return c.hold
}

func (c *cluster) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readings
}

func names(t *testing.T, s *Store[*vitess.VitessTablet, vitess.VitessTablet]) []string {
	t.Helper()
	return cachetest.Names(cachetest.List[*vitess.VitessTabletList](t, s, cachetest.InNamespace("demo"), nil))
}

// After Invalidate no list is answered from a reading begun before it, even one under way then,
// and the clock need not move for the next: a client that removed an object does not list it
// again.
func TestInvalidate(t *testing.T) {
	c := &cluster{names: []string{"a", "b"}}
	s := New(cachetest.Clusters{cachetest.Cluster("demo", "example")}, Config[*vitess.VitessTablet, vitess.VitessTablet]{
		Resource:     vitess.Resource("vitesstablets"),
		Read:         c.read,
		NewList:      func() runtime.Object { return &vitess.VitessTabletList{} },
		PollInterval: time.Minute,
		Clock:        testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
	})
	t.Cleanup(s.Destroy)
	if got := names(t, s); !slices.Equal(got, []string{"example-a", "example-b"}) {
		t.Fatalf("first list: %v", got)
	}
	// Without Invalidate, the reading, younger than the poll interval, answers.
	c.set("a")
	if got := names(t, s); !slices.Equal(got, []string{"example-a", "example-b"}) || c.count() != 1 {
		t.Fatalf("list from the cache: %v after %d readings", got, c.count())
	}
	s.Invalidate("demo", "example")
	if got := names(t, s); !slices.Equal(got, []string{"example-a"}) {
		t.Errorf("list after Invalidate: %v", got)
	}

	// A reading that began before the change and the Invalidate that follows it answers nobody.
	release := c.holdNext()
	s.Invalidate("demo", "example") // begins the held reading, which takes "a"
	for c.count() < 3 {
		time.Sleep(time.Millisecond)
	}
	c.set()
	s.Invalidate("demo", "example")
	// The reading after the held one is held too, until the list is known not to be answered by
	// the held one.
	releaseNext := c.holdNext()
	listed := make(chan []string)
	go func() { listed <- names(t, s) }()
	time.Sleep(50 * time.Millisecond) // for the list to wait on the held reading
	close(release)
	select {
	case got := <-listed:
		t.Fatalf("a list answered by a reading begun before Invalidate: %v", got)
	case <-time.After(100 * time.Millisecond):
	}
	close(releaseNext)
	if got := <-listed; len(got) != 0 {
		t.Errorf("list after a reading begun before Invalidate: %v, want none", got)
	}
}
