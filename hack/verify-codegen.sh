#!/usr/bin/env bash
# Fails when the generated code (and artifacts/install.yaml) differs from what hack/update-codegen.sh writes: generated code is
# never edited by hand. Generates into a copy of the tree so the checkout stays untouched.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
tar -C "$root" --exclude=./.git --exclude=./.local -cf - . | tar -C "$copy" -xf -
GOBIN=$root/.local/gobin "$copy/hack/update-codegen.sh" >/dev/null
if ! diff -ru "$root/pkg" "$copy/pkg" || ! diff -ru "$root/api" "$copy/api" ||
	! diff -u "$root/artifacts/install.yaml" "$copy/artifacts/install.yaml"; then
	echo "generated code is stale: run 'make generate'" >&2
	exit 1
fi
echo "generated code is up to date"
