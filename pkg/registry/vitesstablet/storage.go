// Package vitesstablet serves VitessTablets: the tablets of the namespace's VitessClusters, read
// from Vitess' topology through each cluster's vtctld by one reader per cluster that every
// request shares (see cache.go). Nothing is stored, so the resource is read-only and its
// resourceVersions are synthetic (see version.go).
package vitesstablet

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/utils/clock"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// Values of VitessTabletStatus.ServingState.
const (
	ServingStateServing    = "Serving"
	ServingStateNotServing = "NotServing"
)

// ClusterLister lists VitessClusters in the context's namespace, or in all namespaces when it has
// none: the vitessclusters store.
type ClusterLister interface {
	List(ctx context.Context, options *metainternalversion.ListOptions) (runtime.Object, error)
}

// Topology is what REST reads of one cluster's Vitess topology; a *vtctld.Client is one.
type Topology interface {
	AllTablets(ctx context.Context) ([]vtctld.TabletRecord, error)
	ShardRoutes(ctx context.Context, keyspace string, cells []string) ([]vtctld.ShardRoute, error)
}

// Topologies gives the topology of a VitessCluster.
type Topologies interface {
	Topology(ctx context.Context, namespace, cluster string) (Topology, error)
}

// VtctldTopologies reads each cluster's topology through its vtctld.
func VtctldTopologies(vtctlds registry.Vtctlds) Topologies { return vtctldTopologies{vtctlds} }

type vtctldTopologies struct{ vtctlds registry.Vtctlds }

func (v vtctldTopologies) Topology(ctx context.Context, namespace, cluster string) (Topology, error) {
	client, err := v.vtctlds.Vtctld(ctx, namespace, cluster)
	if err != nil {
		return nil, err
	}
	return client, nil
}

// REST serves vitesstablets. It is not in the category the stored kinds share: listing it needs a
// reading of every cluster's topology, and `kubectl get vitess` must not fail while a vtctld is
// unreachable.
type REST struct {
	clusters ClusterLister
	cache    *tabletCache
}

var (
	_ rest.Storage              = &REST{}
	_ rest.Scoper               = &REST{}
	_ rest.Getter               = &REST{}
	_ rest.Lister               = &REST{}
	_ rest.Watcher              = &REST{}
	_ rest.TableConvertor       = &REST{}
	_ rest.SingularNameProvider = &REST{}
	_ rest.ShortNamesProvider   = &REST{}
)

// NewREST serves the tablets of the clusters that clusters lists, read from topologies. Destroy
// stops its readers.
func NewREST(clusters ClusterLister, topologies Topologies) *REST {
	return newREST(clusters, topologies, clock.RealClock{}, defaultPollInterval, defaultIdleTimeout)
}

func newREST(clusters ClusterLister, topologies Topologies, clock clock.WithTicker, pollInterval, idleTimeout time.Duration) *REST {
	return &REST{clusters: clusters, cache: newTabletCache(topologies, clock, pollInterval, idleTimeout)}
}

func (r *REST) New() runtime.Object     { return &vitess.VitessTablet{} }
func (r *REST) NewList() runtime.Object { return &vitess.VitessTabletList{} }
func (r *REST) NamespaceScoped() bool   { return true }
func (r *REST) GetSingularName() string { return "vitesstablet" }
func (r *REST) ShortNames() []string    { return []string{"vtt"} }

// Destroy is called when the server stops: it ends the cache's readers, and with them the watches.
func (r *REST) Destroy() { r.cache.stop() }

// List reads the tablets of every cluster in the request's namespace (or in all namespaces). It
// fails with the first cluster whose topology cannot be read, even if others could be: a list
// that silently left out a cluster's tablets would tell a client (and an informer, which would
// delete them from its cache) that they are gone.
//
// The list is always of each cluster's latest reading (younger than the poll interval), which is
// as new as any resourceVersion a client can name, watches being sent the same readings; only a
// list of an exact earlier version is refused, as those are not kept.
func (r *REST) List(ctx context.Context, options *metainternalversion.ListOptions) (runtime.Object, error) {
	tablets, err := r.read(ctx, selection(options))
	if err != nil {
		return nil, err
	}
	set := newTabletSet(tablets)
	if options != nil && options.ResourceVersionMatch == metav1.ResourceVersionMatchExact && options.ResourceVersion != set.version() {
		return nil, expired(options.ResourceVersion, set)
	}
	list := &vitess.VitessTabletList{
		ListMeta: metav1.ListMeta{ResourceVersion: set.version()},
		Items:    make([]vitess.VitessTablet, 0, len(tablets)),
	}
	for _, t := range tablets {
		item := t.tablet.DeepCopy() // the cache's tablets are shared
		item.ResourceVersion = set.version()
		list.Items = append(list.Items, *item)
	}
	return list, nil
}

// Get finds the tablet among the clusters of the namespace whose name, with a dash, begins the
// tablet's name. Several may (clusters "a" and "a-b"): each is asked, and a cluster that cannot
// be read fails the request only if no other has the tablet.
func (r *REST) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	clusters, err := r.listClusters(ctx)
	if err != nil {
		return nil, err
	}
	clusters = slices.DeleteFunc(clusters, func(c *vitess.VitessCluster) bool { return !strings.HasPrefix(name, c.Name+"-") })
	// The longest name is the likeliest owner: "a-b-zone1-..." is more likely a tablet of "a-b".
	slices.SortFunc(clusters, func(a, b *vitess.VitessCluster) int { return cmp.Compare(len(b.Name), len(a.Name)) })
	var firstErr error
	for _, cluster := range clusters {
		tablets, err := r.cache.tablets(ctx, cluster)
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		if i := slices.IndexFunc(tablets, func(t hashedTablet) bool { return t.tablet.Name == name }); i >= 0 {
			tablet := tablets[i].tablet.DeepCopy() // the cache's tablets are shared
			tablet.ResourceVersion = newTabletSet(tablets[i : i+1]).version()
			return tablet, nil
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, apierrors.NewNotFound(vitess.Resource("vitesstablets"), name)
}

// read returns the tablets of every cluster in the context's namespace that selected accepts,
// sorted by namespace and name. They are the cache's, shared: callers copy what they change.
func (r *REST) read(ctx context.Context, selected func(*vitess.VitessTablet) bool) ([]hashedTablet, error) {
	clusters, err := r.listClusters(ctx)
	if err != nil {
		return nil, err
	}
	var tablets []hashedTablet
	for _, cluster := range clusters {
		clusterTablets, err := r.cache.tablets(ctx, cluster)
		if err != nil {
			return nil, err
		}
		tablets = appendSelected(tablets, clusterTablets, selected)
	}
	sortTablets(tablets)
	return tablets, nil
}

func appendSelected(to, tablets []hashedTablet, selected func(*vitess.VitessTablet) bool) []hashedTablet {
	for _, t := range tablets {
		if selected(t.tablet) {
			to = append(to, t)
		}
	}
	return to
}

func sortTablets(tablets []hashedTablet) {
	slices.SortFunc(tablets, func(a, b hashedTablet) int {
		return cmp.Or(strings.Compare(a.tablet.Namespace, b.tablet.Namespace), strings.Compare(a.tablet.Name, b.tablet.Name))
	})
}

func (r *REST) listClusters(ctx context.Context) ([]*vitess.VitessCluster, error) {
	obj, err := r.clusters.List(ctx, &metainternalversion.ListOptions{})
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

// readCluster reads the cluster's tablets, and the serving graph of their keyspaces in their
// cells.
func readCluster(ctx context.Context, topologies Topologies, namespace, cluster string) ([]*vitess.VitessTablet, error) {
	action := fmt.Sprintf("listing the tablets of cluster %s/%s", namespace, cluster)
	topology, err := topologies.Topology(ctx, namespace, cluster)
	if err != nil {
		return nil, vtctld.APIError(err, action)
	}
	records, err := topology.AllTablets(ctx)
	if err != nil {
		return nil, vtctld.APIError(err, action)
	}
	cellsOfKeyspace := map[string][]string{}
	for _, t := range records {
		if !slices.Contains(cellsOfKeyspace[t.Keyspace], t.Cell) {
			cellsOfKeyspace[t.Keyspace] = append(cellsOfKeyspace[t.Keyspace], t.Cell)
		}
	}
	routed := map[vtctld.ShardRoute]bool{}
	for keyspace, cells := range cellsOfKeyspace {
		routes, err := topology.ShardRoutes(ctx, keyspace, cells)
		if err != nil {
			return nil, vtctld.APIError(err, action)
		}
		for _, route := range routes {
			routed[route] = true
		}
	}
	tablets := make([]*vitess.VitessTablet, 0, len(records))
	for _, t := range records {
		serving := routed[vtctld.ShardRoute{Cell: t.Cell, TabletType: t.Type, Shard: t.Shard}]
		tablets = append(tablets, newTablet(namespace, cluster, t, serving))
	}
	return tablets, nil
}

func newTablet(namespace, cluster string, record vtctld.TabletRecord, serving bool) *vitess.VitessTablet {
	labels := map[string]string{
		vitess.LabelCluster:    cluster,
		vitess.LabelCell:       record.Cell,
		vitess.LabelKeyspace:   record.Keyspace,
		vitess.LabelTabletType: strings.ToLower(record.Type),
		vitess.LabelTabletUID:  names.TabletUIDString(record.UID),
	}
	// The operator's label value for a shard is its range's safe name ("x-80"), as a label value
	// cannot begin or end with "-". Vitess accepts a few shard names that are not ranges; such a
	// shard gets no label rather than one no selector written for the operator would match.
	if keyRange, err := vitess.ParseKeyRange(record.Shard); err == nil {
		labels[vitess.LabelShard] = keyRange.SafeName()
	}
	tablet := &vitess.VitessTablet{
		ObjectMeta: metav1.ObjectMeta{
			Name:      cluster + "-" + record.Alias,
			Namespace: namespace,
			Labels:    labels,
		},
		Status: vitess.VitessTabletStatus{
			Cluster:      cluster,
			Alias:        record.Alias,
			Cell:         record.Cell,
			Keyspace:     record.Keyspace,
			Shard:        record.Shard,
			Type:         record.Type,
			ServingState: ServingStateNotServing,
			Hostname:     record.Hostname,
		},
	}
	if serving {
		tablet.Status.ServingState = ServingStateServing
	}
	if !record.PrimaryTermStartTime.IsZero() {
		start := metav1.NewTime(record.PrimaryTermStartTime)
		tablet.Status.PrimaryTermStartTime = &start
	}
	return tablet
}

// selection is whether a tablet matches the label and field selectors of a list or watch. The
// fields are those every object has (metadata.name and metadata.namespace): the request handler
// has already refused others.
func selection(options *metainternalversion.ListOptions) func(*vitess.VitessTablet) bool {
	label, field := labels.Everything(), fields.Everything()
	if options != nil && options.LabelSelector != nil {
		label = options.LabelSelector
	}
	if options != nil && options.FieldSelector != nil {
		field = options.FieldSelector
	}
	return func(t *vitess.VitessTablet) bool {
		return label.Matches(labels.Set(t.Labels)) && field.Matches(generic.ObjectMetaFieldsSet(&t.ObjectMeta, true))
	}
}
