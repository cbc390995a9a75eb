package vitesstablet

import (
	"cmp"
	"context"
	"slices"
	"time"

	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// defaultPollInterval is how often a cluster's reader reads the topology: tablet types change on
// reparents and serving states on traffic switches, which users follow by the second, while a
// reading costs one GetTablets and one GetSrvKeyspaces per keyspace of the cluster.
const defaultPollInterval = 2 * time.Second

// Watch sends what changed in the tablets of its clusters at each new reading of one of them.
// The readings are the cache's, which every watch and request shares, so the calls to a vtctld do
// not grow with the watches. Which clusters a watch covers is listed again every poll interval, so
// that it follows the VitessClusters that come and go.
//
// Where it starts follows the rules of stored resources: with sendInitialEvents=true (what
// informers ask for since client-go 1.35) it sends the current tablets as ADDED and then, when
// bookmarks are allowed, the bookmark that ends the initial events; with no resourceVersion, or
// "0", the same without the bookmark; from a resourceVersion, it goes on from that state if it
// still is the current one and answers 410 Gone if not, since earlier states are not kept.
//
// A reading that fails ends the watch with an ERROR event carrying the failure (503 while a
// vtctld is unreachable): a watch that went quiet instead would look like a topology at rest.
func (r *REST) Watch(ctx context.Context, options *metainternalversion.ListOptions) (watch.Interface, error) {
	ctx, cancel := context.WithCancel(ctx)
	w := &cacheWatch{
		result:        make(chan watch.Event),
		cancel:        cancel,
		rest:          r,
		selected:      selection(options),
		mailbox:       newMailbox(),
		subscriptions: map[clusterKey]func(){},
		latest:        map[clusterKey][]hashedTablet{},
	}
	tablets, err := w.start(ctx)
	if err != nil {
		w.unsubscribeAll()
		cancel()
		return nil, err
	}
	resourceVersion := options.ResourceVersion
	fromVersion := resourceVersion != "" && resourceVersion != "0"
	sendInitialEvents := !fromVersion
	if options.SendInitialEvents != nil {
		sendInitialEvents = *options.SendInitialEvents
	}
	w.known = newTabletSet(nil)
	if !sendInitialEvents {
		w.known = newTabletSet(tablets)
		if fromVersion && resourceVersion != w.known.version() {
			w.unsubscribeAll()
			cancel()
			return nil, expired(resourceVersion, w.known)
		}
	}
	endInitialEvents := options.SendInitialEvents != nil && *options.SendInitialEvents && options.AllowWatchBookmarks
	go w.run(ctx, tablets, endInitialEvents)
	return w, nil
}

// cacheWatch is a watch fed by the readings of its clusters, that sends the differences between
// the state they show and the state it has sent.
type cacheWatch struct {
	result   chan watch.Event
	cancel   context.CancelFunc
	rest     *REST
	selected func(*vitess.VitessTablet) bool
	// mailbox receives the readings of the clusters subscribed to.
	mailbox *mailbox
	// subscriptions are the clusters the watch covers, with how to unsubscribe from each.
	subscriptions map[clusterKey]func()
	// latest is the tablets of the latest reading of each cluster covered, once there is one.
	latest map[clusterKey][]hashedTablet
	// known is the state the client has been sent.
	known *tabletSet
}

var _ watch.Interface = &cacheWatch{}

func (w *cacheWatch) Stop()                          { w.cancel() }
func (w *cacheWatch) ResultChan() <-chan watch.Event { return w.result }

// start subscribes to the clusters in the watch's scope and returns their current tablets, from a
// reading younger than the poll interval, like a list.
func (w *cacheWatch) start(ctx context.Context) ([]hashedTablet, error) {
	clusters, err := w.rest.listClusters(ctx)
	if err != nil {
		return nil, err
	}
	for _, cluster := range clusters {
		tablets, err := w.rest.cache.tablets(ctx, cluster)
		if err != nil {
			return nil, err
		}
		w.latest[keyOf(cluster)] = tablets
	}
	if err := w.follow(clusters); err != nil {
		return nil, err
	}
	return w.current(), nil
}

// follow makes the watch cover exactly the clusters: it subscribes to those it did not cover, and
// forgets those it did but should not, whose tablets are then gone.
func (w *cacheWatch) follow(clusters []*vitess.VitessCluster) error {
	inScope := map[clusterKey]bool{}
	for _, cluster := range clusters {
		key := keyOf(cluster)
		inScope[key] = true
		if _, ok := w.subscriptions[key]; ok {
			continue
		}
		unsubscribe, err := w.rest.cache.subscribe(cluster, w.mailbox)
		if err != nil {
			return err
		}
		w.subscriptions[key] = unsubscribe
	}
	for key, unsubscribe := range w.subscriptions {
		if !inScope[key] {
			unsubscribe()
			delete(w.subscriptions, key)
			delete(w.latest, key)
		}
	}
	return nil
}

func (w *cacheWatch) unsubscribeAll() {
	for key, unsubscribe := range w.subscriptions {
		unsubscribe()
		delete(w.subscriptions, key)
	}
}

// current is the selected tablets of the latest readings, sorted by namespace and name.
func (w *cacheWatch) current() []hashedTablet {
	var tablets []hashedTablet
	for _, clusterTablets := range w.latest {
		tablets = appendSelected(tablets, clusterTablets, w.selected)
	}
	sortTablets(tablets)
	return tablets
}

// run sends the differences from known to first, then the initial-events bookmark if asked, then
// the differences of every later reading, until the context ends, the server stops or a reading
// fails.
func (w *cacheWatch) run(ctx context.Context, first []hashedTablet, endInitialEvents bool) {
	defer close(w.result)
	defer w.unsubscribeAll()
	defer w.cancel()
	// The watch ends when the server stops, even while its client is not receiving.
	defer context.AfterFunc(w.rest.cache.ctx, w.cancel)()
	// Made before the first event, so that the scope is listed again a poll interval after the
	// watch began, however long its client takes to receive the initial events.
	ticker := w.rest.cache.clock.NewTicker(w.rest.cache.pollInterval)
	defer ticker.Stop()
	if !w.sendChanges(ctx, first) {
		return
	}
	if endInitialEvents {
		bookmark := &vitess.VitessTablet{ObjectMeta: metav1.ObjectMeta{
			ResourceVersion: w.known.version(),
			Annotations:     map[string]string{metav1.InitialEventsAnnotationKey: "true"},
		}}
		if !w.send(ctx, watch.Event{Type: watch.Bookmark, Object: bookmark}) {
			return
		}
	}
	for {
		relist := false
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
			relist = true
		case <-w.mailbox.notify:
		}
		failed := map[clusterKey]error{}
		for key, reading := range w.mailbox.take() {
			if _, covered := w.subscriptions[key]; !covered {
				continue // posted before the watch forgot the cluster
			}
			if reading.err != nil {
				failed[key] = reading.err
				continue
			}
			w.latest[key] = reading.tablets
		}
		// A cluster being deleted fails its readings (its vtctld goes, or it is not found): before
		// ending the watch for a failed reading, see whether its cluster is still one to cover.
		if relist || len(failed) > 0 {
			err := w.relist(ctx)
			for key, readingErr := range failed {
				if _, covered := w.subscriptions[key]; covered {
					err = cmp.Or(err, readingErr)
				}
			}
			if err != nil {
				if ctx.Err() == nil {
					w.send(ctx, watch.Event{Type: watch.Error, Object: responsewriters.ErrorToAPIStatus(err)})
				}
				return
			}
		}
		if !w.sendChanges(ctx, w.current()) {
			return
		}
	}
}

// relist lists the clusters in the watch's scope again, and follows them.
func (w *cacheWatch) relist(ctx context.Context) error {
	clusters, err := w.rest.listClusters(ctx)
	if err != nil {
		return err
	}
	return w.follow(clusters)
}

// sendChanges sends the events that turn the known state into current (sorted by namespace and
// name), each carrying the version of the state it leads to. It reports false when the watch
// ended meanwhile.
func (w *cacheWatch) sendChanges(ctx context.Context, current []hashedTablet) bool {
	present := map[string]bool{}
	for _, t := range current {
		present[key(t.tablet)] = true
	}
	var gone []string
	for k := range w.known.tablets {
		if !present[k] {
			gone = append(gone, k)
		}
	}
	slices.Sort(gone)
	for _, k := range gone {
		deleted := w.known.tablets[k].tablet.DeepCopy() // the cache's tablets are shared
		w.known.remove(k)
		deleted.ResourceVersion = w.known.version()
		if !w.send(ctx, watch.Event{Type: watch.Deleted, Object: deleted}) {
			return false
		}
	}
	for _, t := range current {
		eventType := watch.Modified
		if _, found := w.known.tablets[key(t.tablet)]; !found {
			eventType = watch.Added
		}
		if !w.known.put(t) {
			continue
		}
		sent := t.tablet.DeepCopy() // the cache's tablets are shared
		sent.ResourceVersion = w.known.version()
		if !w.send(ctx, watch.Event{Type: eventType, Object: sent}) {
			return false
		}
	}
	return true
}

func (w *cacheWatch) send(ctx context.Context, event watch.Event) bool {
	select {
	case w.result <- event:
		return true
	case <-ctx.Done():
		return false
	}
}
