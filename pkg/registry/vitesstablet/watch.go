package vitesstablet

import (
	"context"
	"slices"
	"time"

	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// defaultPollInterval is how often a watch reads the topology: tablet types change on reparents
// and serving states on traffic switches, which users follow by the second, while a read costs
// one GetTablets and one GetSrvKeyspaces per keyspace of each cluster.
const defaultPollInterval = 2 * time.Second

// Watch reads the tablets every pollInterval and sends what changed since the previous reading.
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
	selected := selection(options)
	tablets, err := r.read(ctx, selected)
	if err != nil {
		return nil, err
	}
	resourceVersion := options.ResourceVersion
	fromVersion := resourceVersion != "" && resourceVersion != "0"
	sendInitialEvents := !fromVersion
	if options.SendInitialEvents != nil {
		sendInitialEvents = *options.SendInitialEvents
	}
	known := newTabletSet(nil)
	if !sendInitialEvents {
		known = newTabletSet(tablets)
		if fromVersion && resourceVersion != known.version() {
			return nil, expired(resourceVersion, known)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &pollingWatch{
		result:   make(chan watch.Event),
		cancel:   cancel,
		read:     func(ctx context.Context) ([]*vitess.VitessTablet, error) { return r.read(ctx, selected) },
		interval: r.pollInterval,
		known:    known,
	}
	endInitialEvents := options.SendInitialEvents != nil && *options.SendInitialEvents && options.AllowWatchBookmarks
	go w.run(ctx, tablets, endInitialEvents)
	return w, nil
}

// pollingWatch is a watch that reads the whole state again and again and sends the differences.
type pollingWatch struct {
	result   chan watch.Event
	cancel   context.CancelFunc
	read     func(context.Context) ([]*vitess.VitessTablet, error)
	interval time.Duration
	// known is the state the client has been sent.
	known *tabletSet
}

var _ watch.Interface = &pollingWatch{}

func (w *pollingWatch) Stop()                          { w.cancel() }
func (w *pollingWatch) ResultChan() <-chan watch.Event { return w.result }

// run sends the differences from known to first, then the initial-events bookmark if asked, then
// the differences of every later reading, until the context ends or a reading fails.
func (w *pollingWatch) run(ctx context.Context, first []*vitess.VitessTablet, endInitialEvents bool) {
	defer close(w.result)
	defer w.cancel()
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
	ticker := time.NewTicker(w.interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		tablets, err := w.read(ctx)
		if err != nil {
			if ctx.Err() == nil {
				w.send(ctx, watch.Event{Type: watch.Error, Object: responsewriters.ErrorToAPIStatus(err)})
			}
			return
		}
		if !w.sendChanges(ctx, tablets) {
			return
		}
	}
}

// sendChanges sends the events that turn the known state into current (sorted by namespace and
// name), each carrying the version of the state it leads to. It reports false when the watch
// ended meanwhile.
func (w *pollingWatch) sendChanges(ctx context.Context, current []*vitess.VitessTablet) bool {
	present := map[string]bool{}
	for _, t := range current {
		present[key(t)] = true
	}
	var gone []string
	for k := range w.known.tablets {
		if !present[k] {
			gone = append(gone, k)
		}
	}
	slices.Sort(gone)
	for _, k := range gone {
		// A copy: the object sent earlier may still be being encoded.
		deleted := w.known.tablets[k].tablet.DeepCopy()
		w.known.remove(k)
		deleted.ResourceVersion = w.known.version()
		if !w.send(ctx, watch.Event{Type: watch.Deleted, Object: deleted}) {
			return false
		}
	}
	for _, t := range current {
		eventType := watch.Modified
		if _, found := w.known.tablets[key(t)]; !found {
			eventType = watch.Added
		}
		if !w.known.put(t) {
			continue
		}
		t.ResourceVersion = w.known.version()
		if !w.send(ctx, watch.Event{Type: eventType, Object: t}) {
			return false
		}
	}
	return true
}

func (w *pollingWatch) send(ctx context.Context, event watch.Event) bool {
	select {
	case w.result <- event:
		return true
	case <-ctx.Done():
		return false
	}
}
