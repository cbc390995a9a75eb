#!/usr/bin/env bash
# Builds the image of vitess-apiserver with no container engine: the static server binary alone on
# an empty base, run as a non-root user, for linux/amd64 and linux/arm64 under one index, tagged
# with $VERSION (default: git describe). Layers are assembled in crane's registry on loopback and
# the index is written as an OCI image layout to $1 (default .local/image), which
# hack/push-server-image.sh pushes to any registry. Prints the image's tag on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
root=$(cd "$here/.." && pwd)
out=${1:-$root/.local/image}
version=${VERSION:-$(git -C "$root" describe --tags --always --dirty)}
platforms=(linux/amd64 linux/arm64)
# The uid distroless' nonroot user has; nothing in the image needs it to exist in /etc/passwd.
uid=65532

"$here/build-tools.sh" >/dev/null
crane=$CRANE_BIN/crane
work=$(mktemp -d)
registry_pid=
cleanup() {
	if [ -n "$registry_pid" ]; then
		kill "$registry_pid" 2>/dev/null || true
		wait "$registry_pid" 2>/dev/null || true # killed: its status says so
	fi
	rm -rf "$work"
}
trap cleanup EXIT
start_registry "$work/registry"

manifests=()
for platform in "${platforms[@]}"; do
	arch=${platform#linux/}
	log "building vitess-apiserver $version for $platform"
	mkdir -p "$work/$arch"
	CGO_ENABLED=0 GOOS=linux GOARCH=$arch go -C "$root" build -trimpath \
		-ldflags "-s -w" -o "$work/$arch/vitess-apiserver" ./cmd/apiserver
	tar --sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 -C "$work/$arch" -cf "$work/$arch.tar" vitess-apiserver
	ref=$registry/vitess-apiserver:$version-$arch
	"$crane" append --oci-empty-base -f "$work/$arch.tar" -t "$ref" >/dev/null
	"$crane" mutate "$ref" --set-platform "$platform" --entrypoint /vitess-apiserver --user "$uid:$uid" \
		--label org.opencontainers.image.version="$version" \
		--label org.opencontainers.image.source=https://github.com/vitess-apiserver/vitess-apiserver \
		-t "$ref" >/dev/null
	manifests+=(-m "$ref")
done
index=$registry/vitess-apiserver:$version
"$crane" index append "${manifests[@]}" -t "$index" >/dev/null
rm -rf "$out"
mkdir -p "$out"
"$crane" pull --format=oci "$index" "$out/oci"
echo "$version" >"$out/version"
log "vitess-apiserver:$version (${platforms[*]}) written to $out/oci"
echo "vitess-apiserver:$version"
