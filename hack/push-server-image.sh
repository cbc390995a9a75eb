#!/usr/bin/env bash
# Pushes the image hack/build-server-image.sh wrote (an OCI layout in $2, default .local/image) to
# $1/vitess-apiserver:<version>, a repository of any OCI registry (e.g. ghcr.io/me, or
# 127.0.0.1:5000). Prints the pushed reference, by tag and digest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
root=$(cd "$here/.." && pwd)
registry=${1:?usage: push-server-image.sh REGISTRY [IMAGE DIR]}
dir=${2:-$root/.local/image}
[ -f "$dir/version" ] || { log "no image in $dir: run make image first"; exit 1; }
version=$(cat "$dir/version")
ref=$registry/vitess-apiserver:$version
# The layout holds one entry, the multi-platform index, which is what the tag names.
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
pushed=$("$CRANE_BIN/crane" push "$dir/oci" "$ref" 2>"$errors") || { cat "$errors" >&2; exit 1; }
echo "$ref@${pushed##*@}"
