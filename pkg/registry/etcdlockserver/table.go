package etcdlockserver

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

var table = registry.Table[*vitess.EtcdLockserver]{
	Columns: []metav1.TableColumnDefinition{
		registry.Column("Members", "Ready etcd members, of those deployed.", 0),
		registry.Column("Ready", "The Ready condition.", 0),
		registry.Column("Service", "The client Service Vitess connects to.", 1),
	},
	Cells: func(l *vitess.EtcdLockserver) []any {
		return []any{
			registry.Ratio(l.Status.Members.Ready, l.Status.Members.Desired),
			registry.ConditionStatus(l.Status.Conditions, vitess.ConditionReady),
			l.Status.ClientServiceName,
		}
	},
}
