package topologycache

import (
	"context"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// The cache of readings. Reading a cluster (its tablets, its backups) costs several vtctld calls;
// were every request and every watch to read for itself, the vtctld calls would grow with the
// clients. Instead each cluster that has consumers has one reader, which reads it every
// poll interval and keeps its latest reading: lists and gets answer from it, and watches are sent
// each new reading. A reader starts with the first request that needs its cluster and ends once
// it has had no consumer for an idle timeout, or when the server stops.

// DefaultIdleTimeout is how long a reader goes on after its last consumer: long enough that a
// client listing every few seconds (a dashboard, a script waiting for a reparent) finds a current
// reading instead of waiting for one, short enough that a cluster nobody looks at soon costs
// nothing.
const DefaultIdleTimeout = time.Minute

// clusterKey names a cluster's reader. The namespace is part of it because cluster names are
// unique only within one; the UID, because a cluster deleted and created again under its name
// is another cluster, whose vtctld may show other objects.
type clusterKey struct {
	namespace, name string
	uid             types.UID
}

func keyOf(cluster *vitess.VitessCluster) clusterKey {
	return clusterKey{namespace: cluster.Namespace, name: cluster.Name, uid: cluster.UID}
}

// reading is one read of a cluster's objects: all of them, unfiltered and shared by every
// consumer, so never changed after it is made; or the error that made it fail.
type reading[P Object[T], T any] struct {
	objects []hashed[P, T]
	err     error
	// at is when the reading began: it shows no state older than that.
	at time.Time
	// invalidations is the reader's count of invalidations when the reading began.
	invalidations int
}

// cache holds the readers of the clusters that have consumers.
type cache[P Object[T], T any] struct {
	read         ReadFunc[P, T]
	clock        clock.WithTicker
	pollInterval time.Duration
	idleTimeout  time.Duration

	// ctx is the server's lifetime: stop cancels it, which ends the readers and the watches.
	ctx    context.Context
	cancel context.CancelFunc
	// running counts the running readers, for stop to wait on.
	running sync.WaitGroup

	mu      sync.Mutex
	readers map[clusterKey]*clusterReader[P, T]
}

func newCache[P Object[T], T any](read ReadFunc[P, T], clock clock.WithTicker, pollInterval, idleTimeout time.Duration) *cache[P, T] {
	ctx, cancel := context.WithCancel(context.Background())
	return &cache[P, T]{
		read:         read,
		clock:        clock,
		pollInterval: pollInterval,
		idleTimeout:  idleTimeout,
		ctx:          ctx,
		cancel:       cancel,
		readers:      map[clusterKey]*clusterReader[P, T]{},
	}
}

// errStopped answers the requests that come while the server stops.
var errStopped = apierrors.NewServiceUnavailable("the server is shutting down")

// stop ends the readers and waits for them; the watches end with them.
func (c *cache[P, T]) stop() {
	// Under the lock, so that no reader is started once the readers are waited for.
	c.mu.Lock()
	c.cancel()
	c.mu.Unlock()
	c.running.Wait()
}

// objects returns a reading of the cluster younger than the poll interval: the latest, or else
// the next, which the concurrent callers share. The objects are shared: callers copy what they
// change.
func (c *cache[P, T]) objects(ctx context.Context, cluster *vitess.VitessCluster) ([]hashed[P, T], error) {
	r, err := c.acquire(keyOf(cluster))
	if err != nil {
		return nil, err
	}
	defer c.release(r)
	latest, err := r.fresh(ctx)
	if err != nil {
		return nil, err
	}
	return latest.objects, latest.err
}

// subscribe has every later reading of the cluster posted to the mailbox, starting with the
// latest if there is one, until it calls the returned unsubscribe.
func (c *cache[P, T]) subscribe(cluster *vitess.VitessCluster, m *mailbox[P, T]) (unsubscribe func(), err error) {
	r, err := c.acquire(keyOf(cluster))
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.subscribers[m] = true
	if r.latest != nil {
		m.post(r.key, r.latest)
	}
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.subscribers, m)
		r.mu.Unlock()
		c.release(r)
	}, nil
}

// invalidate has the cluster's reader read it again at once, and answers no request from a
// reading begun earlier: the server has just changed the cluster (removed a backup), and its
// client, listing next, must not see the object it removed.
func (c *cache[P, T]) invalidate(namespace, cluster string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, r := range c.readers {
		if key.namespace != namespace || key.name != cluster {
			continue
		}
		r.mu.Lock()
		r.invalidations++
		// Even while a reading is under way: it may have begun before the change, and the one
		// after it must then follow at once.
		select {
		case r.wake <- struct{}{}:
		default:
		}
		r.mu.Unlock()
	}
}

// acquire returns the cluster's reader, starting it if there is none, and counts a consumer of
// it, which release uncounts: a reader with consumers does not stop.
func (c *cache[P, T]) acquire(key clusterKey) (*clusterReader[P, T], error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx.Err() != nil {
		return nil, errStopped
	}
	r, ok := c.readers[key]
	if !ok {
		r = &clusterReader[P, T]{
			cache:       c,
			key:         key,
			wake:        make(chan struct{}, 1),
			underway:    true,
			next:        make(chan struct{}),
			subscribers: map[*mailbox[P, T]]bool{},
		}
		c.readers[key] = r
		c.running.Add(1)
		go r.run()
	}
	r.consumers++
	return r, nil
}

func (c *cache[P, T]) release(r *clusterReader[P, T]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r.consumers--
	r.lastUse = c.clock.Now()
}

// removeIfIdle forgets the reader, which then ends, if it has had no consumer for the idle
// timeout. Done under the lock that acquire takes, so that no consumer gets a reader that ends.
func (c *cache[P, T]) removeIfIdle(r *clusterReader[P, T]) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.consumers > 0 || c.clock.Since(r.lastUse) < c.idleTimeout {
		return false
	}
	delete(c.readers, r.key)
	return true
}

// clusterReader reads one cluster every poll interval, and when a consumer finds its latest
// reading too old.
type clusterReader[P Object[T], T any] struct {
	cache *cache[P, T]
	key   clusterKey
	// wake asks for a reading now.
	wake chan struct{}

	// consumers and lastUse are guarded by cache.mu.
	consumers int
	lastUse   time.Time

	mu sync.Mutex
	// latest is nil until the first reading.
	latest *reading[P, T]
	// underway is whether a reading is under way, which a consumer waits for rather than wake.
	underway bool
	// invalidations counts the calls of invalidate: a reading begun before the latest of them is
	// out of date (the server changed the cluster since), and answers no consumer.
	invalidations int
	// next is closed when the next reading is made.
	next        chan struct{}
	subscribers map[*mailbox[P, T]]bool
}

func (r *clusterReader[P, T]) run() {
	defer r.cache.running.Done()
	for {
		r.mu.Lock()
		// Taken before the reading begins, so that an invalidation during it makes it out of date.
		invalidations := r.invalidations
		r.mu.Unlock()
		start := r.cache.clock.Now()
		objects, err := r.cache.read(r.cache.ctx, r.key.namespace, r.key.name)
		if r.cache.ctx.Err() != nil {
			// The server stops: the reading may have failed for that alone, and nobody waits for it.
			return
		}
		result := &reading[P, T]{err: err, at: start, invalidations: invalidations}
		for _, o := range objects {
			result.objects = append(result.objects, hash(o))
		}
		r.publish(result)
		// The next reading is due a poll interval after this one began; one that took longer is
		// followed at once.
		timer := r.cache.clock.NewTimer(r.cache.pollInterval - r.cache.clock.Since(start))
		// Checked once the timer is made, as the clock may have moved on meanwhile (a test's fake
		// clock is stepped at any time), which would make the timer late.
		if r.cache.clock.Since(start) < r.cache.pollInterval {
			select {
			case <-r.cache.ctx.Done():
			case <-timer.C():
			case <-r.wake:
			}
		}
		timer.Stop()
		if r.cache.ctx.Err() != nil || r.cache.removeIfIdle(r) {
			return
		}
		r.mu.Lock()
		r.underway = true
		// The reading now begun answers whoever asked for one: it must not be followed by another.
		select {
		case <-r.wake:
		default:
		}
		r.mu.Unlock()
	}
}

// publish makes the reading the latest: it answers the consumers waiting and is posted to the
// subscribers.
func (r *clusterReader[P, T]) publish(result *reading[P, T]) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latest = result
	r.underway = false
	close(r.next)
	r.next = make(chan struct{})
	for m := range r.subscribers {
		m.post(r.key, result)
	}
}

// fresh returns the latest reading if it is younger than the poll interval, and otherwise waits
// for the next.
func (r *clusterReader[P, T]) fresh(ctx context.Context) (*reading[P, T], error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.latest != nil && r.latest.invalidations == r.invalidations && r.cache.clock.Since(r.latest.at) < r.cache.pollInterval {
		return r.latest, nil
	}
	for {
		next := r.next
		if !r.underway {
			select {
			case r.wake <- struct{}{}:
			default:
			}
		}
		r.mu.Unlock()
		select {
		case <-next:
		case <-ctx.Done():
			r.mu.Lock()
			return nil, ctx.Err()
		case <-r.cache.ctx.Done():
			r.mu.Lock()
			return nil, errStopped
		}
		r.mu.Lock()
		// A reading begun before an invalidation is followed at once by another (invalidate woke
		// the reader), which the caller waits for.
		if r.latest.invalidations == r.invalidations {
			return r.latest, nil
		}
	}
}

// mailbox holds the latest reading of each of a watch's clusters that the watch has not taken
// yet. Posting never blocks, so a slow watch never holds up a reader: it skips to the latest
// reading instead, as a polling watch skipped the states between two of its polls.
type mailbox[P Object[T], T any] struct {
	mu      sync.Mutex
	pending map[clusterKey]*reading[P, T]
	// notify has a value while pending is not empty.
	notify chan struct{}
}

func newMailbox[P Object[T], T any]() *mailbox[P, T] {
	return &mailbox[P, T]{pending: map[clusterKey]*reading[P, T]{}, notify: make(chan struct{}, 1)}
}

func (m *mailbox[P, T]) post(key clusterKey, r *reading[P, T]) {
	m.mu.Lock()
	m.pending[key] = r
	m.mu.Unlock()
	select {
	case m.notify <- struct{}{}:
	default:
	}
}

func (m *mailbox[P, T]) take() map[clusterKey]*reading[P, T] {
	m.mu.Lock()
	defer m.mu.Unlock()
	taken := m.pending
	m.pending = map[clusterKey]*reading[P, T]{}
	return taken
}
