#!/usr/bin/env bash
# Runs the benchmarks and writes their results to docs/benchmarks.txt, which the README quotes.
# The API benchmarks run against the real local control plane, like the integration tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=docs/benchmarks.txt
mkdir -p docs .local
{
	echo "# make bench, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(go version | cut -d' ' -f3)"
	go test -run '^$' -bench . -benchmem -count 3 ./pkg/...
	VITESS_APISERVER_INTEGRATION=1 go test -run '^$' -bench . -benchmem -count 3 -timeout 45m ./test/integration/
} 2>&1 | grep -E '^(#|Benchmark|goos|goarch|cpu|pkg)' | tee "$out"
