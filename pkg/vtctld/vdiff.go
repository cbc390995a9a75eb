package vtctld

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"

	querypb "vitess.io/vitess/go/vt/proto/query"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"
)

// StartVDiff schedules a VDiff of a workflow on its target shards and returns its UUID; VDiff
// reads its outcome.
func (c *Client) StartVDiff(ctx context.Context, keyspace, workflow string) (string, error) {
	uuid := newUUID()
	autoStart := true
	resp, err := invoke(ctx, c, "VDiffCreate", write, c.rpc.VDiffCreate, &vtctldatapb.VDiffCreateRequest{
		TargetKeyspace: keyspace,
		Workflow:       workflow,
		Uuid:           uuid,
		AutoStart:      &autoStart,
	})
	if err != nil {
		return "", err
	}
	if resp.GetUUID() != "" {
		uuid = resp.GetUUID()
	}
	return uuid, nil
}

// VDiffState is the outcome of a VDiff, summed over its shards as vtctldclient does.
type VDiffState struct {
	// State is pending, started, completed or error.
	State        string
	HasMismatch  bool
	RowsCompared int64
	// CompletedAt is when the last shard finished, as Vitess prints it ("2026-11-24 10:00:00"
	// UTC); empty until then.
	CompletedAt string
	// Errors are the shards' last errors, by shard.
	Errors map[string]string
}

// VDiff reads the state of the VDiff with the given UUID.
func (c *Client) VDiff(ctx context.Context, keyspace, workflow, uuid string) (*VDiffState, error) {
	resp, err := invoke(ctx, c, "VDiffShow", read, c.rpc.VDiffShow, &vtctldatapb.VDiffShowRequest{
		TargetKeyspace: keyspace,
		Workflow:       workflow,
		Arg:            uuid,
	})
	if err != nil {
		return nil, err
	}
	state := &VDiffState{Errors: map[string]string{}}
	shards, completed, started := 0, 0, 0
	for shard, tablet := range resp.GetTabletResponses() {
		rows := namedRows(tablet.GetOutput())
		if len(rows) == 0 {
			continue
		}
		shards++
		// Every row repeats the shard's own state; the table rows add up.
		switch rows[0]["vdiff_state"] {
		case "completed":
			completed++
		case "started":
			started++
		case "error":
			state.State = "error"
		}
		if e := rows[0]["last_error"]; e != "" {
			state.Errors[shard] = e
		}
		if at := rows[0]["completed_at"]; at > state.CompletedAt {
			state.CompletedAt = at
		}
		for _, row := range rows {
			n, _ := strconv.ParseInt(row["rows_compared"], 10, 64)
			state.RowsCompared += n
			if mismatch, _ := strconv.ParseBool(row["has_mismatch"]); mismatch {
				state.HasMismatch = true
			}
		}
	}
	switch {
	case shards == 0:
		return nil, fmt.Errorf("vtctld has no VDiff %s for workflow %s.%s", uuid, keyspace, workflow)
	case state.State == "error":
	case completed == shards:
		state.State = "completed"
	case started > 0 || completed > 0:
		state.State, state.CompletedAt = "started", ""
	default:
		state.State, state.CompletedAt = "pending", ""
	}
	return state, nil
}

// namedRows turns a query result into one map per row, from column name to value (NULL is
// empty).
func namedRows(result *querypb.QueryResult) []map[string]string {
	rows := make([]map[string]string, 0, len(result.GetRows()))
	for _, row := range result.GetRows() {
		named := map[string]string{}
		offset := int64(0)
		for i, length := range row.GetLengths() {
			if i >= len(result.GetFields()) || length < 0 {
				continue
			}
			named[result.GetFields()[i].GetName()] = string(row.GetValues()[offset : offset+length])
			offset += length
		}
		rows = append(rows, named)
	}
	return rows
}

// newUUID is a random (version 4) UUID, the form VDiff identifiers take.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
