package vtctld

import (
	"slices"
	"testing"

	querypb "vitess.io/vitess/go/vt/proto/query"
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
