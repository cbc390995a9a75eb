package registry

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apiserver/pkg/registry/rest"
)

// Table converts one kind's objects and lists to `kubectl get` rows. Name and Age are added
// around the kind's own columns.
type Table[T Object] struct {
	Columns []metav1.TableColumnDefinition
	Cells   func(T) []any
}

var _ rest.TableConvertor = Table[Object]{}

func (t Table[T]) ConvertToTable(_ context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{}
	if options, ok := tableOptions.(*metav1.TableOptions); !ok || !options.NoHeaders {
		table.ColumnDefinitions = append(append([]metav1.TableColumnDefinition{
			{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
		}, t.Columns...), metav1.TableColumnDefinition{
			Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"],
		})
	}
	addRow := func(obj runtime.Object) error {
		typed, ok := obj.(T)
		if !ok {
			return fmt.Errorf("cannot show %T in a table of %T", obj, *new(T))
		}
		cells := append([]any{typed.GetName()}, t.Cells(typed)...)
		cells = append(cells, age(typed.GetCreationTimestamp()))
		table.Rows = append(table.Rows, metav1.TableRow{Cells: cells, Object: runtime.RawExtension{Object: obj}})
		return nil
	}
	if meta.IsListType(object) {
		if err := meta.EachListItem(object, addRow); err != nil {
			return nil, err
		}
		if list, err := meta.ListAccessor(object); err == nil {
			table.ResourceVersion = list.GetResourceVersion()
			table.Continue = list.GetContinue()
			table.RemainingItemCount = list.GetRemainingItemCount()
		}
		return table, nil
	}
	if err := addRow(object); err != nil {
		return nil, err
	}
	if objMeta, err := meta.Accessor(object); err == nil {
		table.ResourceVersion = objMeta.GetResourceVersion()
	}
	return table, nil
}

func age(created metav1.Time) string {
	if created.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(created.Time))
}

// Column is a shorthand for a string column of `kubectl get`; priority 1 shows only with -o wide.
func Column(name, description string, priority int32) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: "string", Description: description, Priority: priority}
}

// ConditionStatus is a condition's status for a table cell: True, False or Unknown.
func ConditionStatus(conditions []metav1.Condition, conditionType string) string {
	if condition := meta.FindStatusCondition(conditions, conditionType); condition != nil {
		return string(condition.Status)
	}
	return string(metav1.ConditionUnknown)
}

// Ratio prints a count of ready things out of desired ones, like a Deployment's READY column.
func Ratio(ready, desired int32) string {
	return fmt.Sprintf("%d/%d", ready, desired)
}
