package etcdlockserver

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

// NewStorage returns the storage of etcdlockservers and etcdlockservers/status.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (rest.Storage, rest.Storage, error) {
	return registry.NewStores(optsGetter, registry.Kind{
		Resource:       "etcdlockservers",
		Singular:       "etcdlockserver",
		ShortNames:     []string{"vtetcd"},
		NewFunc:        func() runtime.Object { return &vitess.EtcdLockserver{} },
		NewList:        func() runtime.Object { return &vitess.EtcdLockserverList{} },
		Strategy:       NewStrategy(scheme),
		StatusStrategy: NewStatusStrategy(scheme),
		Table:          table,
	})
}
