package registry

import (
	"context"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// Vtctlds gives the client of the vtctld that serves a VitessCluster.
type Vtctlds interface {
	Vtctld(ctx context.Context, namespace, cluster string) (*vtctld.Client, error)
}

// ClusterVtctlds finds a cluster's vtctld from the stored VitessCluster, and keeps one client
// per address. A cluster that does not exist is a conflict: the request names a keyspace or
// workflow whose cluster is gone.
type ClusterVtctlds struct {
	clusters rest.Getter
	// address is where a cluster's vtctld answers: its Service, or the address an annotation
	// names.
	address func(metav1.Object) string

	mu      sync.Mutex
	clients map[string]*vtctld.Client
}

var _ Vtctlds = &ClusterVtctlds{}

// NewClusterVtctlds reads clusters from the vitessclusters store.
func NewClusterVtctlds(clusters rest.Getter, address func(metav1.Object) string) *ClusterVtctlds {
	return &ClusterVtctlds{clusters: clusters, address: address, clients: map[string]*vtctld.Client{}}
}

func (c *ClusterVtctlds) Vtctld(ctx context.Context, namespace, cluster string) (*vtctld.Client, error) {
	obj, err := c.clusters.Get(genericapirequest.WithNamespace(ctx, namespace), cluster, &metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, apierrors.NewConflict(vitess.Resource("vitessclusters"), cluster, fmt.Errorf("VitessCluster %s/%s does not exist", namespace, cluster))
	}
	if err != nil {
		return nil, err
	}
	address := c.address(obj.(*vitess.VitessCluster))
	c.mu.Lock()
	defer c.mu.Unlock()
	if client, ok := c.clients[address]; ok {
		return client, nil
	}
	client, err := vtctld.Dial(address)
	if err != nil {
		return nil, err
	}
	c.clients[address] = client
	return client, nil
}
