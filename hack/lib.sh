# Shared settings for the hack/ scripts: tool versions and where their builds are cached.
K8S_VERSION=v1.37.2
K8S_VERSION_MAJOR=1
K8S_VERSION_MINOR=37
ETCD_VERSION=v3.7.0
KWOK_VERSION=v0.8.0
VITESS_VERSION=v0.24.0 # keep in step with hack/tools/vitess/go.mod
CRANE_VERSION=v0.22.1 # keep in step with hack/tools/crane/go.mod
HELM_VERSION=v3.22.0 # keep in step with hack/tools/helm/go.mod
COREDNS_VERSION=v1.15.0 # keep in step with hack/tools/coredns/go.mod
# SeaweedFS, the S3-compatible object store that backups are tested against; its module has no
# release tags on the proxy, so its pseudo-version is the version. Keep in step with
# hack/tools/seaweedfs/go.mod.
SEAWEEDFS_VERSION=v0.0.0-20261109003541-7506e5f91cd6
# The etcd the reconciler's lockserver pods run by default (defaultEtcdImage in pkg/reconcile/etcd.go),
# for the image hack/build-images.sh makes; keep in step with hack/tools/etcd-image/go.mod.
ETCD_IMAGE_VERSION=v3.5.17
# Likewise the tablet pods' default exporter (DefaultMysqldExporterImage in pkg/reconcile/tablet.go);
# keep in step with hack/tools/mysqld-exporter/go.mod. The examples name it too: the Go module proxy
# refuses v0.18.0, the operator examples' version, with a 403.
MYSQLD_EXPORTER_VERSION=v0.14.0
TOOLS_BIN=${VITESS_APISERVER_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/vitess-apiserver/bin}
K8S_BIN=$TOOLS_BIN/kubernetes-$K8S_VERSION
ETCD_BIN=$TOOLS_BIN/etcd-$ETCD_VERSION
KWOK_BIN=$TOOLS_BIN/kwok-$KWOK_VERSION
VITESS_BIN=$TOOLS_BIN/vitess-$VITESS_VERSION
CRANE_BIN=$TOOLS_BIN/crane-$CRANE_VERSION
HELM_BIN=$TOOLS_BIN/helm-$HELM_VERSION
SEAWEEDFS_BIN=$TOOLS_BIN/seaweedfs-$SEAWEEDFS_VERSION
# Keyed by its plugin list too (hack/tools/coredns/main.go), which a version does not pin.
COREDNS_BIN=$TOOLS_BIN/coredns-$COREDNS_VERSION-$(sha256sum "$(dirname "${BASH_SOURCE[0]}")/tools/coredns/main.go" | cut -c1-12)
ETCD_IMAGE_BIN=$TOOLS_BIN/etcd-image-$ETCD_IMAGE_VERSION
MYSQLD_EXPORTER_BIN=$TOOLS_BIN/mysqld-exporter-$MYSQLD_EXPORTER_VERSION
# MySQL for the tablets (Vitess' VT_MYSQL_ROOT), unpacked from Debian by hack/build-mysql.sh and keyed
# by what it is unpacked from. Not under TOOLS_BIN: when we are root, Vitess runs as uid 999, which
# cannot enter root's home (mode 0700), and copying 560 MB per test is no option. debootstrap needs
# root anyway, so a system-wide cache that everyone can read costs nothing.
MYSQL_SUITE=sid
MYSQL_PACKAGES=mysql-server-core,mysql-client-core
MYSQL_ROOT=${VITESS_APISERVER_MYSQL:-/var/cache/vitess-apiserver/debian-$MYSQL_SUITE-${MYSQL_PACKAGES//,/+}}
# The images hack/build-images.sh assembles, named as the reconciler's pods name them by default
# (DefaultVitessImage in pkg/reconcile/component.go, defaultEtcdImage in pkg/reconcile/etcd.go,
# DefaultMysqldExporterImage in pkg/reconcile/tablet.go), and the pod sandbox image a real node's
# containerd is configured with.
VITESS_IMAGE=vitess/lite:v24.0.0
ETCD_IMAGE=quay.io/coreos/etcd:$ETCD_IMAGE_VERSION
MYSQLD_EXPORTER_IMAGE=prom/mysqld-exporter:$MYSQLD_EXPORTER_VERSION
PAUSE_IMAGE=localhost/vitess-apiserver/pause:1

# build <dir> <module dir> <ldflags> <binary=package...> builds each binary that <dir> lacks from
# the tools module in <module dir>.
build() {
	local out=$1 mod=$2 ldflags=$3
	shift 3
	local spec name pkg
	mkdir -p "$out"
	for spec in "$@"; do
		name=${spec%%=*} pkg=${spec#*=}
		[ -x "$out/$name" ] && continue
		log "building $name ($pkg) into $out (once; cold this takes minutes)"
		# Build next to the target and rename, so an interrupted build never leaves a broken binary.
		(cd "$mod" && go build -trimpath -ldflags "$ldflags" -o "$out/.$name.tmp" "$pkg")
		mv "$out/.$name.tmp" "$out/$name"
	done
}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# apt_install <package...> installs Debian packages, which needs root. Package lists may be stale
# or absent on a fresh machine: they are refreshed only if the first try fails.
apt_install() {
	if [ "$(id -u)" != 0 ]; then
		log "this needs Debian's $*: run 'sudo apt-get install $*' once"
		return 1
	fi
	log "installing $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null ||
		{ apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null; }
}

# start_registry <dir> serves a real OCI registry (crane's) on loopback, its blobs in <dir>, and sets
# $registry (127.0.0.1:<port>) and $registry_pid; the caller stops it.
start_registry() {
	local dir=$1
	mkdir -p "$dir"
	# Created before the registry starts, so that reading it below never races its creation.
	: >"$dir.log"
	"$CRANE_BIN/crane" registry serve --address 127.0.0.1:0 --disk "$dir" 2>"$dir.log" &
	registry_pid=$!
	local port=
	for _ in $(seq 100); do
		port=$(sed -n 's/.*serving on port \([0-9]*\).*/\1/p' "$dir.log")
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || { cat "$dir.log" >&2; return 1; }
	registry=127.0.0.1:$port
}
