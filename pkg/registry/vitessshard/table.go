package vitessshard

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

var table = registry.Table[*vitess.VitessShard]{
	Columns: []metav1.TableColumnDefinition{
		registry.Column("Keyspace", "The keyspace the shard belongs to.", 0),
		registry.Column("Shard", "The shard's name in Vitess.", 0),
		registry.Column("Tablets", "Ready tablets, of those desired.", 0),
		registry.Column("Primary", "The alias of the elected primary tablet.", 0),
		registry.Column("Serving", "Whether the shard serves the primary tablet type.", 0),
		registry.Column("Ready", "The Ready condition.", 0),
		registry.Column("Cluster", "The owning VitessCluster.", 1),
	},
	Cells: func(sh *vitess.VitessShard) []any {
		s := sh.Status
		return []any{sh.Spec.KeyspaceName, sh.Spec.Name, registry.Ratio(s.Tablets.Ready, s.Tablets.Desired),
			s.PrimaryAlias, s.Serving, registry.ConditionStatus(s.Conditions, vitess.ConditionReady), sh.Spec.Cluster}
	},
}
