// Package topologycache serves a kind read live from Vitess' topology rather than stored: the
// objects of each of the namespace's VitessClusters (its tablets, its backups) are read through
// the cluster's vtctld by one reader per cluster that every list, get and watch shares (see
// cache.go). Its resourceVersions are synthetic (see version.go). The kinds' packages give what
// is theirs alone: how a cluster is read, their list type, their table.
package topologycache

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/utils/clock"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// Object is a pointer to an object of the served kind, T.
type Object[T any] interface {
	*T
	runtime.Object
	metav1.Object
}

// ReadFunc reads the objects of one cluster. Their names begin with the cluster's and a dash,
// which is how Get finds the cluster an object belongs to. The error is an API status error (a
// 503 while the cluster's vtctld is unreachable).
type ReadFunc[P Object[T], T any] func(ctx context.Context, namespace, cluster string) ([]P, error)

// ClusterLister lists VitessClusters in the context's namespace, or in all namespaces when it has
// none: the vitessclusters store.
type ClusterLister interface {
	List(ctx context.Context, options *metainternalversion.ListOptions) (runtime.Object, error)
}

// Config is what a kind gives the store.
type Config[P Object[T], T any] struct {
	// Resource names the kind in errors (404s, 410s).
	Resource schema.GroupResource
	// Read reads one cluster.
	Read ReadFunc[P, T]
	// NewList makes an empty list of the kind.
	NewList func() runtime.Object
	// PollInterval is how often a cluster with consumers is read, which is also how old a reading
	// may be to answer a list or get.
	PollInterval time.Duration
	// IdleTimeout is how long a cluster's reader goes on after its last consumer; 0 is
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Clock is the real clock when nil.
	Clock clock.WithTicker
}

// Resource is what a kind served from the topology is to the request handlers: a Store (list,
// get, watch) with the kind's names and table.
type Resource interface {
	rest.Storage
	rest.Scoper
	rest.Getter
	rest.Lister
	rest.Watcher
	rest.TableConvertor
	rest.SingularNameProvider
	rest.ShortNamesProvider
}

// Store lists, gets and watches the objects of the clusters that Clusters lists.
type Store[P Object[T], T any] struct {
	clusters ClusterLister
	resource schema.GroupResource
	newList  func() runtime.Object
	cache    *cache[P, T]
}

// New makes the store of a kind; Destroy stops its readers.
func New[P Object[T], T any](clusters ClusterLister, config Config[P, T]) *Store[P, T] {
	clk := config.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	idleTimeout := cmp.Or(config.IdleTimeout, DefaultIdleTimeout)
	return &Store[P, T]{
		clusters: clusters,
		resource: config.Resource,
		newList:  config.NewList,
		cache:    newCache(config.Read, clk, config.PollInterval, idleTimeout),
	}
}

// New is an empty object of the kind, for the request handlers to decode into.
func (s *Store[P, T]) New() runtime.Object { return P(new(T)) }

// NewList is an empty list of the kind.
func (s *Store[P, T]) NewList() runtime.Object { return s.newList() }

// NamespaceScoped: the objects are of the namespace's clusters.
func (s *Store[P, T]) NamespaceScoped() bool { return true }

// Destroy is called when the server stops: it ends the cache's readers, and with them the watches.
func (s *Store[P, T]) Destroy() { s.cache.stop() }

// Invalidate has the cluster read again at once, and no request answered from a reading begun
// before: for a request that has just changed the cluster (removed an object of it), so that a
// list that follows does not show the object still.
func (s *Store[P, T]) Invalidate(namespace, cluster string) { s.cache.invalidate(namespace, cluster) }

// Readers counts the clusters being read, for tests of when readers stop.
func (s *Store[P, T]) Readers() int {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	return len(s.cache.readers)
}

// List reads the objects of every cluster in the request's namespace (or in all namespaces). It
// fails with the first cluster that cannot be read, even if others could be: a list that silently
// left out a cluster's objects would tell a client (and an informer, which would delete them from
// its cache) that they are gone.
//
// The list is always of each cluster's latest reading (younger than the poll interval), which is
// as new as any resourceVersion a client can name, watches being sent the same readings; only a
// list of an exact earlier version is refused, as those are not kept.
func (s *Store[P, T]) List(ctx context.Context, options *metainternalversion.ListOptions) (runtime.Object, error) {
	objects, err := s.read(ctx, selection[P](options))
	if err != nil {
		return nil, err
	}
	set := newObjectSet(objects)
	if options != nil && options.ResourceVersionMatch == metav1.ResourceVersionMatchExact && options.ResourceVersion != set.version() {
		return nil, s.expired(options.ResourceVersion, set)
	}
	items := make([]runtime.Object, 0, len(objects))
	for _, o := range objects {
		items = append(items, withVersion(o.object, set.version()))
	}
	list := s.newList()
	if err := meta.SetList(list, items); err != nil {
		return nil, err
	}
	listMeta, err := meta.ListAccessor(list)
	if err != nil {
		return nil, err
	}
	listMeta.SetResourceVersion(set.version())
	return list, nil
}

// withVersion is a copy of the object (the cache's are shared) with the resourceVersion.
func withVersion[P Object[T], T any](o P, resourceVersion string) P {
	object := o.DeepCopyObject().(P)
	object.SetResourceVersion(resourceVersion)
	return object
}

// Get finds the object among the clusters of the namespace whose name, with a dash, begins the
// object's name. Several may (clusters "a" and "a-b"): each is asked, and a cluster that cannot be
// read fails the request only if no other has the object.
func (s *Store[P, T]) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	clusters, err := s.listClusters(ctx)
	if err != nil {
		return nil, err
	}
	clusters = slices.DeleteFunc(clusters, func(c *vitess.VitessCluster) bool { return !strings.HasPrefix(name, c.Name+"-") })
	// The longest name is the likeliest owner: "a-b-zone1-..." is more likely an object of "a-b".
	slices.SortFunc(clusters, func(a, b *vitess.VitessCluster) int { return cmp.Compare(len(b.Name), len(a.Name)) })
	var firstErr error
	for _, cluster := range clusters {
		objects, err := s.cache.objects(ctx, cluster)
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		if i := slices.IndexFunc(objects, func(o hashed[P, T]) bool { return o.object.GetName() == name }); i >= 0 {
			return withVersion(objects[i].object, newObjectSet(objects[i:i+1]).version()), nil
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, apierrors.NewNotFound(s.resource, name)
}

// read returns the objects of every cluster in the context's namespace that selected accepts,
// sorted by namespace and name. They are the cache's, shared: callers copy what they change.
func (s *Store[P, T]) read(ctx context.Context, selected func(P) bool) ([]hashed[P, T], error) {
	clusters, err := s.listClusters(ctx)
	if err != nil {
		return nil, err
	}
	var objects []hashed[P, T]
	for _, cluster := range clusters {
		clusterObjects, err := s.cache.objects(ctx, cluster)
		if err != nil {
			return nil, err
		}
		objects = appendSelected(objects, clusterObjects, selected)
	}
	sortObjects(objects)
	return objects, nil
}

func appendSelected[P Object[T], T any](to, objects []hashed[P, T], selected func(P) bool) []hashed[P, T] {
	for _, o := range objects {
		if selected(o.object) {
			to = append(to, o)
		}
	}
	return to
}

func sortObjects[P Object[T], T any](objects []hashed[P, T]) {
	slices.SortFunc(objects, func(a, b hashed[P, T]) int {
		return cmp.Or(strings.Compare(a.object.GetNamespace(), b.object.GetNamespace()), strings.Compare(a.object.GetName(), b.object.GetName()))
	})
}

func (s *Store[P, T]) listClusters(ctx context.Context) ([]*vitess.VitessCluster, error) {
	obj, err := s.clusters.List(ctx, &metainternalversion.ListOptions{})
	if err != nil {
		return nil, err
	}
	list, ok := obj.(*vitess.VitessClusterList)
	if !ok {
		return nil, fmt.Errorf("listing VitessClusters returned %T", obj)
	}
	clusters := make([]*vitess.VitessCluster, len(list.Items))
	for i := range list.Items {
		clusters[i] = &list.Items[i]
	}
	return clusters, nil
}

// selection is whether an object matches the label and field selectors of a list or watch. The
// fields are those every object has (metadata.name and metadata.namespace, as
// generic.ObjectMetaFieldsSet gives them): the request handler has already refused others.
func selection[P Object[T], T any](options *metainternalversion.ListOptions) func(P) bool {
	label, field := labels.Everything(), fields.Everything()
	if options != nil && options.LabelSelector != nil {
		label = options.LabelSelector
	}
	if options != nil && options.FieldSelector != nil {
		field = options.FieldSelector
	}
	return func(o P) bool {
		return label.Matches(labels.Set(o.GetLabels())) && field.Matches(fields.Set{"metadata.name": o.GetName(), "metadata.namespace": o.GetNamespace()})
	}
}
