package vitess

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseKeyRange(t *testing.T) {
	valid := []struct {
		shard     string
		want      VitessKeyRange
		canonical string
	}{
		{"-", VitessKeyRange{}, "-"},
		{"0", VitessKeyRange{}, "-"},
		{"-80", VitessKeyRange{End: "80"}, "-80"},
		{"80-", VitessKeyRange{Start: "80"}, "80-"},
		{"40-80", VitessKeyRange{Start: "40", End: "80"}, "40-80"},
		{"-8000", VitessKeyRange{End: "8000"}, "-8000"},
		{"AA-", VitessKeyRange{Start: "aa"}, "aa-"},
		{"0a-Bc", VitessKeyRange{Start: "0a", End: "bc"}, "0a-bc"},
		{"00-", VitessKeyRange{Start: "00"}, "00-"},
		{"80-8001", VitessKeyRange{Start: "80", End: "8001"}, "80-8001"},
		{"-0000000000000001", VitessKeyRange{End: "0000000000000001"}, "-0000000000000001"},
		{"ffffffffffffffff-", VitessKeyRange{Start: "ffffffffffffffff"}, "ffffffffffffffff-"},
	}
	for _, tc := range valid {
		got, err := ParseKeyRange(tc.shard)
		if err != nil {
			t.Errorf("ParseKeyRange(%q): unexpected error %v", tc.shard, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseKeyRange(%q) = %#v, want %#v", tc.shard, got, tc.want)
		}
		if name := got.ShardName(); name != tc.canonical {
			t.Errorf("ParseKeyRange(%q).ShardName() = %q, want %q", tc.shard, name, tc.canonical)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("ParseKeyRange(%q) returned a range that does not validate: %v", tc.shard, err)
		}
	}

	invalid := map[string]string{
		"":                    "want <start>-<end>",
		"1":                   "want <start>-<end>",
		"00":                  "want <start>-<end>",
		"foo":                 "want <start>-<end>",
		"--":                  "more than one",
		"-80-":                "more than one",
		"8-":                  "odd number",
		"-800":                "odd number",
		"g0-":                 "not hexadecimal",
		"0x80-":               "not hexadecimal",
		" 80-":                "not hexadecimal",
		"80-40":               "less than end",
		"80-80":               "less than end",
		"80-8000":             "less than end", // equal by value: an empty range
		"-00":                 "less than end", // [0, 0) is empty
		"00-00":               "less than end",
		"c0-80":               "less than end",
		"-000000000000000001": "longer than 16",
		"ffffffffffffffff00-": "longer than 16",
	}
	for shard, wantErr := range invalid {
		got, err := ParseKeyRange(shard)
		if err == nil {
			t.Errorf("ParseKeyRange(%q) = %#v, want an error", shard, got)
			continue
		}
		if !strings.Contains(err.Error(), wantErr) {
			t.Errorf("ParseKeyRange(%q) error %q does not mention %q", shard, err, wantErr)
		}
		if got != (VitessKeyRange{}) {
			t.Errorf("ParseKeyRange(%q) returned %#v with its error", shard, got)
		}
	}
}

func TestShardNameAndSafeName(t *testing.T) {
	tests := []struct {
		kr          VitessKeyRange
		shard, safe string
		full        bool
	}{
		{VitessKeyRange{}, "-", "x-x", true},
		{VitessKeyRange{End: "80"}, "-80", "x-80", false},
		{VitessKeyRange{Start: "80"}, "80-", "80-x", false},
		{VitessKeyRange{Start: "40", End: "80"}, "40-80", "40-80", false},
		{VitessKeyRange{Start: "AA", End: "BB"}, "aa-bb", "aa-bb", false},
	}
	for _, tc := range tests {
		if got := tc.kr.ShardName(); got != tc.shard {
			t.Errorf("%#v.ShardName() = %q, want %q", tc.kr, got, tc.shard)
		}
		if got := tc.kr.String(); got != tc.shard {
			t.Errorf("%#v.String() = %q, want %q", tc.kr, got, tc.shard)
		}
		if got := tc.kr.SafeName(); got != tc.safe {
			t.Errorf("%#v.SafeName() = %q, want %q", tc.kr, got, tc.safe)
		}
		if got := tc.kr.IsFull(); got != tc.full {
			t.Errorf("%#v.IsFull() = %v, want %v", tc.kr, got, tc.full)
		}
	}
}

func TestCompareBounds(t *testing.T) {
	starts := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "00", 0}, // the empty start is the value zero
		{"", "0000", 0},
		{"80", "8000", 0}, // right-padding: same boundary value
		{"80", "80", 0},
		{"80", "8001", -1},
		{"7f", "80", -1},
		{"7fff", "80", -1},
		{"81", "8000", 1},
		{"", "01", -1},
		{"AA", "aa", 0},
	}
	for _, tc := range starts {
		if got := CompareKeyRangeStarts(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareKeyRangeStarts(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := CompareKeyRangeStarts(tc.b, tc.a); got != -tc.want {
			t.Errorf("CompareKeyRangeStarts(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
	ends := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "ff", 1}, // the empty end is the end of the keyspace
		{"", "ffffffffffffffff", 1},
		{"00", "", -1},
		{"80", "8000", 0},
		{"80", "c0", -1},
	}
	for _, tc := range ends {
		if got := CompareKeyRangeEnds(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareKeyRangeEnds(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := CompareKeyRangeEnds(tc.b, tc.a); got != -tc.want {
			t.Errorf("CompareKeyRangeEnds(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
	endToStart := []struct {
		end, start string
		want       int
	}{
		{"80", "80", 0},
		{"80", "8000", 0},
		{"8000", "80", 0},
		{"80", "81", -1}, // gap
		{"81", "80", 1},  // overlap
		{"", "ff", 1},    // an unbounded end overlaps everything after it
		{"", "", 1},
		{"00", "", 0}, // [.., 00) is adjacent to [00, ..)
		{"01", "", 1},
	}
	for _, tc := range endToStart {
		if got := CompareKeyRangeEndToStart(tc.end, tc.start); got != tc.want {
			t.Errorf("CompareKeyRangeEndToStart(%q, %q) = %d, want %d", tc.end, tc.start, got, tc.want)
		}
	}
}

func TestCompareAndSortKeyRanges(t *testing.T) {
	ranges := []VitessKeyRange{
		{Start: "80"},
		{End: "8000"},
		{Start: "40", End: "80"},
		{},
		{End: "80"},
		{End: "40"},
		{Start: "80", End: "c0"},
	}
	SortKeyRanges(ranges)
	var names []string
	for _, kr := range ranges {
		names = append(names, kr.ShardName())
	}
	want := []string{"-40", "-80", "-8000", "-", "40-80", "80-c0", "80-"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("sorted = %v, want %v", names, want)
	}
	if CompareKeyRanges(VitessKeyRange{End: "80"}, VitessKeyRange{End: "8000"}) >= 0 {
		t.Error("ranges equal by value must still be ordered by name")
	}
}

func TestEqualContains(t *testing.T) {
	kr := func(s string) VitessKeyRange {
		t.Helper()
		r, err := ParseKeyRange(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if !kr("-80").Equal(kr("-8000")) || !kr("0").Equal(kr("-")) || !kr("00-").Equal(kr("-")) {
		t.Error("Equal must compare by value")
	}
	if kr("-80").Equal(kr("80-")) || kr("-80").Equal(kr("-")) {
		t.Error("Equal true for different ranges")
	}
	sameValue := [][]string{{"-80", "-8000", "00-80", "0000-8000"}, {"-", "0", "00-"}, {"80-", "8000-"}, {"-00"}, {"10-20"}, {"01-02"}}
	for i, group := range sameValue {
		for _, a := range group {
			for j, other := range sameValue {
				for _, b := range other {
					ra := VitessKeyRange{}
					if a != "-00" {
						ra = kr(a)
					} else {
						ra = VitessKeyRange{End: "00"}
					}
					rb := VitessKeyRange{}
					if b != "-00" {
						rb = kr(b)
					} else {
						rb = VitessKeyRange{End: "00"}
					}
					if same := ra.ValueKey() == rb.ValueKey(); same != (i == j) || (a != "-00" && b != "-00" && same != ra.Equal(rb)) {
						t.Errorf("ValueKey(%s) = %q, ValueKey(%s) = %q", a, ra.ValueKey(), b, rb.ValueKey())
					}
				}
			}
		}
	}
	contains := []struct {
		outer, inner string
		want         bool
	}{
		{"-", "-80", true},
		{"-", "-", true},
		{"-80", "-40", true},
		{"-80", "40-80", true},
		{"-80", "40-8000", true},
		{"-80", "40-81", false},
		{"40-80", "-80", false},
		{"80-", "c0-", true},
		{"80-c0", "c0-", false},
	}
	for _, tc := range contains {
		if got := kr(tc.outer).Contains(kr(tc.inner)); got != tc.want {
			t.Errorf("%s.Contains(%s) = %v, want %v", tc.outer, tc.inner, got, tc.want)
		}
	}
}

func TestKeyRangeUnion(t *testing.T) {
	parse := func(names ...string) []VitessKeyRange {
		var out []VitessKeyRange
		for _, n := range names {
			kr, err := ParseKeyRange(n)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, kr)
		}
		return out
	}
	ok := []struct {
		shards []string
		want   string
	}{
		{[]string{"-"}, "-"},
		{[]string{"0"}, "-"},
		{[]string{"80-", "-80"}, "-"},
		{[]string{"-40", "40-80"}, "-80"},
		{[]string{"40-80", "80-c0", "c0-"}, "40-"},
		{[]string{"-8000", "80-"}, "-"},
	}
	for _, tc := range ok {
		got, err := KeyRangeUnion(parse(tc.shards...))
		if err != nil {
			t.Errorf("KeyRangeUnion(%v): %v", tc.shards, err)
			continue
		}
		if got.ShardName() != tc.want {
			t.Errorf("KeyRangeUnion(%v) = %s, want %s", tc.shards, got, tc.want)
		}
	}
	bad := []struct {
		shards []string
		err    string
	}{
		{nil, "no key ranges"},
		{[]string{"-80", "c0-"}, "gap"},
		{[]string{"-80", "-"}, "overlap"},
		{[]string{"-80", "40-"}, "overlap"},
		{[]string{"-80", "-80"}, "overlap"},
		{[]string{"-80", "-8000"}, "overlap"},
	}
	for _, tc := range bad {
		_, err := KeyRangeUnion(parse(tc.shards...))
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("KeyRangeUnion(%v) error = %v, want one mentioning %q", tc.shards, err, tc.err)
		}
	}
}

func shardNames(ranges []VitessKeyRange) []string {
	names := make([]string, len(ranges))
	for i, kr := range ranges {
		names[i] = kr.ShardName()
	}
	return names
}

func TestEqualKeyRanges(t *testing.T) {
	examples := map[int32][]string{
		1: {"-"},
		2: {"-80", "80-"},
		3: {"-55", "55-aa", "aa-"},
		4: {"-40", "40-80", "80-c0", "c0-"},
		5: {"-33", "33-66", "66-99", "99-cc", "cc-"},
		7: {"-24", "24-49", "49-6d", "6d-92", "92-b6", "b6-db", "db-"},
	}
	for parts, want := range examples {
		if got := shardNames(EqualKeyRanges(parts)); !reflect.DeepEqual(got, want) {
			t.Errorf("EqualKeyRanges(%d) = %v, want %v", parts, got, want)
		}
	}
	for _, parts := range []int32{0, -1, MaxEqualParts + 1} {
		if got := EqualKeyRanges(parts); got != nil {
			t.Errorf("EqualKeyRanges(%d) = %v, want nil", parts, got)
		}
	}

	// Every split tiles the keyspace and matches Vitess' key.GenerateShardRanges, which computes
	// the boundaries in floating point: int(float64(i) * (float64(space) / float64(parts))).
	check := func(parts int32) {
		ranges := EqualKeyRanges(parts)
		if len(ranges) != int(parts) {
			t.Fatalf("EqualKeyRanges(%d) has %d ranges", parts, len(ranges))
		}
		union, err := KeyRangeUnion(ranges)
		if err != nil || !union.IsFull() {
			t.Fatalf("EqualKeyRanges(%d) does not tile the keyspace: %v, %v", parts, union, err)
		}
		space, format := 256, "%02x"
		if parts > 256 {
			space, format = 65536, "%04x"
		}
		size := float64(space) / float64(parts)
		for i := 1; i < int(parts); i++ {
			want := fmt.Sprintf(format, int(float64(i)*size))
			if ranges[i-1].End != want || ranges[i].Start != want {
				t.Fatalf("EqualKeyRanges(%d): boundary %d is %q/%q, Vitess has %q", parts, i, ranges[i-1].End, ranges[i].Start, want)
			}
		}
		for _, kr := range ranges {
			if err := kr.Validate(); err != nil {
				t.Fatalf("EqualKeyRanges(%d): %v", parts, err)
			}
		}
	}
	for parts := int32(1); parts <= 600; parts++ {
		check(parts)
	}
	for _, parts := range []int32{1000, 1024, 4095, 4096, 9999, 32768, 65535, MaxEqualParts} {
		check(parts)
	}
	if got := EqualKeyRanges(256); got[255].ShardName() != "ff-" || got[1].ShardName() != "01-02" {
		t.Errorf("EqualKeyRanges(256) = ...%v", shardNames(got[250:]))
	}
	// Vitess computes 49*(256/98) in floating point as 127.99...: the boundary is 7f, not 80.
	if got := EqualKeyRanges(98); got[48].ShardName() != "7d-7f" || got[49].ShardName() != "7f-82" {
		t.Errorf("EqualKeyRanges(98)[48:50] = %v, want [7d-7f 7f-82]", shardNames(got[48:50]))
	}
	if got := EqualKeyRanges(257); got[0].ShardName() != "-00ff" {
		t.Errorf("EqualKeyRanges(257)[0] = %s, want -00ff", got[0])
	}
}

func template(secret string) VitessShardTemplate {
	return VitessShardTemplate{
		DatabaseInitScriptSecret: SecretSource{Name: secret, Key: "init_db.sql"},
		TabletPools:              []VitessShardTabletPool{{Cell: "zone1", Type: TabletPoolTypeReplica, Replicas: 3}},
		Annotations:              map[string]string{"from": secret},
	}
}

func TestPartitioningKeyRanges(t *testing.T) {
	equal := VitessKeyspacePartitioning{Equal: &VitessKeyspaceEqualPartitioning{Parts: 2, HexWidth: 4}}
	if got := shardNames(equal.KeyRanges()); !reflect.DeepEqual(got, []string{"-80", "80-"}) {
		t.Errorf("equal parts 2 hexWidth 4: %v (hexWidth does not change the key ranges)", got)
	}
	custom := VitessKeyspacePartitioning{Custom: &VitessKeyspaceCustomPartitioning{Shards: []VitessKeyspaceKeyRangeShard{
		{KeyRange: VitessKeyRange{End: "4000"}},
		{KeyRange: VitessKeyRange{Start: "4000", End: "C0"}},
		{KeyRange: VitessKeyRange{Start: "C0"}},
	}}}
	if got := shardNames(custom.KeyRanges()); !reflect.DeepEqual(got, []string{"-4000", "4000-c0", "c0-"}) {
		t.Errorf("custom: %v", got)
	}
	if got := (VitessKeyspacePartitioning{}).KeyRanges(); got != nil {
		t.Errorf("empty partitioning: %v", got)
	}
}

func TestKeyspaceShards(t *testing.T) {
	ks := VitessKeyspaceTemplate{
		Name: "customer",
		Partitionings: []VitessKeyspacePartitioning{
			{Custom: &VitessKeyspaceCustomPartitioning{Shards: []VitessKeyspaceKeyRangeShard{
				{KeyRange: VitessKeyRange{End: "80"}, VitessShardTemplate: template("first-a")},
				{KeyRange: VitessKeyRange{Start: "80"}, VitessShardTemplate: template("first-b")},
			}}},
			{Equal: &VitessKeyspaceEqualPartitioning{Parts: 4, ShardTemplate: template("second")}},
			{Custom: &VitessKeyspaceCustomPartitioning{Shards: []VitessKeyspaceKeyRangeShard{
				{KeyRange: VitessKeyRange{End: "8000"}, VitessShardTemplate: template("third")},
				{KeyRange: VitessKeyRange{Start: "8000", End: "C0"}, VitessShardTemplate: template("third")},
				{KeyRange: VitessKeyRange{Start: "C0"}, VitessShardTemplate: template("third")},
				{KeyRange: VitessKeyRange{Start: "C0", End: "40"}, VitessShardTemplate: template("invalid")},
			}}},
		},
	}
	shards := ks.Shards()
	type summary struct {
		name, safe, secret string
		partitionings      []int
	}
	var got []summary
	for _, s := range shards {
		if s.Name != s.KeyRange.ShardName() {
			t.Errorf("shard %s has key range %s", s.Name, s.KeyRange)
		}
		got = append(got, summary{s.Name, s.KeyRange.SafeName(), s.Template.DatabaseInitScriptSecret.Name, s.Partitionings})
	}
	want := []summary{
		{"-40", "x-40", "second", []int{1}},
		{"-80", "x-80", "first-a", []int{0}},
		{"-8000", "x-8000", "third", []int{2}},
		{"40-80", "40-80", "second", []int{1}},
		{"80-c0", "80-c0", "second", []int{1}},
		{"8000-c0", "8000-c0", "third", []int{2}},
		{"80-", "80-x", "first-b", []int{0}},
		{"c0-", "c0-x", "second", []int{1, 2}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Shards() =\n%v\nwant\n%v", got, want)
	}

	// Templates are copies: the reconciler may change them without touching the spec.
	shards[0].Template.Annotations["from"] = "changed"
	shards[0].Template.TabletPools[0].Replicas = 9
	if ks.Partitionings[1].Equal.ShardTemplate.Annotations["from"] != "second" ||
		ks.Partitionings[1].Equal.ShardTemplate.TabletPools[0].Replicas != 3 {
		t.Error("Shards() returned a template sharing memory with the spec")
	}

	// The operator's 302 example: parts 1 and parts 2 give three shards.
	ks = VitessKeyspaceTemplate{Partitionings: []VitessKeyspacePartitioning{
		{Equal: &VitessKeyspaceEqualPartitioning{Parts: 1, ShardTemplate: template("a")}},
		{Equal: &VitessKeyspaceEqualPartitioning{Parts: 2, HexWidth: 4, ShardTemplate: template("b")}},
	}}
	var names []string
	for _, s := range ks.Shards() {
		names = append(names, s.Name)
	}
	if want := []string{"-80", "-", "80-"}; !reflect.DeepEqual(names, want) {
		t.Errorf("302 shards = %v, want %v", names, want)
	}
	if got := (VitessKeyspaceTemplate{}).Shards(); got != nil {
		t.Errorf("no partitionings: %v", got)
	}
}

// canonicalShardName is what ShardName(ParseKeyRange(s)) must give back for a valid s.
func canonicalShardName(s string) string {
	if s == LegacyUnshardedShardName {
		return "-"
	}
	return strings.ToLower(s)
}

func FuzzParseKeyRange(f *testing.F) {
	for _, seed := range []string{
		"-", "0", "-80", "80-", "40-80", "-8000", "AA-bb", "80-40", "-00", "8-", "--", "", "x-80",
		"0000000000000000-ffffffffffffffff", "-000000000000000001", "\x00-", "ü-",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kr, err := ParseKeyRange(s)
		if err != nil {
			if kr != (VitessKeyRange{}) {
				t.Fatalf("ParseKeyRange(%q) returned %#v with error %v", s, kr, err)
			}
			return
		}
		if got, want := kr.ShardName(), canonicalShardName(s); got != want {
			t.Fatalf("ShardName(ParseKeyRange(%q)) = %q, want %q", s, got, want)
		}
		if err := kr.Validate(); err != nil {
			t.Fatalf("ParseKeyRange(%q) = %#v, which does not validate: %v", s, kr, err)
		}
		if kr != kr.Canonical() {
			t.Fatalf("ParseKeyRange(%q) = %#v is not canonical", s, kr)
		}
		again, err := ParseKeyRange(kr.ShardName())
		if err != nil || again != kr {
			t.Fatalf("ParseKeyRange(ShardName(%#v)) = %#v, %v", kr, again, err)
		}
		// SafeName is usable in Kubernetes names: alphanumeric at both ends, no more than 33 characters.
		safe := kr.SafeName()
		if len(safe) > 2*MaxKeyRangeHexDigits+1 || !isAlnum(safe[0]) || !isAlnum(safe[len(safe)-1]) {
			t.Fatalf("SafeName(%#v) = %q", kr, safe)
		}
		if !(VitessKeyRange{}).Contains(kr) {
			t.Fatalf("the full range does not contain %#v", kr)
		}
		if !kr.Equal(kr) || !kr.Contains(kr) {
			t.Fatalf("%#v is not equal to and containing itself", kr)
		}
	})
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z'
}
