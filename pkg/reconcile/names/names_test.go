package names

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// Expected values below come from three places:
//   - the operator's own change-detection tests (pkg/operator/names/join_test.go,
//     pkg/operator/vttablet/uid_test.go);
//   - object names printed in the operator's quickstart docs (docs/aws-quickstart.md,
//     docs/gcp-quickstart.md), i.e. names the operator really produced;
//   - the example cluster (cluster "example", cell "zone1", keyspace "commerce", unsharded), for
//     which the literals were computed independently and are re-derived in the test with md5.

func TestHashUnchanged(t *testing.T) {
	// From the operator's TestJoinHash: if this breaks, every generated name changes.
	if got, want := Join("hello", "world"), "hello-world-1dd41005"; got != want {
		t.Fatalf("Join = %q, want %q", got, want)
	}
	if got, want := JoinWithConstraints(DefaultConstraints, "hello", "world"), "hello-world-1dd41005"; got != want {
		t.Fatalf("JoinWithConstraints = %q, want %q", got, want)
	}
	if got, want := Hash("hello", "world"), "1dd41005"; got != want {
		t.Fatalf("Hash = %q, want %q", got, want)
	}
}

func TestJoinUniqueness(t *testing.T) {
	for _, c := range []struct {
		name  string
		a, b  []string
		equal bool
	}{
		{"same parts, same order", []string{"one", "two", "three"}, []string{"one", "two", "three"}, true},
		{"same parts, different order", []string{"one", "two", "three"}, []string{"one", "three", "two"}, false},
		{"different parts", []string{"one", "two", "three"}, []string{"one", "two", "four"}, false},
		{"substring moved to adjacent part", []string{"one-two", "three-four"}, []string{"one", "two-three-four"}, false},
		{"one part split in two", []string{"one-two", "three-four"}, []string{"one-two", "three", "four"}, false},
	} {
		if got := Join(c.a...) == Join(c.b...); got != c.equal {
			t.Errorf("Join: %s: equal = %v, want %v", c.name, got, c.equal)
		}
		if got := JoinWithConstraints(DefaultConstraints, c.a...) == JoinWithConstraints(DefaultConstraints, c.b...); got != c.equal {
			t.Errorf("JoinWithConstraints: %s: equal = %v, want %v", c.name, got, c.equal)
		}
	}
	if got := Join("one", "two", "three"); !strings.HasPrefix(got, "one-two-three-") {
		t.Errorf("Join = %q, want prefix one-two-three-", got)
	}
}

func TestJoinWithConstraintsTransform(t *testing.T) {
	cons := Constraints{MaxLength: 50, ValidFirstChar: isLowercaseLetter}
	for _, c := range []struct {
		in   []string
		want string // prefix, as in the operator's test
	}{
		{[]string{"UpperCase-Letters", "Are-Lowercased"}, "uppercase-letters-are-lowercased-"},
		{[]string{"allowed-symbols", "dont---change"}, "allowed-symbols-dont---change-"},
		{[]string{"disallowed_symbols", "are.replaced"}, "disallowed-symbols-are-replaced-"},
		{[]string{"really-really-ridiculously-long-inputs-are-truncated"}, "really-really-ridiculously-long-inputs----"},
		{[]string{"-disallowed first chars", "-are prefixed"}, "x-disallowed-first-chars--are-prefixed-"},
		{[]string{"Transformed first char", "is ok"}, "transformed-first-char-is-ok-"},
		{[]string{"", "empty"}, "x-empty-"},
		{[]string{"zone1", "ünïcode"}, "zone1--n-code-"},
	} {
		got := JoinWithConstraints(cons, c.in...)
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("JoinWithConstraints(%q) = %q, want prefix %q", c.in, got, c.want)
		}
		// The hash is always over the original input.
		if want := Hash(c.in...); !strings.HasSuffix(got, want) {
			t.Errorf("JoinWithConstraints(%q) = %q, want suffix %q", c.in, got, want)
		}
	}

	// A digit is a valid first character for DefaultConstraints but not for Services.
	if got, want := JoinWithConstraints(DefaultConstraints, "1abc"), "1abc-"+Hash("1abc"); got != want {
		t.Errorf("default, leading digit: %q, want %q", got, want)
	}
	if got, want := JoinWithConstraints(ServiceConstraints, "1abc"), "x1abc-"+Hash("1abc"); got != want {
		t.Errorf("service, leading digit: %q, want %q", got, want)
	}

	// Inputs that differ only in characters that get replaced still get different names, and
	// none equals the plain Join of the replaced text.
	a := JoinWithConstraints(cons, "disallowed_symbol")
	b := JoinWithConstraints(cons, "disallowed/symbol")
	if a == b || a == Join("disallowed-symbol") || b == Join("disallowed-symbol") {
		t.Errorf("transformed names collide: %q, %q, %q", a, b, Join("disallowed-symbol"))
	}

	if got := JoinWithConstraints(DefaultConstraints); got != "" {
		t.Errorf("no parts: %q, want empty", got)
	}
}

func TestJoinWithConstraintsTruncation(t *testing.T) {
	cons := Constraints{MaxLength: 25, ValidFirstChar: isLowercaseAlphanumeric}
	a, b := strings.Repeat("a", 20), strings.Repeat("b", 20)
	got := JoinWithConstraints(cons, a, b)
	want := "aaaaaaaaaaaaaa---" + Hash(a, b) // 14 + 3 + 8 = 25
	if got != want {
		t.Errorf("truncated = %q, want %q", got, want)
	}

	// Exactly at the limit: no truncation. One more character: truncation.
	fits := strings.Repeat("a", 16) // 16 + 1 + 8 = 25
	if got, want := JoinWithConstraints(cons, fits), fits+"-"+Hash(fits); got != want {
		t.Errorf("at limit = %q, want %q", got, want)
	}
	over := fits + "a"
	if got, want := JoinWithConstraints(cons, over), strings.Repeat("a", 14)+"---"+Hash(over); got != want {
		t.Errorf("one over = %q, want %q", got, want)
	}

	// Inputs that differ only in the part that is cut off still differ.
	x := JoinWithConstraints(cons, a, strings.Repeat("b", 100)+"1")
	y := JoinWithConstraints(cons, a, strings.Repeat("b", 100)+"2")
	if x == y || len(x) != 25 || len(y) != 25 {
		t.Errorf("truncated names: %q, %q", x, y)
	}

	// The default and Service limits.
	long := strings.Repeat("c", 300)
	if got := JoinWithConstraints(DefaultConstraints, long); len(got) != 253 || !strings.HasSuffix(got, "---"+Hash(long)) {
		t.Errorf("default truncation: len %d, %q", len(got), got)
	}
	if got := JoinWithConstraints(ServiceConstraints, long); len(got) != 63 || !strings.HasSuffix(got, "---"+Hash(long)) {
		t.Errorf("service truncation: len %d, %q", len(got), got)
	}
}

func TestJoinWithConstraintsCompatibility(t *testing.T) {
	// From the operator: inputs that need no transformation give exactly Join's output.
	cons := Constraints{MaxLength: 63, ValidFirstChar: isLowercaseAlphanumeric}
	for _, in := range [][]string{
		{"abc", "def"},
		{"abc1", "2def3", "a-b-c"},
		{"1abc", "2def3", "a-b-c"},
		{"longnamepart1", "reallyreallyridiculouslylongnamepart2"},
	} {
		if got, want := JoinWithConstraints(cons, in...), Join(in...); got != want {
			t.Errorf("JoinWithConstraints(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJoinWithConstraintsPanicsOnShortMaxLength(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for MaxLength 11")
		}
	}()
	JoinWithConstraints(Constraints{MaxLength: 11, ValidFirstChar: isLowercaseLetter}, "a")
}

func TestTabletUIDUnchanged(t *testing.T) {
	// From the operator's TestUIDHash.
	if got, want := TabletUID("cell", "keyspace", "10-20", "replica", 1), uint32(3376898362); got != want {
		t.Errorf("TabletUID = %d, want %d", got, want)
	}
}

func TestTabletAlias(t *testing.T) {
	for _, c := range []struct {
		uid  uint32
		want string
	}{
		{0, "zone1-0000000000"},
		{790125915, "zone1-0790125915"},
		{4294967295, "zone1-4294967295"},
	} {
		if got := TabletAlias("zone1", c.uid); got != c.want {
			t.Errorf("TabletAlias(%d) = %q, want %q", c.uid, got, c.want)
		}
	}
	if got := TabletUIDString(24063586); got != "0024063586" {
		t.Errorf("TabletUIDString = %q", got)
	}
}

// TestOperatorDocs checks names that the operator's quickstart guides show for a cluster named
// "example" with a keyspace "main" split into -80 and 80- (the guides' GetTablets output labels
// the keyspace "commerce", but the printed pod names are those of "main").
func TestOperatorDocs(t *testing.T) {
	ls := GlobalLockserver("example")
	if ls != "example-etcd-faf13de3" {
		t.Errorf("GlobalLockserver = %q", ls)
	}
	for i := 1; i <= EtcdMembers; i++ {
		if got, want := EtcdMemberPodName(ls, i), fmt.Sprintf("example-etcd-faf13de3-%d", i); got != want {
			t.Errorf("EtcdMemberPodName(%d) = %q, want %q", i, got, want)
		}
	}
	for _, c := range []struct{ got, want string }{
		{VtctldDeploymentName("example", "uswest2a"), "example-uswest2a-vtctld-e9a472d4"},
		{VtgateDeploymentName("example", "uswest2a"), "example-uswest2a-vtgate-dc57c24e"},
		{VtctldDeploymentName("example", "uscentral1a"), "example-uscentral1a-vtctld-6a268099"},
		{VtgateDeploymentName("example", "uscentral1a"), "example-uscentral1a-vtgate-bbffae2f"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}

	for _, c := range []struct {
		cell, keyRange string
		index          uint32
		pod            string
	}{
		{"uswest2a", "-80", 1, "example-vttablet-uswest2a-0433486107-2adb076e"},
		{"uswest2a", "-80", 2, "example-vttablet-uswest2a-1016938354-18161672"},
		{"uswest2a", "80-", 1, "example-vttablet-uswest2a-3169804963-d4c380c8"},
		{"uswest2a", "80-", 2, "example-vttablet-uswest2a-1990736494-c589ebc7"},
		{"uscentral1a", "-80", 1, "example-vttablet-uscentral1a-3876690474-0ed30664"},
		{"uscentral1a", "-80", 2, "example-vttablet-uscentral1a-0261268656-d6078140"},
		{"uscentral1a", "-80", 3, "example-vttablet-uscentral1a-2253629440-17557ac0"},
		{"uscentral1a", "80-", 1, "example-vttablet-uscentral1a-1579720563-f892b0e6"},
		{"uscentral1a", "80-", 2, "example-vttablet-uscentral1a-3067826231-d454720e"},
		{"uscentral1a", "80-", 3, "example-vttablet-uscentral1a-3815197730-f3886a80"},
	} {
		uid := TabletUID(c.cell, "main", c.keyRange, "replica", c.index)
		if got := TabletPodName("example", c.cell, uid); got != c.pod {
			t.Errorf("%s %s replica %d: pod %q, want %q", c.cell, c.keyRange, c.index, got, c.pod)
		}
	}
}

// md5Name and md5UID derive names and uids straight from the rule, independently of the code under
// test, for the example cluster table.
func md5Name(parts ...string) string {
	sum := md5.Sum([]byte(strings.Join(parts, "\x00") + "\x00"))
	return strings.Join(parts, "-") + fmt.Sprintf("-%x", sum[:4])
}

func md5UID(cell, keyspace, keyRange, pool string, index int) uint32 {
	sum := md5.Sum(fmt.Appendf(nil, "%s %s %s %s %d\n", cell, keyspace, keyRange, pool, index))
	return binary.BigEndian.Uint32(sum[:4])
}

// TestExampleCluster pins the names of the example cluster: cluster "example", one cell "zone1",
// keyspace "commerce" unsharded (key range "-", safe name "x-x").
func TestExampleCluster(t *testing.T) {
	ls := GlobalLockserver("example")
	for _, c := range []struct {
		name, got, want string
		parts           []string
	}{
		{"global lockserver", ls, "example-etcd-faf13de3", []string{"example", "etcd"}},
		{"cell lockserver", CellLockserver("example", "zone1"), "example-zone1-etcd-43880480", []string{"example", "zone1", "etcd"}},
		{"cell", Cell("example", "zone1"), "example-zone1-5abb61ae", []string{"example", "zone1"}},
		{"keyspace", Keyspace("example", "commerce"), "example-commerce-fb9b866a", []string{"example", "commerce"}},
		{"shard", Shard("example", "commerce", "x-x"), "example-commerce-x-x-0f5afee6", []string{"example", "commerce", "x-x"}},
		{"vtctld deployment", VtctldDeploymentName("example", "zone1"), "example-zone1-vtctld-1d4dcad0", []string{"example", "zone1", "vtctld"}},
		{"vtctld service", VtctldServiceName("example"), "example-vtctld-625ee430", []string{"example", "vtctld"}},
		{"vtgate deployment", VtgateDeploymentName("example", "zone1"), "example-zone1-vtgate-bc6cde92", []string{"example", "zone1", "vtgate"}},
		{"vtgate cell service", VtgateServiceName("example", "zone1"), "example-zone1-vtgate-bc6cde92", []string{"example", "zone1", "vtgate"}},
		{"vtgate cluster service", VtgateClusterServiceName("example"), "example-vtgate-ae7df4b6", []string{"example", "vtgate"}},
		{"vttablet service", TabletServiceName("example"), "example-vttablet-08646a59", []string{"example", "vttablet"}},
		{"vtorc deployment", VtorcDeploymentName("example", "commerce", "x-x", "zone1"), "example-commerce-x-x-zone1-vtorc-c13ef6ff", []string{"example", "commerce", "x-x", "zone1", "vtorc"}},
		{"etcd client service", EtcdClientServiceName(ls), "example-etcd-faf13de3-client", nil},
		{"etcd peer service", EtcdPeerServiceName(ls), "example-etcd-faf13de3-peer", nil},
		{"etcd pdb", EtcdPDBName(ls), "etcd-lockserver-example-etcd-faf13de3", nil},
		{"etcd member 1 pvc", EtcdMemberPVCName(ls, 1), "example-etcd-faf13de3-1", nil},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
		if c.parts != nil && md5Name(c.parts...) != c.want {
			t.Errorf("%s: md5 of %q gives %q, literal is %q", c.name, c.parts, md5Name(c.parts...), c.want)
		}
	}

	for _, c := range []struct {
		pool  string
		index uint32
		uid   uint32
		pod   string
	}{
		{"replica", 1, 2548885007, "example-vttablet-zone1-2548885007-46a852d0"},
		{"replica", 2, 2469782763, "example-vttablet-zone1-2469782763-bfadd780"},
		{"replica", 3, 790125915, "example-vttablet-zone1-0790125915-4e37d9d5"},
		{"rdonly", 1, 3798380744, "example-vttablet-zone1-3798380744-870319fc"},
		{"rdonly", 2, 24063586, "example-vttablet-zone1-0024063586-093edbde"},
		{"rdonly", 3, 4161641523, "example-vttablet-zone1-4161641523-66277f54"},
	} {
		uid := TabletUID("zone1", "commerce", "-", c.pool, c.index)
		if uid != c.uid {
			t.Errorf("%s %d: uid %d, want %d", c.pool, c.index, uid, c.uid)
		}
		if m := md5UID("zone1", "commerce", "-", c.pool, int(c.index)); m != c.uid {
			t.Errorf("%s %d: md5 gives uid %d, literal is %d", c.pool, c.index, m, c.uid)
		}
		pod := TabletPodName("example", "zone1", uid)
		if pod != c.pod {
			t.Errorf("%s %d: pod %q, want %q", c.pool, c.index, pod, c.pod)
		}
		if m := md5Name("example", "vttablet", fmt.Sprintf("zone1-%010d", c.uid)); m != c.pod {
			t.Errorf("%s %d: md5 gives pod %q, literal is %q", c.pool, c.index, m, c.pod)
		}
		if pvc := TabletPVCName("example", "zone1", uid); pvc != pod {
			t.Errorf("%s %d: pvc %q, want the pod name %q", c.pool, c.index, pvc, pod)
		}
	}
}

// TestLongClusterNames checks that names stay valid for their kind whatever the input, and that
// the lockserver leaves room for the Service suffixes.
func TestLongClusterNames(t *testing.T) {
	cluster := strings.Repeat("Long_Cluster.", 30)
	ls := GlobalLockserver(cluster)
	if len(ls) != 56 || len(EtcdClientServiceName(ls)) > 63 || len(EtcdPeerServiceName(ls)) > 63 {
		t.Errorf("lockserver %q (%d) does not leave room for its Services", ls, len(ls))
	}
	for _, name := range []string{
		ls, CellLockserver(cluster, "zone1"), VtctldServiceName(cluster), VtgateServiceName(cluster, "zone1"),
		VtgateClusterServiceName(cluster), TabletServiceName(cluster),
		EtcdClientServiceName(ls), EtcdPeerServiceName(ls),
	} {
		if !isDNS1035Label(name) {
			t.Errorf("%q is not a DNS-1035 label", name)
		}
	}
	for _, name := range []string{
		Cell(cluster, "zone1"), Keyspace(cluster, "commerce"), Shard(cluster, "commerce", "x-x"),
		TabletPodName(cluster, "zone1", 1), VtctldDeploymentName(cluster, "zone1"),
		VtgateDeploymentName(cluster, "zone1"), VtorcDeploymentName(cluster, "commerce", "x-x", "zone1"),
		EtcdMemberPodName(ls, 3),
	} {
		if !isDNS1123Subdomain(name) {
			t.Errorf("%q is not a DNS-1123 subdomain", name)
		}
	}
	if got := Cell("9cluster", "zone1"); !strings.HasPrefix(got, "9cluster-zone1-") {
		t.Errorf("Cell with leading digit = %q", got)
	}
	if got := VtctldServiceName("9cluster"); !strings.HasPrefix(got, "x9cluster-vtctld-") {
		t.Errorf("Service with leading digit = %q", got)
	}
}

func isDNS1035Label(s string) bool {
	if len(s) == 0 || len(s) > 63 || !isLowercaseLetter(rune(s[0])) || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !isLowercaseAlphanumeric(r) && r != '-' {
			return false
		}
	}
	return true
}

// isDNS1123Subdomain is the rule for most object names, restricted to the characters these names
// use (no dots).
func isDNS1123Subdomain(s string) bool {
	if len(s) == 0 || len(s) > 253 || !isLowercaseAlphanumeric(rune(s[0])) || !isLowercaseAlphanumeric(rune(s[len(s)-1])) {
		return false
	}
	for _, r := range s {
		if !isLowercaseAlphanumeric(r) && r != '-' {
			return false
		}
	}
	return true
}
