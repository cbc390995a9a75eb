package vitesstablet

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

// The columns of `kubectl get vitesstablets`. Unlike the stored kinds' tables (registry.Table)
// there is no AGE: the topology does not record when a tablet was created, and a tablet has no
// creationTimestamp.
var columns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
	registry.Column("Cluster", "The VitessCluster the tablet belongs to.", 0),
	registry.Column("Alias", "Vitess' name of the tablet: <cell>-<uid>.", 0),
	registry.Column("Keyspace", "The keyspace the tablet serves.", 0),
	registry.Column("Shard", "The shard the tablet serves.", 0),
	registry.Column("Type", "The tablet's current type: PRIMARY, REPLICA, RDONLY, ...", 0),
	registry.Column("Serving", "Serving when vtgate routes the tablet's type to its shard in its cell.", 0),
	registry.Column("Hostname", "Where the tablet is reached.", 0),
}

func (r *REST) ConvertToTable(_ context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{}
	if options, ok := tableOptions.(*metav1.TableOptions); !ok || !options.NoHeaders {
		table.ColumnDefinitions = columns
	}
	addRow := func(tablet *vitess.VitessTablet) {
		s := tablet.Status
		table.Rows = append(table.Rows, metav1.TableRow{
			Cells:  []any{tablet.Name, s.Cluster, s.Alias, s.Keyspace, s.Shard, s.Type, s.ServingState, s.Hostname},
			Object: runtime.RawExtension{Object: tablet},
		})
	}
	switch obj := object.(type) {
	case *vitess.VitessTabletList:
		for i := range obj.Items {
			addRow(&obj.Items[i])
		}
		table.ResourceVersion = obj.ResourceVersion
	case *vitess.VitessTablet:
		addRow(obj)
		table.ResourceVersion = obj.ResourceVersion
	default:
		return nil, fmt.Errorf("cannot show %T in a table of VitessTablets", object)
	}
	return table, nil
}
