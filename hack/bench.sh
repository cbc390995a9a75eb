#!/usr/bin/env bash
# Runs every benchmark COUNT times and reports them: the raw output in docs/benchmarks/raw.txt,
# the median of every ratio to a peer (measured in the same run) in docs/benchmarks/ratios.tsv and
# docs/benchmarks.svg. docs/benchmarks.md reads them.
#
# The integration tier's benchmarks run against a real local control plane; the node tier's
# (first SQL answer, copy rates) need the real node, and run only with VITESS_BENCH_NODE=1.
# Sizes: VITESS_BENCH_LIST_LARGE (objects in the large list), VITESS_BENCH_COPY_ROWS and
# VITESS_BENCH_COPY_ROUNDS (the copy-rate comparison). VITESS_BENCH_OPERATOR_SOURCE=<a checkout of
# planetscale/vitess-operator> adds the operator side by side (BenchmarkConvergenceVsOperator),
# built from it by hack/build-operator.sh: the Go module proxy does not serve it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
count=${COUNT:-3}
out=docs/benchmarks
mkdir -p "$out" .local
export VITESS_BENCH_LIST_LARGE=${VITESS_BENCH_LIST_LARGE:-10000}
export VITESS_BENCH_COPY_ROWS=${VITESS_BENCH_COPY_ROWS:-1000000}
export VITESS_BENCH_COPY_ROUNDS=${VITESS_BENCH_COPY_ROUNDS:-4}
tiers=(./test/integration/)
if [[ ${VITESS_BENCH_NODE:-} == 1 ]]; then
	tiers+=(./test/node/)
fi
{
	echo "# make bench, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(go version | cut -d' ' -f3), count $count"
	echo "# VITESS_BENCH_LIST_LARGE=$VITESS_BENCH_LIST_LARGE VITESS_BENCH_COPY_ROWS=$VITESS_BENCH_COPY_ROWS VITESS_BENCH_COPY_ROUNDS=$VITESS_BENCH_COPY_ROUNDS"
	go test -run '^$' -bench . -benchmem -count "$count" ./pkg/...
	VITESS_APISERVER_INTEGRATION=1 go test -run '^$' -bench . -benchmem -count "$count" -p 1 -timeout 120m "${tiers[@]}"
} 2>&1 | grep -E '^(#|Benchmark|goos|goarch|cpu|pkg)' | tee "$out/raw.txt"
go run ./hack/benchreport -tsv "$out/ratios.tsv" -svg docs/benchmarks.svg "$out/raw.txt"
