package vitesstablet

import (
	"context"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// The cache of tablets. Reading a cluster's tablets costs one GetTablets and one GetSrvKeyspaces
// per keyspace; were every request and every watch to read for itself, the vtctld calls would grow
// with the clients. Instead each cluster that has consumers has one reader, which reads it every
// poll interval and keeps its latest reading: lists and gets answer from it, and watches are sent
// each new reading. A reader starts with the first request that needs its cluster and ends once
// it has had no consumer for an idle timeout, or when the server stops.

// defaultIdleTimeout is how long a reader goes on after its last consumer: long enough that a
// client listing every few seconds (a dashboard, a script waiting for a reparent) finds a current
// reading instead of waiting for one, short enough that a cluster nobody looks at soon costs
// nothing.
const defaultIdleTimeout = time.Minute

// clusterKey names a cluster's reader. The namespace is part of it because cluster names are
// unique only within one; the UID, because a cluster deleted and created again under its name
// is another cluster, whose vtctld may show other tablets.
type clusterKey struct {
	namespace, name string
	uid             types.UID
}

func keyOf(cluster *vitess.VitessCluster) clusterKey {
	return clusterKey{namespace: cluster.Namespace, name: cluster.Name, uid: cluster.UID}
}

// reading is one read of a cluster's tablets: all of them, unfiltered and shared by every
// consumer, so never changed after it is made; or the error that made it fail.
type reading struct {
	tablets []hashedTablet
	err     error
	// at is when the reading began: it shows no state older than that.
	at time.Time
}

// tabletCache holds the readers of the clusters that have consumers.
type tabletCache struct {
	topologies   Topologies
	clock        clock.WithTicker
	pollInterval time.Duration
	idleTimeout  time.Duration

	// ctx is the server's lifetime: stop cancels it, which ends the readers and the watches.
	ctx    context.Context
	cancel context.CancelFunc
	// running counts the running readers, for stop to wait on.
	running sync.WaitGroup

	mu      sync.Mutex
	readers map[clusterKey]*clusterReader
}

func newTabletCache(topologies Topologies, clock clock.WithTicker, pollInterval, idleTimeout time.Duration) *tabletCache {
	ctx, cancel := context.WithCancel(context.Background())
	return &tabletCache{
		topologies:   topologies,
		clock:        clock,
		pollInterval: pollInterval,
		idleTimeout:  idleTimeout,
		ctx:          ctx,
		cancel:       cancel,
		readers:      map[clusterKey]*clusterReader{},
	}
}

// errStopped answers the requests that come while the server stops.
var errStopped = apierrors.NewServiceUnavailable("the server is shutting down")

// stop ends the readers and waits for them; the watches end with them.
func (c *tabletCache) stop() {
	// Under the lock, so that no reader is started once the readers are waited for.
	c.mu.Lock()
	c.cancel()
	c.mu.Unlock()
	c.running.Wait()
}

// tablets returns a reading of the cluster younger than the poll interval: the latest, or else
// the next, which the concurrent callers share. The tablets are shared: callers copy what they
// change.
func (c *tabletCache) tablets(ctx context.Context, cluster *vitess.VitessCluster) ([]hashedTablet, error) {
	r, err := c.acquire(keyOf(cluster))
	if err != nil {
		return nil, err
	}
	defer c.release(r)
	latest, err := r.fresh(ctx)
	if err != nil {
		return nil, err
	}
	return latest.tablets, latest.err
}

// subscribe has every later reading of the cluster posted to the mailbox, starting with the
// latest if there is one, until it calls the returned unsubscribe.
func (c *tabletCache) subscribe(cluster *vitess.VitessCluster, m *mailbox) (unsubscribe func(), err error) {
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

// acquire returns the cluster's reader, starting it if there is none, and counts a consumer of
// it, which release uncounts: a reader with consumers does not stop.
func (c *tabletCache) acquire(key clusterKey) (*clusterReader, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx.Err() != nil {
		return nil, errStopped
	}
	r, ok := c.readers[key]
	if !ok {
		r = &clusterReader{
			cache:       c,
			key:         key,
			wake:        make(chan struct{}, 1),
			underway:    true,
			next:        make(chan struct{}),
			subscribers: map[*mailbox]bool{},
		}
		c.readers[key] = r
		c.running.Add(1)
		go r.run()
	}
	r.consumers++
	return r, nil
}

func (c *tabletCache) release(r *clusterReader) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r.consumers--
	r.lastUse = c.clock.Now()
}

// removeIfIdle forgets the reader, which then ends, if it has had no consumer for the idle
// timeout. Done under the lock that acquire takes, so that no consumer gets a reader that ends.
func (c *tabletCache) removeIfIdle(r *clusterReader) bool {
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
type clusterReader struct {
	cache *tabletCache
	key   clusterKey
	// wake asks for a reading now.
	wake chan struct{}

	// consumers and lastUse are guarded by cache.mu.
	consumers int
	lastUse   time.Time

	mu sync.Mutex
	// latest is nil until the first reading.
	latest *reading
	// underway is whether a reading is under way, which a consumer waits for rather than wake.
	underway bool
	// next is closed when the next reading is made.
	next        chan struct{}
	subscribers map[*mailbox]bool
}

func (r *clusterReader) run() {
	defer r.cache.running.Done()
	for {
		start := r.cache.clock.Now()
		tablets, err := readCluster(r.cache.ctx, r.cache.topologies, r.key.namespace, r.key.name)
		if r.cache.ctx.Err() != nil {
			// The server stops: the reading may have failed for that alone, and nobody waits for it.
			return
		}
		result := &reading{err: err, at: start}
		for _, t := range tablets {
			result.tablets = append(result.tablets, hashed(t))
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
func (r *clusterReader) publish(result *reading) {
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
func (r *clusterReader) fresh(ctx context.Context) (*reading, error) {
	r.mu.Lock()
	if r.latest != nil && r.cache.clock.Since(r.latest.at) < r.cache.pollInterval {
		latest := r.latest
		r.mu.Unlock()
		return latest, nil
	}
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
		return nil, ctx.Err()
	case <-r.cache.ctx.Done():
		return nil, errStopped
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.latest, nil
}

// mailbox holds the latest reading of each of a watch's clusters that the watch has not taken
// yet. Posting never blocks, so a slow watch never holds up a reader: it skips to the latest
// reading instead, as a polling watch skipped the states between two of its polls.
type mailbox struct {
	mu      sync.Mutex
	pending map[clusterKey]*reading
	// notify has a value while pending is not empty.
	notify chan struct{}
}

func newMailbox() *mailbox {
	return &mailbox{pending: map[clusterKey]*reading{}, notify: make(chan struct{}, 1)}
}

func (m *mailbox) post(key clusterKey, r *reading) {
	m.mu.Lock()
	m.pending[key] = r
	m.mu.Unlock()
	select {
	case m.notify <- struct{}{}:
	default:
	}
}

func (m *mailbox) take() map[clusterKey]*reading {
	m.mu.Lock()
	defer m.mu.Unlock()
	taken := m.pending
	m.pending = map[clusterKey]*reading{}
	return taken
}
