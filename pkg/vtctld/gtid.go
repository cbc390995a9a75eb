package vtctld

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// gtidSet is a MySQL GTID set: for each source (server UUID, and tag where MySQL 8.4 tags
// transactions), the transaction numbers executed, as sorted, disjoint, non-adjacent intervals.
type gtidSet map[string][]gtidInterval

type gtidInterval struct{ first, last uint64 }

// parseGTIDSet reads a GTID set as MySQL prints gtid_executed ("uuid:1-5:7,uuid2:tag:1-3",
// with or without newlines after commas) or as Vitess prints a position ("MySQL56/" before it).
func parseGTIDSet(text string) (gtidSet, error) {
	set := gtidSet{}
	text = strings.TrimPrefix(strings.TrimSpace(text), "MySQL56/")
	if text == "" {
		return set, nil
	}
	for _, part := range strings.Split(text, ",") {
		fields := strings.Split(strings.TrimSpace(part), ":")
		if len(fields) < 2 || fields[0] == "" {
			return nil, fmt.Errorf("GTID set %q: %q is not <uuid>:<interval>", text, part)
		}
		source := strings.ToLower(fields[0])
		for _, field := range fields[1:] {
			if field == "" || (field[0] >= '0' && field[0] <= '9') {
				interval, err := parseGTIDInterval(field)
				if err != nil {
					return nil, fmt.Errorf("GTID set %q: %w", text, err)
				}
				set[source] = append(set[source], interval)
				continue
			}
			// A tag: the intervals after it belong to <uuid>:<tag>.
			source = strings.ToLower(fields[0]) + ":" + strings.ToLower(field)
		}
	}
	for source, intervals := range set {
		set[source] = mergeIntervals(intervals)
	}
	return set, nil
}

// parseGTIDInterval reads "<n>" or "<first>-<last>". Transaction numbers are below 2^63 in MySQL,
// which also keeps last+1 from overflowing when intervals merge.
func parseGTIDInterval(text string) (gtidInterval, error) {
	firstText, lastText, isRange := strings.Cut(text, "-")
	first, err := strconv.ParseUint(firstText, 10, 63)
	if err != nil || first == 0 {
		return gtidInterval{}, fmt.Errorf("interval %q: transaction numbers start at 1", text)
	}
	last := first
	if isRange {
		if last, err = strconv.ParseUint(lastText, 10, 63); err != nil || last < first {
			return gtidInterval{}, fmt.Errorf("interval %q is not <first>-<last>", text)
		}
	}
	return gtidInterval{first, last}, nil
}

func mergeIntervals(intervals []gtidInterval) []gtidInterval {
	slices.SortFunc(intervals, func(a, b gtidInterval) int { return cmp.Compare(a.first, b.first) })
	merged := intervals[:0:0]
	for _, interval := range intervals {
		if n := len(merged); n > 0 && interval.first <= merged[n-1].last+1 {
			merged[n-1].last = max(merged[n-1].last, interval.last)
			continue
		}
		merged = append(merged, interval)
	}
	return merged
}

// contains tells whether every transaction of other is in s.
func (s gtidSet) contains(other gtidSet) bool {
	for source, intervals := range other {
		mine := s[source]
		for _, interval := range intervals {
			i, _ := slices.BinarySearchFunc(mine, interval.first, func(m gtidInterval, first uint64) int {
				return cmp.Compare(m.last, first)
			})
			if i == len(mine) || mine[i].first > interval.first || mine[i].last < interval.last {
				return false
			}
		}
	}
	return true
}

// mostAdvanced returns the index of the set that contains all the others, the first such one when
// several do (equal sets). It fails when the sets have diverged: each lacks a transaction another
// has, and promoting any of them would lose one, so a person must decide.
func mostAdvanced(sets []gtidSet) (int, error) {
	for i, candidate := range sets {
		if !slices.ContainsFunc(sets, func(other gtidSet) bool { return !candidate.contains(other) }) {
			return i, nil
		}
	}
	return -1, errDivergedReplicas
}
