package vitesskeyspace

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

var table = registry.Table[*vitess.VitessKeyspace]{
	Columns: []metav1.TableColumnDefinition{
		registry.Column("Keyspace", "The keyspace's name in Vitess.", 0),
		registry.Column("Cluster", "The owning VitessCluster.", 0),
		registry.Column("Shards", "Serving shards, of those declared.", 0),
		registry.Column("Tablets", "Ready tablets, of those desired.", 0),
		registry.Column("Durability", "The Vitess durability policy.", 1),
		registry.Column("Serving", "The shards that serve the primary tablet type.", 1),
		registry.Column("Ready", "The Ready condition.", 0),
	},
	Cells: func(k *vitess.VitessKeyspace) []any {
		s := k.Status
		return []any{k.Spec.Name, k.Spec.Cluster, registry.Ratio(s.Shards.Ready, s.Shards.Desired),
			registry.Ratio(s.Tablets.Ready, s.Tablets.Desired), k.Spec.DurabilityPolicy,
			strings.Join(s.ServingShards, ","), registry.ConditionStatus(s.Conditions, vitess.ConditionReady)}
	},
}
