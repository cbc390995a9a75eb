// Package etcdlockserver stores EtcdLockservers: etcd clusters deployed as Vitess lockservers.
package etcdlockserver

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/validation"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

// NewStrategy governs writes of the spec, which the owning VitessCluster derives.
func NewStrategy(typer runtime.ObjectTyper) registry.SpecStrategy[*vitess.EtcdLockserver] {
	return registry.SpecStrategy[*vitess.EtcdLockserver]{
		NamespacedStrategy: registry.NewNamespacedStrategy(typer),
		ValidateCreate:     validation.ValidateEtcdLockserver,
		ValidateChange:     validation.ValidateEtcdLockserverUpdate,
	}
}

// NewStatusStrategy governs writes of the status, which the reconciler reports.
func NewStatusStrategy(typer runtime.ObjectTyper) registry.StatusStrategy[*vitess.EtcdLockserver] {
	return registry.StatusStrategy[*vitess.EtcdLockserver]{NamespacedStrategy: registry.NewNamespacedStrategy(typer)}
}
