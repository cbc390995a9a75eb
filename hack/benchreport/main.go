// Command benchreport reads the output of go test -bench and reports every ratio in it: each
// metric whose unit starts with "ratio-" is vitess-apiserver's figure divided by its peer's, taken
// in the same run. It writes the median of each over the runs (-count) as a TSV, and draws them as
// one SVG bar chart with the target of issue 14 beside each where there is one.
//
//	go run ./hack/benchreport -tsv docs/benchmarks/ratios.tsv -svg docs/benchmarks.svg bench.txt...
package main

import (
	"bufio"
	"flag"
	"fmt"
	"html"
	"log"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// target is what a ratio should be.
type target struct {
	value  float64
	higher bool // the ratio should be at least value, not at most
}

// targets are issue 14's, by the metric's name without its "ratio-" prefix, or by benchmark and
// metric where the target holds for one size only.
var targets = map[string]target{
	"get-p50": {1.1, false}, "get-p99": {1.1, false},
	"list100-p50": {1.1, false}, "list100-p99": {1.1, false},
	"listlarge-p50": {1.1, false}, "listlarge-p99": {1.1, false},
	"watch-p50": {1.1, false}, "watch-p99": {1.1, false},
	"create-throughput": {0.9, true},
	"movetables-rows/s": {0.95, true}, "reshard-rows/s": {0.95, true},

	// Ours in protobuf into typed objects, the CRD's in JSON: at least twice as fast.
	"listlarge-typed-p50": {0.5, false},

	"Convergence/clusters=100 convergence/floor": {1.5, false},
}

type bar struct {
	label  string
	ratio  float64
	target target // value 0: none
}

func main() {
	tsv := flag.String("tsv", "docs/benchmarks/ratios.tsv", "the medians to write")
	svg := flag.String("svg", "docs/benchmarks.svg", "the chart to write")
	flag.Parse()
	samples := map[string][]float64{}
	var order []string
	for _, path := range flag.Args() {
		if err := readRatios(path, samples, &order); err != nil {
			log.Fatalf("%s: %v", path, err)
		}
	}
	if len(order) == 0 {
		log.Fatal("no ratio- metrics in the benchmark output")
	}
	var bars []bar
	var table strings.Builder
	table.WriteString("benchmark\tratio\truns\ttarget\n")
	for _, label := range order {
		values := samples[label]
		goalFor, ok := targets[label]
		if !ok {
			goalFor = targets[label[strings.LastIndex(label, " ")+1:]]
		}
		b := bar{label: label, ratio: median(values), target: goalFor}
		bars = append(bars, b)
		goal := ""
		if b.target.value != 0 {
			goal = map[bool]string{true: ">= ", false: "<= "}[b.target.higher] + strconv.FormatFloat(b.target.value, 'g', -1, 64)
		}
		fmt.Fprintf(&table, "%s\t%.3f\t%d\t%s\n", label, b.ratio, len(values), goal)
	}
	if err := os.WriteFile(*tsv, []byte(table.String()), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*svg, []byte(draw(bars)), 0o644); err != nil {
		log.Fatal(err)
	}
}

// benchmarkLine is one result: the name (its -GOMAXPROCS suffix dropped), the iterations, then
// value-unit pairs.
var benchmarkLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// readRatios adds the ratio metrics of one output to samples, keyed "benchmark name", in the
// order they first appear.
func readRatios(path string, samples map[string][]float64, order *[]string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		match := benchmarkLine.FindStringSubmatch(lines.Text())
		if match == nil {
			continue
		}
		fields := strings.Fields(match[2])
		for i := 0; i+1 < len(fields); i += 2 {
			name, ok := strings.CutPrefix(fields[i+1], "ratio-")
			if !ok {
				continue
			}
			value, err := strconv.ParseFloat(fields[i], 64)
			if err != nil || value <= 0 || math.IsInf(value, 0) {
				continue // no peer figure to divide by in this run
			}
			label := strings.TrimPrefix(match[1], "Benchmark") + " " + name
			if _, seen := samples[label]; !seen {
				*order = append(*order, label)
			}
			samples[label] = append(samples[label], value)
		}
	}
	return lines.Err()
}

func median(values []float64) float64 {
	sorted := slices.Sorted(slices.Values(values))
	middle := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[middle]
	}
	return (sorted[middle-1] + sorted[middle]) / 2
}

// draw lays the bars out on a logarithmic axis centred on 1 (as fast as the peer), so that 2×
// slower and 2× faster are as long.
func draw(bars []bar) string {
	const (
		labelWidth = 330
		plotWidth  = 420
		rowHeight  = 20
		top        = 40
		left       = labelWidth + 10
	)
	limit := 2.0
	for _, b := range bars {
		limit = max(limit, b.ratio, b.target.value)
		limit = max(limit, 1/b.ratio)
	}
	span := math.Log(limit)
	x := func(ratio float64) float64 { return left + plotWidth/2*(1+math.Log(ratio)/span) }
	height := top + rowHeight*(len(bars)+1) + 30
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", left+plotWidth+60, height)
	fmt.Fprintf(&s, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&s, `<text x="10" y="20" font-size="14" font-weight="bold">vitess-apiserver ÷ its peer, same run (log scale; green: target met, red: missed, grey: no target)</text>`+"\n")
	for _, tick := range slices.Compact([]float64{1 / limit, 0.5, 1, 2, limit}) {
		if tick < 1/limit || tick > limit {
			continue
		}
		fmt.Fprintf(&s, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ccc"/>`+"\n", x(tick), top-5, x(tick), height-25)
		fmt.Fprintf(&s, `<text x="%.1f" y="%d" text-anchor="middle">%.2g×</text>`+"\n", x(tick), height-10, tick)
	}
	for i, b := range bars {
		y := top + rowHeight*i
		colour := "#999" // no target
		if b.target.value != 0 {
			met := (b.target.higher && b.ratio >= b.target.value) || (!b.target.higher && b.ratio <= b.target.value)
			colour = map[bool]string{true: "#4a9d5b", false: "#c8553d"}[met]
		}
		from, to := min(x(1), x(b.ratio)), max(x(1), x(b.ratio))
		fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelWidth, y+14, html.EscapeString(b.label))
		fmt.Fprintf(&s, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", from, y+3, max(to-from, 1), rowHeight-6, colour)
		fmt.Fprintf(&s, `<text x="%.1f" y="%d">%.2f×</text>`+"\n", to+4, y+14, b.ratio)
		if b.target.value != 0 {
			fmt.Fprintf(&s, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black" stroke-dasharray="2,2"/>`+"\n", x(b.target.value), y+1, x(b.target.value), y+rowHeight-1)
		}
	}
	fmt.Fprintf(&s, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"/>`+"\n", x(1), top-5, x(1), height-25)
	s.WriteString("</svg>\n")
	return s.String()
}
