#!/usr/bin/env bash
# build-operator.sh <source> builds planetscale/vitess-operator's manager from a git checkout of
# its sources, for the benchmark that runs it beside our server (BenchmarkOperatorConvergence),
# and prints the binary's path. The binary is cached by the checkout's commit.
#
# The Go module proxy refuses the operator's module (planetscale.dev/vitess-operator, and its
# GitHub path, with a 403), so its sources come from a checkout the caller has. Its go.mod pins
# a Vitess pseudo-version the proxy also refuses; Vitess v0.24.0, the one we run, builds it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
src=${1:?usage: build-operator.sh <git checkout, or bare repository, of planetscale/vitess-operator>}
commit=$(git -C "$src" rev-parse HEAD)
out=$TOOLS_BIN/vitess-operator-${commit:0:12}
if [ ! -x "$out/manager" ]; then
	log "building vitess-operator ${commit:0:12} into $out (once; cold this takes minutes)"
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	git -C "$src" archive "$commit" | tar -x -C "$work"
	(
		cd "$work"
		go mod edit -replace vitess.io/vitess=vitess.io/vitess@"$VITESS_VERSION"
		go mod tidy >&2
		go build -trimpath -o "$work/manager" ./cmd/manager
	)
	mkdir -p "$out"
	mv "$work/manager" "$out/manager"
fi
echo "$out/manager"
