package vitess

// Key ranges and shard names.
//
// A Vitess shard owns a range of keyspace IDs [start, end). Both bounds are byte strings written in
// hex; an empty start is the beginning of the keyspace and an empty end is its end. A shard's name
// is "<start>-<end>": "-" is the whole keyspace, "-80" the lower half, "80-" the upper half.
//
// Comparing bounds. Vitess compares key range bounds as if they were right-padded with zero bytes
// (go/vt/key: KeyRangeStartEqual, KeyRangeEndEqual, KeyRangeContiguous), so "80" and "8000" are the
// same boundary value although "-80" and "-8000" are different shard names. The helpers in this file
// follow that rule: a bound's value is its bytes with trailing zero bytes removed, and two values
// compare lexicographically (which is the same as comparing them zero-padded to any common length).
// The one exception is the unbounded end: an empty end is greater than every bounded end, while a
// bounded end of "00" has the value zero. An empty start has the value zero, the same as "00".
//
// Identity. Shards are identified by their canonical name (lowercase hex), not by value: "-80" and
// "-8000" are two shards of equal range, as they would be in the Vitess topology.
//
// Shard "0". Vitess accepts shard names without a "-" as names of unsharded shards that own the
// whole keyspace (topo.ValidateShardName returns a nil key range for them, and a nil key range is the
// full range). The only such name in common use is "0", the legacy name of an unsharded keyspace's
// shard, so ParseKeyRange accepts "0" as the full range and nothing else without a "-". Its canonical
// name is "-", which is what this API server names the shard of a one-part partitioning.

import (
	"fmt"
	"sort"
	"strings"
)

// MaxKeyRangeHexDigits is the longest bound this API accepts: 16 hex digits, the 8 bytes of a
// Vitess uint64 keyspace ID. It keeps shard names (and the object names and label values built from
// SafeName) short; a longer bound could not tell apart keyspace IDs that hash-based vindexes produce.
const MaxKeyRangeHexDigits = 16

// MaxEqualParts is the largest number of shards an equal partitioning can describe; a cluster
// may have no more than MaxShardsPerCluster in all.
const MaxEqualParts = 65536

// What one VitessCluster may cost at most: every shard is an object and every tablet a Pod with a
// database. The largest Vitess deployments run some hundreds of shards.
const (
	MaxShardsPerCluster  = 1024
	MaxTabletsPerCluster = 4096
)

// LegacyUnshardedShardName is the name Vitess traditionally gives the only shard of an unsharded
// keyspace. It parses as the full key range.
const LegacyUnshardedShardName = "0"

// ValidateKeyRangeHex reports whether s is usable as one bound of a key range: empty (unbounded), or
// an even number of hex digits (either case), at most MaxKeyRangeHexDigits of them.
func ValidateKeyRangeHex(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > MaxKeyRangeHexDigits {
		return fmt.Errorf("%q is longer than %d hex digits", s, MaxKeyRangeHexDigits)
	}
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return fmt.Errorf("%q is not hexadecimal: unexpected %q", s, s[i])
		}
	}
	if len(s)%2 != 0 {
		return fmt.Errorf("%q has an odd number of hex digits; every byte takes two, e.g. %q", s, "0"+s)
	}
	return nil
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// ParseKeyRange parses a Vitess shard name: "-" (the whole keyspace), "-80", "80-", "40-80", or
// LegacyUnshardedShardName ("0", the whole keyspace). The returned bounds are lowercase. Hex digits
// may be in either case; each bound needs an even number of them, and start must be less than end
// when both are set.
func ParseKeyRange(shard string) (VitessKeyRange, error) {
	if shard == LegacyUnshardedShardName {
		return VitessKeyRange{}, nil
	}
	start, end, found := strings.Cut(shard, "-")
	if !found {
		return VitessKeyRange{}, fmt.Errorf("invalid shard name %q: want <start>-<end> in hex, e.g. %q, %q, %q or %q (or %q for an unsharded keyspace)",
			shard, "-", "-80", "80-", "40-80", LegacyUnshardedShardName)
	}
	if strings.Contains(end, "-") {
		return VitessKeyRange{}, fmt.Errorf("invalid shard name %q: it has more than one %q", shard, "-")
	}
	kr := VitessKeyRange{Start: start, End: end}
	if err := kr.Validate(); err != nil {
		return VitessKeyRange{}, fmt.Errorf("invalid shard name %q: %w", shard, err)
	}
	return kr.Canonical(), nil
}

// Validate reports whether both bounds are well formed (see ValidateKeyRangeHex) and the range is
// not empty: start < end by value.
func (kr VitessKeyRange) Validate() error {
	if err := ValidateKeyRangeHex(kr.Start); err != nil {
		return fmt.Errorf("start %w", err)
	}
	if err := ValidateKeyRangeHex(kr.End); err != nil {
		return fmt.Errorf("end %w", err)
	}
	if CompareKeyRangeEndToStart(kr.End, kr.Start) <= 0 {
		return fmt.Errorf("start %q must be less than end %q", kr.Start, kr.End)
	}
	return nil
}

// Canonical returns the range with lowercase bounds, as Vitess writes them.
func (kr VitessKeyRange) Canonical() VitessKeyRange {
	return VitessKeyRange{Start: strings.ToLower(kr.Start), End: strings.ToLower(kr.End)}
}

// ShardName is the Vitess shard name of the range: "-80", "80-", "40-80", or "-" for the full range.
// Bounds are written in lowercase.
func (kr VitessKeyRange) ShardName() string {
	return strings.ToLower(kr.Start) + "-" + strings.ToLower(kr.End)
}

// String is the shard name.
func (kr VitessKeyRange) String() string {
	return kr.ShardName()
}

// SafeName is the shard name with unbounded ends written as "x" ("x-80", "80-x", "x-x"), so that it
// starts and ends with an alphanumeric character and fits in Kubernetes object names and label
// values.
func (kr VitessKeyRange) SafeName() string {
	start, end := strings.ToLower(kr.Start), strings.ToLower(kr.End)
	if start == "" {
		start = "x"
	}
	if end == "" {
		end = "x"
	}
	return start + "-" + end
}

// IsFull reports whether the range is written as the whole keyspace: both bounds unbounded.
func (kr VitessKeyRange) IsFull() bool {
	return kr.Start == "" && kr.End == ""
}

// compareHexValues compares two bounds by value without decoding them: hex digits compare in the
// same order as the nibbles they stand for, so comparing the lowercase digits one by one, with the
// shorter bound padded with '0', is comparing the byte strings right-padded with zero bytes. For
// malformed bounds (which callers should have rejected) the result is deterministic but meaningless.
func compareHexValues(a, b string) int {
	n := max(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := byte('0'), byte('0')
		if i < len(a) {
			ca = lowerHex(a[i])
		}
		if i < len(b) {
			cb = lowerHex(b[i])
		}
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	return 0
}

func lowerHex(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// CompareKeyRangeStarts compares two start bounds by value: -1, 0 or +1. An empty start is the
// lowest value, equal to "00".
func CompareKeyRangeStarts(a, b string) int {
	return compareHexValues(a, b)
}

// CompareKeyRangeEnds compares two end bounds by value: -1, 0 or +1. An empty end is greater than
// any bounded end.
func CompareKeyRangeEnds(a, b string) int {
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	return compareHexValues(a, b)
}

// CompareKeyRangeEndToStart compares an end bound with a start bound by value: -1, 0 or +1. Zero
// means the two ranges they belong to are adjacent; a negative result means there is a gap between
// a range ending at end and one starting at start, and a positive result that they overlap.
func CompareKeyRangeEndToStart(end, start string) int {
	if end == "" {
		return 1
	}
	return compareHexValues(end, start)
}

// ValueKey returns a string that is the same for two valid ranges exactly when Equal is true
// (e.g. "8-" for "80-", "8000-" and "80-"; an unbounded end is written "x"). Use it to index
// ranges by value.
func (kr VitessKeyRange) ValueKey() string {
	end := "x"
	if kr.End != "" {
		end = strings.TrimRight(strings.ToLower(kr.End), "0")
	}
	return strings.TrimRight(strings.ToLower(kr.Start), "0") + "-" + end
}

// CompareKeyRanges orders key ranges by start value, then end value, then shard name, so that
// sorting is deterministic even for ranges that are equal by value but spelled differently.
func CompareKeyRanges(a, b VitessKeyRange) int {
	if c := CompareKeyRangeStarts(a.Start, b.Start); c != 0 {
		return c
	}
	if c := CompareKeyRangeEnds(a.End, b.End); c != 0 {
		return c
	}
	return strings.Compare(a.ShardName(), b.ShardName())
}

// SortKeyRanges sorts key ranges in place with CompareKeyRanges.
func SortKeyRanges(ranges []VitessKeyRange) {
	sort.SliceStable(ranges, func(i, j int) bool { return CompareKeyRanges(ranges[i], ranges[j]) < 0 })
}

// Equal reports whether two ranges cover the same keyspace IDs by value ("-80" equals "-8000").
// Use ShardName to compare identities.
func (kr VitessKeyRange) Equal(other VitessKeyRange) bool {
	return CompareKeyRangeStarts(kr.Start, other.Start) == 0 && CompareKeyRangeEnds(kr.End, other.End) == 0
}

// Contains reports whether other lies within kr, by value.
func (kr VitessKeyRange) Contains(other VitessKeyRange) bool {
	return CompareKeyRangeStarts(kr.Start, other.Start) <= 0 && CompareKeyRangeEnds(other.End, kr.End) <= 0
}

// KeyRangeUnion checks that the ranges, in any order, tile one contiguous range without gaps or
// overlaps, and returns that range (with the spelling of the first start and the last end). The
// ranges must be valid (see Validate). An empty list is an error.
func KeyRangeUnion(ranges []VitessKeyRange) (VitessKeyRange, error) {
	if len(ranges) == 0 {
		return VitessKeyRange{}, fmt.Errorf("no key ranges")
	}
	sorted := make([]VitessKeyRange, len(ranges))
	for i, kr := range ranges {
		sorted[i] = kr.Canonical()
	}
	SortKeyRanges(sorted)
	for i := 1; i < len(sorted); i++ {
		prev, cur := sorted[i-1], sorted[i]
		switch c := CompareKeyRangeEndToStart(prev.End, cur.Start); {
		case c > 0:
			return VitessKeyRange{}, fmt.Errorf("shards %q and %q overlap", prev.ShardName(), cur.ShardName())
		case c < 0:
			return VitessKeyRange{}, fmt.Errorf("shards %q and %q leave a gap: nothing covers %q",
				prev.ShardName(), cur.ShardName(), VitessKeyRange{Start: prev.End, End: cur.Start}.ShardName())
		}
	}
	return VitessKeyRange{Start: sorted[0].Start, End: sorted[len(sorted)-1].End}, nil
}

// EqualKeyRanges splits the keyspace into parts ranges of (nearly) equal size exactly as Vitess'
// key.GenerateShardRanges does: one part is the full range "-"; up to 256 parts use boundaries of
// 2 hex digits and up to 65536 parts boundaries of 4 hex digits, boundary i being
// int(float64(i) * (float64(space) / float64(parts))) with space 256 or 65536. So 2 parts are
// -80, 80-; 3 are -55, 55-aa, aa-; 4 are -40, 40-80, 80-c0, c0-; 7 are -24, 24-49, 49-6d, ...
// The floating-point computation is kept on purpose so that shard names match what Vitess tools
// generate, including its rounding: with 98 parts the middle boundary is 7f, not 80.
// It returns nil when parts is out of 1..MaxEqualParts.
func EqualKeyRanges(parts int32) []VitessKeyRange {
	if parts < 1 || parts > MaxEqualParts {
		return nil
	}
	if parts == 1 {
		return []VitessKeyRange{{}}
	}
	space, digits := 256, 2
	if parts > 256 {
		space, digits = MaxEqualParts, 4
	}
	n := int(parts)
	size := float64(space) / float64(n)
	ranges := make([]VitessKeyRange, n)
	start := ""
	for i := 1; i <= n; i++ {
		end := ""
		if i < n {
			end = formatHex(int(float64(i)*size), digits)
		}
		ranges[i-1] = VitessKeyRange{Start: start, End: end}
		start = end
	}
	return ranges
}

// formatHex writes v in lowercase hex, zero-padded to digits.
func formatHex(v, digits int) string {
	const hexDigits = "0123456789abcdef"
	b := make([]byte, digits)
	for i := digits - 1; i >= 0; i-- {
		b[i] = hexDigits[v&0xf]
		v >>= 4
	}
	return string(b)
}

// KeyRanges returns the key ranges of a partitioning's shards in order, with lowercase bounds: those
// of the equal split, or the custom shards' as listed. When both equal and custom are set (which
// validation refuses) equal wins.
func (p VitessKeyspacePartitioning) KeyRanges() []VitessKeyRange {
	switch {
	case p.Equal != nil:
		return EqualKeyRanges(p.Equal.Parts)
	case p.Custom != nil:
		ranges := make([]VitessKeyRange, len(p.Custom.Shards))
		for i, shard := range p.Custom.Shards {
			ranges[i] = shard.KeyRange.Canonical()
		}
		return ranges
	}
	return nil
}

// shardTemplate returns the template of the partitioning's i-th shard.
func (p VitessKeyspacePartitioning) shardTemplate(i int) *VitessShardTemplate {
	switch {
	case p.Equal != nil:
		return &p.Equal.ShardTemplate
	case p.Custom != nil:
		return &p.Custom.Shards[i].VitessShardTemplate
	}
	return nil
}

// KeyspaceShard is one shard a keyspace needs: the reconciler creates a VitessShard for each.
//
// +k8s:deepcopy-gen=false
type KeyspaceShard struct {
	// Name is the Vitess shard name, the canonical form of KeyRange ("-80").
	Name string
	// KeyRange of the shard, with lowercase bounds.
	KeyRange VitessKeyRange
	// Template is (a deep copy of) the shard template of the first partitioning that declares it.
	Template VitessShardTemplate
	// Partitionings lists the indexes of the partitionings that declare the shard, in order.
	Partitionings []int
}

// Shards returns the union of the shards of all of the keyspace's partitionings, de-duplicated by
// exact shard name (so "-80" and "-8000" are two shards), sorted with CompareKeyRanges. Each carries
// the template of the first partitioning that declares it. Shards with an invalid key range are
// left out (validation refuses them).
func (t VitessKeyspaceTemplate) Shards() []KeyspaceShard {
	var shards []KeyspaceShard
	index := map[string]int{}
	for pi, p := range t.Partitionings {
		for si, kr := range p.KeyRanges() {
			if kr.Validate() != nil {
				continue
			}
			name := kr.ShardName()
			if i, ok := index[name]; ok {
				if last := shards[i].Partitionings; last[len(last)-1] != pi {
					shards[i].Partitionings = append(shards[i].Partitionings, pi)
				}
				continue
			}
			index[name] = len(shards)
			shards = append(shards, KeyspaceShard{
				Name:          name,
				KeyRange:      kr,
				Template:      *p.shardTemplate(si).DeepCopy(),
				Partitionings: []int{pi},
			})
		}
	}
	sort.SliceStable(shards, func(i, j int) bool { return CompareKeyRanges(shards[i].KeyRange, shards[j].KeyRange) < 0 })
	return shards
}
