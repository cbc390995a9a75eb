// Package vitesstablet serves VitessTablets: the tablets of the namespace's VitessClusters, read
// from Vitess' topology through each cluster's vtctld by one reader per cluster that every
// request shares (see package topologycache). Nothing is stored, so the resource is read-only.
package vitesstablet

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/clock"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/topologycache"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// Values of VitessTabletStatus.ServingState.
const (
	ServingStateServing    = "Serving"
	ServingStateNotServing = "NotServing"
)

// Topology is what REST reads of one cluster's Vitess topology; a *vtctld.Client is one.
type Topology interface {
	AllTablets(ctx context.Context) ([]vtctld.TabletRecord, error)
	ShardRoutes(ctx context.Context, keyspace string, cells []string) ([]vtctld.ShardRoute, error)
}

// Topologies gives the topology of a VitessCluster.
type Topologies = topologycache.Topologies[Topology]

var _ Topology = &vtctld.Client{}

// VtctldTopologies reads each cluster's topology through its vtctld.
func VtctldTopologies(vtctlds registry.Vtctlds) Topologies {
	return topologycache.VtctldTopologies[Topology](vtctlds)
}

// defaultPollInterval is how often a cluster's reader reads the topology: tablet types change on
// reparents and serving states on traffic switches, which users follow by the second, while a
// reading costs one GetTablets and one GetSrvKeyspaces per keyspace of the cluster.
const defaultPollInterval = 2 * time.Second

// REST serves vitesstablets. It is not in the category the stored kinds share: listing it needs a
// reading of every cluster's topology, and `kubectl get vitess` must not fail while a vtctld is
// unreachable.
type REST struct {
	*topologycache.Store[*vitess.VitessTablet, vitess.VitessTablet]
}

var _ topologycache.Resource = &REST{}

// NewREST serves the tablets of the clusters that clusters lists, read from topologies. Destroy
// stops its readers.
func NewREST(clusters topologycache.ClusterLister, topologies Topologies) *REST {
	return newREST(clusters, topologies, clock.RealClock{}, defaultPollInterval, topologycache.DefaultIdleTimeout)
}

func newREST(clusters topologycache.ClusterLister, topologies Topologies, clock clock.WithTicker, pollInterval, idleTimeout time.Duration) *REST {
	return &REST{topologycache.New(clusters, topologycache.Config[*vitess.VitessTablet, vitess.VitessTablet]{
		Resource: vitess.Resource("vitesstablets"),
		Read: func(ctx context.Context, namespace, cluster string) ([]*vitess.VitessTablet, error) {
			return readCluster(ctx, topologies, namespace, cluster)
		},
		NewList:      func() runtime.Object { return &vitess.VitessTabletList{} },
		PollInterval: pollInterval,
		IdleTimeout:  idleTimeout,
		Clock:        clock,
	})}
}

func (r *REST) GetSingularName() string { return "vitesstablet" }
func (r *REST) ShortNames() []string    { return []string{"vtt"} }

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
