package vtctld

import (
	"errors"
	"testing"
)

const (
	uuidA = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	uuidB = "d00b819a-ed35-11f1-bc87-02fc00000001"
)

func TestGTIDSetContains(t *testing.T) {
	for _, tc := range []struct {
		set, other string
		want       bool
	}{
		{"", "", true},
		{uuidA + ":1-5", "", true},
		{"", uuidA + ":1", false},
		{uuidA + ":1-5", uuidA + ":2-4", true},
		{uuidA + ":1-5", uuidA + ":5-6", false},
		{uuidA + ":1-3:4-5", uuidA + ":2-5", true}, // adjacent intervals merge
		{uuidA + ":1-3:5", uuidA + ":2-5", false},
		{"MySQL56/" + uuidA + ":1-5,\n" + uuidB + ":1-24", uuidB + ":7," + uuidA + ":5", true},
		{uuidA + ":1-5", uuidB + ":1", false},
		{uuidA + ":1-5", "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5", true},
		{uuidA + ":tag1:1-5", uuidA + ":1", false}, // a tag is a source of its own
		{uuidA + ":1-2:tag1:1-5", uuidA + ":tag1:3:1", true},
	} {
		set, err := parseGTIDSet(tc.set)
		if err != nil {
			t.Fatal(err)
		}
		other, err := parseGTIDSet(tc.other)
		if err != nil {
			t.Fatal(err)
		}
		if got := set.contains(other); got != tc.want {
			t.Errorf("%q contains %q = %v, want %v", tc.set, tc.other, got, tc.want)
		}
	}
}

func TestParseGTIDSetRefusesWhatIsNotOne(t *testing.T) {
	for _, text := range []string{uuidA, uuidA + ":", uuidA + ":0", uuidA + ":5-3", ":1-5", uuidA + ":1-x"} {
		if _, err := parseGTIDSet(text); err == nil {
			t.Errorf("parseGTIDSet(%q) = nil error", text)
		}
	}
}

func TestMostAdvanced(t *testing.T) {
	sets := func(texts ...string) []gtidSet {
		var out []gtidSet
		for _, text := range texts {
			set, err := parseGTIDSet(text)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, set)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		sets  []gtidSet
		want  int
		fails bool
	}{
		{name: "new shard: all empty, the first", sets: sets("", "", ""), want: 0},
		{name: "the second has one more", sets: sets(uuidA+":1-5", uuidA+":1-6"), want: 1},
		{name: "the third has what both others have", sets: sets(uuidA+":1-5", uuidB+":1", uuidA+":1-5,"+uuidB+":1"), want: 2},
		{name: "equal: the first", sets: sets(uuidA+":1-5", uuidA+":1-5"), want: 0},
		{name: "diverged", sets: sets(uuidA+":1-5", uuidB+":1"), fails: true},
	} {
		got, err := mostAdvanced(tc.sets)
		if tc.fails {
			if !errors.Is(err, errDivergedReplicas) {
				t.Errorf("%s: mostAdvanced = %d, %v; want errDivergedReplicas", tc.name, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: mostAdvanced = %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
}

// FuzzGTIDSet: any text either fails to parse or gives a set that contains itself and what it
// was parsed from once printed intervals are merged.
func FuzzGTIDSet(f *testing.F) {
	f.Add("MySQL56/" + uuidA + ":1-5:7," + uuidB + ":tag:1-3")
	f.Add(uuidA + ":1-3:2-9:12")
	f.Fuzz(func(t *testing.T, text string) {
		set, err := parseGTIDSet(text)
		if err != nil {
			return
		}
		if !set.contains(set) {
			t.Fatalf("%q does not contain itself", text)
		}
		for source, intervals := range set {
			for i := 1; i < len(intervals); i++ {
				if intervals[i].first <= intervals[i-1].last+1 {
					t.Fatalf("%q: intervals of %s not merged: %v", text, source, intervals)
				}
			}
		}
	})
}
