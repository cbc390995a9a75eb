package topologycache

import (
	"cmp"
	"context"
	"slices"

	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// Watch sends what changed in the objects of its clusters at each new reading of one of them.
// The readings are the cache's, which every watch and request shares, so the calls to a vtctld do
// not grow with the watches. Which clusters a watch covers is listed again every poll interval, so
// that it follows the VitessClusters that come and go.
//
// Where it starts follows the rules of stored resources: with sendInitialEvents=true (what
// informers ask for since client-go 1.35) it sends the current objects as ADDED and then, when
// bookmarks are allowed, the bookmark that ends the initial events; with no resourceVersion, or
// "0", the same without the bookmark; from a resourceVersion, it goes on from that state if it
// still is the current one and answers 410 Gone if not, since earlier states are not kept.
//
// A reading that fails ends the watch with an ERROR event carrying the failure (503 while a
// vtctld is unreachable): a watch that went quiet instead would look like a topology at rest.
func (s *Store[P, T]) Watch(ctx context.Context, options *metainternalversion.ListOptions) (watch.Interface, error) {
	ctx, cancel := context.WithCancel(ctx)
	w := &cacheWatch[P, T]{
		result:        make(chan watch.Event),
		cancel:        cancel,
		store:         s,
		selected:      selection[P](options),
		mailbox:       newMailbox[P](),
		subscriptions: map[clusterKey]func(){},
		latest:        map[clusterKey][]hashed[P, T]{},
	}
	objects, err := w.start(ctx)
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
	w.known = newObjectSet[P](nil)
	if !sendInitialEvents {
		w.known = newObjectSet(objects)
		if fromVersion && resourceVersion != w.known.version() {
			w.unsubscribeAll()
			cancel()
			return nil, s.expired(resourceVersion, w.known)
		}
	}
	endInitialEvents := options.SendInitialEvents != nil && *options.SendInitialEvents && options.AllowWatchBookmarks
	go w.run(ctx, objects, endInitialEvents)
	return w, nil
}

// cacheWatch is a watch fed by the readings of its clusters, that sends the differences between
// the state they show and the state it has sent.
type cacheWatch[P Object[T], T any] struct {
	result   chan watch.Event
	cancel   context.CancelFunc
	store    *Store[P, T]
	selected func(P) bool
	// mailbox receives the readings of the clusters subscribed to.
	mailbox *mailbox[P, T]
	// subscriptions are the clusters the watch covers, with how to unsubscribe from each.
	subscriptions map[clusterKey]func()
	// latest is the objects of the latest reading of each cluster covered, once there is one.
	latest map[clusterKey][]hashed[P, T]
	// known is the state the client has been sent.
	known *objectSet[P, T]
}

var _ watch.Interface = &cacheWatch[*vitess.VitessTablet, vitess.VitessTablet]{}

func (w *cacheWatch[P, T]) Stop()                          { w.cancel() }
func (w *cacheWatch[P, T]) ResultChan() <-chan watch.Event { return w.result }

// start subscribes to the clusters in the watch's scope and returns their current objects, from a
// reading younger than the poll interval, like a list.
func (w *cacheWatch[P, T]) start(ctx context.Context) ([]hashed[P, T], error) {
	clusters, err := w.store.listClusters(ctx)
	if err != nil {
		return nil, err
	}
	for _, cluster := range clusters {
		objects, err := w.store.cache.objects(ctx, cluster)
		if err != nil {
			return nil, err
		}
		w.latest[keyOf(cluster)] = objects
	}
	if err := w.follow(clusters); err != nil {
		return nil, err
	}
	return w.current(), nil
}

// follow makes the watch cover exactly the clusters: it subscribes to those it did not cover, and
// forgets those it did but should not, whose objects are then gone.
func (w *cacheWatch[P, T]) follow(clusters []*vitess.VitessCluster) error {
	inScope := map[clusterKey]bool{}
	for _, cluster := range clusters {
		key := keyOf(cluster)
		inScope[key] = true
		if _, ok := w.subscriptions[key]; ok {
			continue
		}
		unsubscribe, err := w.store.cache.subscribe(cluster, w.mailbox)
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

func (w *cacheWatch[P, T]) unsubscribeAll() {
	for key, unsubscribe := range w.subscriptions {
		unsubscribe()
		delete(w.subscriptions, key)
	}
}

// current is the selected objects of the latest readings, sorted by namespace and name.
func (w *cacheWatch[P, T]) current() []hashed[P, T] {
	var objects []hashed[P, T]
	for _, clusterObjects := range w.latest {
		objects = appendSelected(objects, clusterObjects, w.selected)
	}
	sortObjects(objects)
	return objects
}

// run sends the differences from known to first, then the initial-events bookmark if asked, then
// the differences of every later reading, until the context ends, the server stops or a reading
// fails.
func (w *cacheWatch[P, T]) run(ctx context.Context, first []hashed[P, T], endInitialEvents bool) {
	defer close(w.result)
	defer w.unsubscribeAll()
	defer w.cancel()
	// The watch ends when the server stops, even while its client is not receiving.
	defer context.AfterFunc(w.store.cache.ctx, w.cancel)()
	// Made before the first event, so that the scope is listed again a poll interval after the
	// watch began, however long its client takes to receive the initial events.
	ticker := w.store.cache.clock.NewTicker(w.store.cache.pollInterval)
	defer ticker.Stop()
	if !w.sendChanges(ctx, first) {
		return
	}
	if endInitialEvents {
		bookmark := P(new(T))
		bookmark.SetResourceVersion(w.known.version())
		bookmark.SetAnnotations(map[string]string{metav1.InitialEventsAnnotationKey: "true"})
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
			w.latest[key] = reading.objects
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
func (w *cacheWatch[P, T]) relist(ctx context.Context) error {
	clusters, err := w.store.listClusters(ctx)
	if err != nil {
		return err
	}
	return w.follow(clusters)
}

// sendChanges sends the events that turn the known state into current (sorted by namespace and
// name), each carrying the version of the state it leads to. It reports false when the watch
// ended meanwhile.
func (w *cacheWatch[P, T]) sendChanges(ctx context.Context, current []hashed[P, T]) bool {
	present := map[string]bool{}
	for _, o := range current {
		present[key(o.object)] = true
	}
	var gone []string
	for k := range w.known.objects {
		if !present[k] {
			gone = append(gone, k)
		}
	}
	slices.Sort(gone)
	for _, k := range gone {
		deleted := w.known.objects[k].object
		w.known.remove(k)
		deleted = withVersion(deleted, w.known.version())
		if !w.send(ctx, watch.Event{Type: watch.Deleted, Object: deleted}) {
			return false
		}
	}
	for _, o := range current {
		eventType := watch.Modified
		if _, found := w.known.objects[key(o.object)]; !found {
			eventType = watch.Added
		}
		if !w.known.put(o) {
			continue
		}
		sent := withVersion(o.object, w.known.version())
		if !w.send(ctx, watch.Event{Type: eventType, Object: sent}) {
			return false
		}
	}
	return true
}

func (w *cacheWatch[P, T]) send(ctx context.Context, event watch.Event) bool {
	select {
	case w.result <- event:
		return true
	case <-ctx.Done():
		return false
	}
}
