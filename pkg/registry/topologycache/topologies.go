package topologycache

import (
	"context"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

// Topologies gives the topology of a VitessCluster as I, the calls a kind reads it with: the
// cluster's vtctld client, or a test's fake.
type Topologies[I any] interface {
	Topology(ctx context.Context, namespace, cluster string) (I, error)
}

// VtctldTopologies reads each cluster's topology through its vtctld. I must be an interface that
// *vtctld.Client implements, which each kind asserts where it declares I.
func VtctldTopologies[I any](vtctlds registry.Vtctlds) Topologies[I] {
	return vtctldTopologies[I]{vtctlds}
}

type vtctldTopologies[I any] struct{ vtctlds registry.Vtctlds }

func (v vtctldTopologies[I]) Topology(ctx context.Context, namespace, cluster string) (I, error) {
	client, err := v.vtctlds.Vtctld(ctx, namespace, cluster)
	if err != nil {
		var none I
		return none, err
	}
	return any(client).(I), nil
}
