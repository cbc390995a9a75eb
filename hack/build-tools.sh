#!/usr/bin/env bash
# Builds the control-plane binaries the local cluster and the integration tests run, from the Go
# module proxy, once per version. They are cached outside the work tree so that a fresh clone (and CI
# on the same machine) reuses them; a new machine rebuilds them.
# Prints the directory that holds them on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

build() { # <dir> <module dir> <ldflags> <packages...>
	local out=$1 mod=$2 ldflags=$3
	shift 3
	local missing=()
	for pkg in "$@"; do
		[ -x "$out/$(basename "$pkg")" ] || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "building ${missing[*]} into $out (once; cold this takes several minutes)"
	mkdir -p "$out.tmp"
	(cd "$mod" && go build -trimpath -ldflags "$ldflags" -o "$out.tmp/" "${missing[@]}")
	mkdir -p "$out"
	mv "$out.tmp"/* "$out/"
	rmdir "$out.tmp"
}

k8s_ldflags="-s -w"
for kv in gitVersion=$K8S_VERSION gitMajor=${K8S_VERSION_MAJOR} gitMinor=${K8S_VERSION_MINOR} gitTreeState=clean buildDate=2026-01-01T00:00:00Z; do
	k8s_ldflags+=" -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"
done
build "$TOOLS_BIN/kubernetes-$K8S_VERSION" "$here/tools/kubernetes" "$k8s_ldflags" \
	k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
	k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
build "$TOOLS_BIN/etcd-$ETCD_VERSION" "$here/tools/etcd" "-s -w" go.etcd.io/etcd/server/v3
[ -x "$TOOLS_BIN/etcd-$ETCD_VERSION/etcd" ] || mv "$TOOLS_BIN/etcd-$ETCD_VERSION/v3" "$TOOLS_BIN/etcd-$ETCD_VERSION/etcd"
build "$TOOLS_BIN/kwok-$KWOK_VERSION" "$here/tools/kwok" "-s -w" sigs.k8s.io/kwok/cmd/kwok
echo "$TOOLS_BIN"
