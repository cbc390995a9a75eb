package vitesscluster

import (
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var table = registry.Table[*vitess.VitessCluster]{
	Columns: []metav1.TableColumnDefinition{
		registry.Column("Cells", "Cells whose vtgate serves, of those declared.", 0),
		registry.Column("Keyspaces", "Keyspaces whose shards all serve, of those declared.", 0),
		registry.Column("Tablets", "Ready tablets, of those desired.", 0),
		registry.Column("Ready", "The Ready condition.", 0),
		registry.Column("Gateway", "Where MySQL clients connect (host:port).", 1),
	},
	Cells: func(c *vitess.VitessCluster) []any {
		s := c.Status
		return []any{
			registry.Ratio(s.Cells.Ready, int32(len(c.Spec.Cells))),
			registry.Ratio(s.Keyspaces.Ready, int32(len(c.Spec.Keyspaces))),
			registry.Ratio(s.Tablets.Ready, s.Tablets.Desired),
			registry.ConditionStatus(s.Conditions, vitess.ConditionReady),
			s.GatewayEndpoint,
		}
	},
}
