package vtctld

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"
	vttimepb "vitess.io/vitess/go/vt/proto/vttime"
)

// WorkflowOptions tune how a new workflow copies and replicates. Vitess' protobuf zero values
// are not vtctldclient's defaults, so every field is sent explicitly.
type WorkflowOptions struct {
	Cells              []string
	TabletTypes        []string // e.g. "replica", "primary"; empty: Vitess' choice (replica, then primary)
	OnDDL              string   // IGNORE (default), STOP, EXEC, EXEC_IGNORE
	StopAfterCopy      bool
	DeferSecondaryKeys bool
	AutoStart          bool
}

func (o WorkflowOptions) tabletTypes() ([]topodatapb.TabletType, error) {
	types := make([]topodatapb.TabletType, 0, len(o.TabletTypes))
	for _, name := range o.TabletTypes {
		t, ok := topodatapb.TabletType_value[strings.ToUpper(name)]
		if !ok {
			return nil, fmt.Errorf("unknown tablet type %q", name)
		}
		types = append(types, topodatapb.TabletType(t))
	}
	return types, nil
}

func (o WorkflowOptions) onDDL() string {
	if o.OnDDL == "" {
		return "IGNORE"
	}
	return strings.ToUpper(o.OnDDL)
}

// MoveTables is a MoveTables workflow to create.
type MoveTables struct {
	Workflow, TargetKeyspace, SourceKeyspace string
	Tables                                   []string
	AllTables                                bool
	WorkflowOptions
}

// CreateMoveTables creates (and, with AutoStart, starts) a MoveTables workflow.
func (c *Client) CreateMoveTables(ctx context.Context, w MoveTables) error {
	tabletTypes, err := w.tabletTypes()
	if err != nil {
		return err
	}
	_, err = invoke(ctx, c, "MoveTablesCreate", write, c.rpc.MoveTablesCreate, &vtctldatapb.MoveTablesCreateRequest{
		Workflow:           w.Workflow,
		TargetKeyspace:     w.TargetKeyspace,
		SourceKeyspace:     w.SourceKeyspace,
		IncludeTables:      w.Tables,
		AllTables:          w.AllTables,
		Cells:              w.Cells,
		TabletTypes:        tabletTypes,
		OnDdl:              w.onDDL(),
		StopAfterCopy:      w.StopAfterCopy,
		DeferSecondaryKeys: w.DeferSecondaryKeys,
		AutoStart:          w.AutoStart,
	})
	return err
}

// Reshard is a Reshard workflow to create.
type Reshard struct {
	Workflow, Keyspace         string
	SourceShards, TargetShards []string
	WorkflowOptions
}

// CreateReshard creates (and, with AutoStart, starts) a Reshard workflow.
func (c *Client) CreateReshard(ctx context.Context, w Reshard) error {
	tabletTypes, err := w.tabletTypes()
	if err != nil {
		return err
	}
	_, err = invoke(ctx, c, "ReshardCreate", write, c.rpc.ReshardCreate, &vtctldatapb.ReshardCreateRequest{
		Workflow:           w.Workflow,
		Keyspace:           w.Keyspace,
		SourceShards:       w.SourceShards,
		TargetShards:       w.TargetShards,
		Cells:              w.Cells,
		TabletTypes:        tabletTypes,
		OnDdl:              w.onDDL(),
		StopAfterCopy:      w.StopAfterCopy,
		DeferSecondaryKeys: w.DeferSecondaryKeys,
		AutoStart:          w.AutoStart,
	})
	return err
}

// Switch is a traffic switch of a workflow.
type Switch struct {
	Keyspace, Workflow string
	// TabletTypes whose traffic moves: "rdonly", "replica" for reads, "primary" for writes.
	TabletTypes []string
	// Reverse moves the traffic back to the source.
	Reverse bool
	// DryRun only checks that the switch can happen now.
	DryRun bool
}

// switchTimeout is how long vtctld may wait for the target to catch up during a switch, and
// maxSwitchLag the replication lag above which it refuses: vtctldclient's defaults.
const (
	switchTimeout = 30
	maxSwitchLag  = 30
)

// SwitchTraffic moves reads or writes of a workflow to its target (or back, with Reverse) and
// returns vtctld's summary; a dry run returns what it would do. Vitess refuses, with its reason,
// a switch that cannot happen now (writes while the copy has not caught up, for one).
func (c *Client) SwitchTraffic(ctx context.Context, s Switch) (string, error) {
	tabletTypes, err := WorkflowOptions{TabletTypes: s.TabletTypes}.tabletTypes()
	if err != nil {
		return "", err
	}
	direction := int32(0) // forward
	if s.Reverse {
		direction = 1
	}
	resp, err := invoke(ctx, c, "WorkflowSwitchTraffic", write, c.rpc.WorkflowSwitchTraffic, &vtctldatapb.WorkflowSwitchTrafficRequest{
		Keyspace:                 s.Keyspace,
		Workflow:                 s.Workflow,
		TabletTypes:              tabletTypes,
		Direction:                direction,
		DryRun:                   s.DryRun,
		EnableReverseReplication: true,
		Timeout:                  &vttimepb.Duration{Seconds: switchTimeout},
		MaxReplicationLagAllowed: &vttimepb.Duration{Seconds: maxSwitchLag},
	})
	if err != nil {
		return "", err
	}
	return summary(resp.GetSummary(), resp.GetDryRunResults()), nil
}

// CompleteWorkflow ends a MoveTables or Reshard workflow whose traffic has moved: it drops the
// source tables (or turns the source shards' records off) and the reverse workflow.
func (c *Client) CompleteWorkflow(ctx context.Context, keyspace, workflow string, dryRun bool) (string, error) {
	resp, err := invoke(ctx, c, "MoveTablesComplete", write, c.rpc.MoveTablesComplete, &vtctldatapb.MoveTablesCompleteRequest{
		TargetKeyspace: keyspace,
		Workflow:       workflow,
		DryRun:         dryRun,
	})
	if err != nil {
		return "", err
	}
	return summary(resp.GetSummary(), resp.GetDryRunResults()), nil
}

// CancelWorkflow deletes a workflow that has not switched writes, with the data it copied to
// the target and its routing rules.
func (c *Client) CancelWorkflow(ctx context.Context, keyspace, workflow string) (string, error) {
	resp, err := invoke(ctx, c, "WorkflowDelete", write, c.rpc.WorkflowDelete, &vtctldatapb.WorkflowDeleteRequest{
		Keyspace: keyspace,
		Workflow: workflow,
	})
	if err != nil {
		return "", err
	}
	return resp.GetSummary(), nil
}

func summary(text string, dryRun []string) string {
	return strings.TrimSpace(strings.Join(append([]string{text}, dryRun...), "\n"))
}

// Stream is one VReplication stream of a workflow.
type Stream struct {
	ID          int64
	Shard       string // target shard
	SourceShard string
	Tablet      string // the target primary that runs it
	// State is Vitess' word (Copying, Running, Stopped, Error, ...), except that a stream which
	// has not begun its copy is Copying: see Workflow.
	State      string
	Message    string
	RowsCopied int64
}

// WorkflowState is what Vitess reports of a workflow.
type WorkflowState struct {
	Streams []Stream
	// MaxLagSeconds is the largest time since a stream last processed an event.
	MaxLagSeconds int64
	// TrafficState is vtctld's text, e.g. "Reads partially switched. Replica not switched. All
	// Rdonly Reads Switched. Writes Not Switched".
	TrafficState string
	// RowsCopied and RowsTotal sum the copy phase over every table; both are zero once it is
	// over.
	RowsCopied, RowsTotal int64
}

// ErrWorkflowNotFound is returned for a workflow Vitess does not have (any longer).
var ErrWorkflowNotFound = errors.New("workflow not found")

// Workflow reads a workflow's streams, copy progress and traffic state.
func (c *Client) Workflow(ctx context.Context, keyspace, workflow string) (*WorkflowState, error) {
	list, err := invoke(ctx, c, "GetWorkflows", read, c.rpc.GetWorkflows, &vtctldatapb.GetWorkflowsRequest{Keyspace: keyspace, Workflow: workflow})
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(list.GetWorkflows(), func(w *vtctldatapb.Workflow) bool { return w.GetName() == workflow })
	if i < 0 {
		return nil, ErrWorkflowNotFound
	}
	found := list.GetWorkflows()[i]
	state := &WorkflowState{MaxLagSeconds: found.GetMaxVReplicationLag()}
	for _, shard := range found.GetShardStreams() {
		for _, s := range shard.GetStreams() {
			streamState := s.GetState()
			if streamState == "Running" && s.GetPosition() == "" {
				// A new stream is Running, with no position and no copy state, until its tablet
				// begins the copy; to anyone reading it that would look like a finished copy.
				streamState = "Copying"
			}
			state.Streams = append(state.Streams, Stream{
				ID:          s.GetId(),
				Shard:       s.GetShard(),
				SourceShard: s.GetBinlogSource().GetShard(),
				Tablet:      aliasString(s.GetTablet()),
				State:       streamState,
				Message:     s.GetMessage(),
				RowsCopied:  s.GetRowsCopied(),
			})
		}
	}
	slices.SortFunc(state.Streams, func(a, b Stream) int {
		if c := strings.Compare(a.Shard, b.Shard); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	status, err := invoke(ctx, c, "WorkflowStatus", read, c.rpc.WorkflowStatus, &vtctldatapb.WorkflowStatusRequest{Keyspace: keyspace, Workflow: workflow})
	if err != nil {
		return nil, err
	}
	state.TrafficState = status.GetTrafficState()
	for _, table := range status.GetTableCopyState() {
		state.RowsCopied += table.GetRowsCopied()
		state.RowsTotal += table.GetRowsTotal()
	}
	return state, nil
}

// ReadsSwitched is the tablet types whose reads the target serves, by a traffic state's text.
func ReadsSwitched(trafficState string) []string {
	parts := trafficParts(trafficState)
	if slices.Contains(parts, "All Reads Switched") {
		return []string{"rdonly", "replica"}
	}
	var types []string
	for _, t := range []struct{ name, all, some string }{
		{"rdonly", "All Rdonly Reads Switched", "Rdonly switched in cells:"},
		{"replica", "All Replica Reads Switched", "Replica switched in cells:"},
	} {
		if slices.ContainsFunc(parts, func(p string) bool { return p == t.all || strings.HasPrefix(p, t.some) }) {
			types = append(types, t.name)
		}
	}
	return types
}

// WritesSwitched tells whether the target serves writes, by a traffic state's text.
func WritesSwitched(trafficState string) bool {
	parts := trafficParts(trafficState)
	return slices.Contains(parts, "Writes Switched") || slices.Contains(parts, "All Writes Switched")
}

func trafficParts(trafficState string) []string {
	parts := strings.Split(trafficState, ". ")
	for i := range parts {
		parts[i] = strings.TrimSpace(strings.TrimSuffix(parts[i], "."))
	}
	return parts
}
