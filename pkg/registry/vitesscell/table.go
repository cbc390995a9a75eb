package vitesscell

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

var table = registry.Table[*vitess.VitessCell]{
	Columns: []metav1.TableColumnDefinition{
		registry.Column("Cell", "The cell's name in Vitess.", 0),
		registry.Column("Gateway", "Ready vtgate Pods, of those desired.", 0),
		registry.Column("Registered", "Whether the cell exists in the Vitess topology.", 0),
		registry.Column("Ready", "The Ready condition.", 0),
		registry.Column("Service", "The cell's vtgate Service.", 1),
	},
	Cells: func(c *vitess.VitessCell) []any {
		s := c.Status
		return []any{c.Spec.Name, registry.Ratio(s.Gateway.Ready, s.Gateway.Desired), s.Registered,
			registry.ConditionStatus(s.Conditions, vitess.ConditionReady), s.GatewayServiceName}
	},
}
