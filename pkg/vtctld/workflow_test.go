package vtctld

import (
	"context"
	"slices"
	"testing"

	binlogdatapb "vitess.io/vitess/go/vt/proto/binlogdata"
	querypb "vitess.io/vitess/go/vt/proto/query"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"
)

func TestTrafficState(t *testing.T) {
	for _, tc := range []struct {
		state  string
		reads  []string
		writes bool
	}{
		{"Reads Not Switched. Writes Not Switched", nil, false},
		{"Reads partially switched. Replica not switched. All Rdonly Reads Switched. Writes Not Switched", []string{"rdonly"}, false},
		{"Reads partially switched. Replica switched in cells: zone1. Rdonly not switched. Writes Not Switched", []string{"replica"}, false},
		{"All Reads Switched. Writes Not Switched", []string{"rdonly", "replica"}, false},
		{"All Reads Switched. Writes Switched", []string{"rdonly", "replica"}, true},
		{"All Reads Switched. All Writes Switched", []string{"rdonly", "replica"}, true},
	} {
		if got := ReadsSwitched(tc.state); !slices.Equal(got, tc.reads) {
			t.Errorf("ReadsSwitched(%q) = %v, want %v", tc.state, got, tc.reads)
		}
		if got := WritesSwitched(tc.state); got != tc.writes {
			t.Errorf("WritesSwitched(%q) = %v, want %v", tc.state, got, tc.writes)
		}
	}
}

func TestNamedRows(t *testing.T) {
	result := &querypb.QueryResult{
		Fields: []*querypb.Field{{Name: "vdiff_state"}, {Name: "last_error"}, {Name: "rows_compared"}},
		Rows: []*querypb.Row{
			{Lengths: []int64{9, -1, 2}, Values: []byte("completed42")},
			{Lengths: []int64{7, 4, 1}, Values: []byte("startedoops0")},
		},
	}
	got := namedRows(result)
	if len(got) != 2 || got[0]["vdiff_state"] != "completed" || got[0]["last_error"] != "" || got[0]["rows_compared"] != "42" ||
		got[1]["last_error"] != "oops" || got[1]["rows_compared"] != "0" {
		t.Errorf("namedRows = %v", got)
	}
}

func TestParseAlias(t *testing.T) {
	alias, err := parseAlias("zone-a-0000000101")
	if err != nil || alias.GetCell() != "zone-a" || alias.GetUid() != 101 || aliasString(alias) != "zone-a-0000000101" {
		t.Errorf("parseAlias = %v, %v", alias, err)
	}
	for _, bad := range []string{"", "zone1", "-101", "zone1-x"} {
		if _, err := parseAlias(bad); err == nil {
			t.Errorf("parseAlias(%q) accepted", bad)
		}
	}
}

// A stream that Vitess reports Running before its tablet has begun the copy (no position yet) is
// read as Copying: taken at its word, a workflow created a moment ago would look fully copied.
func TestWorkflowStreamNotYetCopying(t *testing.T) {
	fake := newFakeVtctld()
	stream := func(id int64, shard, state, position string) *vtctldatapb.Workflow_Stream {
		return &vtctldatapb.Workflow_Stream{Id: id, Shard: shard, State: state, Position: position,
			BinlogSource: &binlogdatapb.BinlogSource{Keyspace: "commerce", Shard: "-"}}
	}
	fake.workflows = map[string]*vtctldatapb.Workflow{"customer/commerce2customer": {
		Name: "commerce2customer",
		ShardStreams: map[string]*vtctldatapb.Workflow_ShardStream{
			"-80/zone1-0000000300": {Streams: []*vtctldatapb.Workflow_Stream{stream(1, "-80", "Running", "")}},
			"80-/zone1-0000000400": {Streams: []*vtctldatapb.Workflow_Stream{stream(2, "80-", "Running", "MySQL56/6a7c3b1e-0000-0000-0000-000000000000:1-42")}},
		},
	}}
	client := startFake(t, fake)
	state, err := client.Workflow(context.Background(), "customer", "commerce2customer")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range state.Streams {
		got = append(got, s.Shard+" "+s.State)
	}
	if want := []string{"-80 Copying", "80- Running"}; !slices.Equal(got, want) {
		t.Errorf("streams = %q, want %q", got, want)
	}
}
