package vitessbackup

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

// table gives the columns of `kubectl get vitessbackups`, between Name and Age (the backup's, its
// creationTimestamp being the backup's time). There is no size: Vitess' GetBackups reports none.
var table = registry.Table[*vitess.VitessBackup]{
	Columns: []metav1.TableColumnDefinition{
		registry.Column("Cluster", "The VitessCluster the backup belongs to.", 0),
		registry.Column("Keyspace", "The keyspace backed up.", 0),
		registry.Column("Shard", "The shard backed up.", 0),
		registry.Column("Tablet", "The tablet the backup was taken from.", 0),
		registry.Column("Engine", "The backup engine that made it.", 0),
		registry.Column("Phase", "Vitess' status of the backup: Complete, Incomplete (being made, or abandoned), Valid or Invalid.", 0),
		{Name: "Complete", Type: "boolean", Description: "Whether the backup can be restored from."},
		registry.Column("Backup", "Vitess' name of the backup.", 1),
	},
	Cells: func(b *vitess.VitessBackup) []any {
		s := b.Status
		return []any{s.Cluster, s.Keyspace, s.Shard, s.TabletAlias, s.Engine, s.Phase, s.Complete, s.Name}
	},
}
