package vitessworkflow

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

var table = registry.Table[*vitess.VitessWorkflow]{
	Columns: []metav1.TableColumnDefinition{
		registry.Column("Type", "MoveTables or Reshard.", 0),
		registry.Column("Target", "The target keyspace.", 0),
		registry.Column("Phase", "The workflow's progress: Copying, Running, Error, Completed...", 0),
		registry.Column("Copied", "The share of rows copied while copying.", 0),
		registry.Column("Lag", "The largest replication lag among the streams.", 0),
		registry.Column("Reads", "Tablet types whose reads the target serves.", 0),
		registry.Column("Writes", "Whether the target serves writes.", 0),
		registry.Column("Traffic", "Vitess' description of the traffic state.", 1),
		registry.Column("VDiff", "The last VDiff's state and whether it found a mismatch.", 1),
	},
	Cells: func(w *vitess.VitessWorkflow) []any {
		s := w.Status
		lag := ""
		if s.Phase == vitess.WorkflowPhaseRunning {
			lag = fmt.Sprintf("%ds", s.MaxReplicationLagSeconds)
		}
		writes := "No"
		if s.WritesSwitched {
			writes = "Yes"
		}
		vdiff := ""
		if d := s.LastVDiff; d != nil {
			vdiff = d.State
			if d.HasMismatch {
				vdiff += " (mismatch)"
			}
		}
		return []any{string(w.Spec.Type), w.Spec.TargetKeyspace, string(s.Phase), s.CopyProgress, lag,
			strings.Join(s.ReadsSwitched, ","), writes, s.TrafficState, vdiff}
	},
}
