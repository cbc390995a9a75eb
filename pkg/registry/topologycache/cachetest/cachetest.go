// Package cachetest holds what the tests of the kinds that topologycache serves share: clusters
// to read, and requests in a namespace.
package cachetest

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// Clusters are VitessClusters as their store lists and gets them: a topologycache.ClusterLister.
type Clusters []vitess.VitessCluster

func (c Clusters) List(ctx context.Context, _ *metainternalversion.ListOptions) (runtime.Object, error) {
	namespace := genericapirequest.NamespaceValue(ctx)
	list := &vitess.VitessClusterList{}
	for _, cluster := range c {
		if namespace == "" || cluster.Namespace == namespace {
			list.Items = append(list.Items, cluster)
		}
	}
	return list, nil
}

func (c Clusters) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	for _, cluster := range c {
		if cluster.Namespace == genericapirequest.NamespaceValue(ctx) && cluster.Name == name {
			return cluster.DeepCopy(), nil
		}
	}
	return nil, apierrors.NewNotFound(vitess.Resource("vitessclusters"), name)
}

// Cluster is a VitessCluster with a name alone.
func Cluster(namespace, name string) vitess.VitessCluster {
	return vitess.VitessCluster{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
}

// InNamespace is the context of a request in the namespace.
func InNamespace(namespace string) context.Context {
	return genericapirequest.WithNamespace(context.Background(), namespace)
}

// Lister is what List lists: a kind's REST, or its topologycache.Store.
type Lister interface {
	List(ctx context.Context, options *metainternalversion.ListOptions) (runtime.Object, error)
}

// List lists, failing the test if that fails, and returns the list as its type L.
func List[L runtime.Object](t testing.TB, lister Lister, ctx context.Context, options *metainternalversion.ListOptions) L {
	t.Helper()
	obj, err := lister.List(ctx, options)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(L)
}

// Names are the names of a list's items, in order.
func Names(list runtime.Object) []string {
	items, err := meta.ExtractList(list)
	if err != nil {
		panic(err)
	}
	var names []string
	for _, item := range items {
		names = append(names, item.(metav1.Object).GetName())
	}
	return names
}
