#!/usr/bin/env bash
# Assembles the container images that the reconciler's pods name, for a real node that reaches no
# registry (test/framework's RealNode imports them into its containerd):
#   $PAUSE_IMAGE   the pod sandbox, hack/images/pause;
#   $VITESS_IMAGE  the Debian sid tree hack/build-mysql.sh made (MySQL 9.7, a shell and coreutils for
#                  the tablet pods' init containers) with the Vitess binaries in /vt/bin and Vitess'
#                  config/ in /vt/config. Tablets run mysqld from it too, as the example cluster
#                  says (mysql80Compatible) and the reconciler does by default;
#   $ETCD_IMAGE    etcd alone, the lockserver pods' default;
#   $MYSQLD_EXPORTER_IMAGE  Prometheus' mysqld_exporter alone, the tablet pods' default.
# Layers are tarballs appended to an empty base in crane's registry on loopback; crane mutate sets
# each image's config and writes it, under the name pods use, to a tarball for `ctr images import`.
# Built once per set of inputs into $TOOLS_BIN/images-<key>. Prints that directory on its last line;
# its images.txt lists "<image name> <tarball>" per line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

"$here/build-tools.sh" >/dev/null
# Static: the etcd and exporter images hold nothing but their binary.
CGO_ENABLED=0 build "$ETCD_IMAGE_BIN" "$here/tools/etcd-image" "-s -w" etcd=go.etcd.io/etcd/server/v3
CGO_ENABLED=0 build "$MYSQLD_EXPORTER_BIN" "$here/tools/mysqld-exporter" "-s -w" \
	mysqld_exporter=github.com/prometheus/mysqld_exporter
crane=$CRANE_BIN/crane

work=$(mktemp -d)
registry_pid=
partial=
cleanup() {
	if [ -n "$registry_pid" ]; then
		kill "$registry_pid" 2>/dev/null || true
		wait "$registry_pid" 2>/dev/null || true # killed: its status says so
	fi
	rm -rf "$work" ${partial:+"$partial"}
}
trap cleanup EXIT

CGO_ENABLED=0 go -C "$here/.." build -trimpath -ldflags "-s -w" -o "$work/pause" ./hack/images/pause
vitess_programs=(vtctld vtctldclient vtgate vttablet vtorc mysqlctl mysqlctld)
# Builds are reproducible (-trimpath), so the binaries' digests identify them; the MySQL tree is
# identified by its installed packages' versions.
key=$(
	{
		cat "$0"
		echo "$PAUSE_IMAGE $ETCD_IMAGE $MYSQLD_EXPORTER_IMAGE $VITESS_IMAGE"
		sha256sum "$work/pause" "$ETCD_IMAGE_BIN/etcd" "$MYSQLD_EXPORTER_BIN/mysqld_exporter" \
			"${vitess_programs[@]/#/$VITESS_BIN/}" | cut -d' ' -f1
		cat "$MYSQL_ROOT/rootfs/var/lib/dpkg/status"
	} | sha256sum | cut -c1-16
)
out=$TOOLS_BIN/images-$key
[ -f "$out/images.txt" ] && { echo "$out"; exit 0; }
exec 9>"$TOOLS_BIN/.images.lock"
flock 9
[ -f "$out/images.txt" ] && { echo "$out"; exit 0; }
partial=$out.tmp
rm -rf "$partial"
mkdir -p "$partial"

start_registry "$work/registry"

# image <name> <tarball> <layer tarball>... [-- <crane mutate flags>...]
image() {
	local name=$1 file=$2
	shift 2
	local layers=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		layers+=(-f "$1")
		shift
	done
	[ $# -gt 0 ] && shift
	log "assembling $name"
	quietly "$crane" append --oci-empty-base "${layers[@]}" -t "$registry/build:latest"
	quietly "$crane" mutate "$registry/build:latest" --set-platform linux/amd64 "$@" -t "$name" -o "$partial/$file"
	echo "$name $file" >>"$partial/images.txt"
}
# quietly <command>...: its output only if it fails.
quietly() {
	"$@" >"$work/output" 2>&1 || { cat "$work/output" >&2; return 1; }
}
# tree <tarball> <dir> <member>...: root-owned members of dir, reproducibly.
tree() {
	local file=$1 dir=$2
	shift 2
	tar --sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 -C "$dir" -cf "$file" "$@"
}

mkdir "$work/pause-root"
cp "$work/pause" "$work/pause-root/pause"
tree "$work/pause.tar" "$work/pause-root" pause
image "$PAUSE_IMAGE" pause.tar "$work/pause.tar" -- --entrypoint /pause --user 65535:65535

mkdir -p "$work/etcd-root/usr/local/bin"
cp "$ETCD_IMAGE_BIN/etcd" "$work/etcd-root/usr/local/bin/"
tree "$work/etcd.tar" "$work/etcd-root" usr
image "$ETCD_IMAGE" etcd.tar "$work/etcd.tar" -- --entrypoint /usr/local/bin/etcd --user 65532:65532 \
	--env PATH=/usr/local/bin

mkdir -p "$work/exporter-root/bin"
cp "$MYSQLD_EXPORTER_BIN/mysqld_exporter" "$work/exporter-root/bin/"
tree "$work/exporter.tar" "$work/exporter-root" bin
# As upstream: the pods give only arguments, and it needs no privileges.
image "$MYSQLD_EXPORTER_IMAGE" mysqld-exporter.tar "$work/exporter.tar" -- --entrypoint /bin/mysqld_exporter --user 65534:65534

# Device nodes and the kernel's filesystems come from the runtime.
tar --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
	-C "$MYSQL_ROOT/rootfs" -cf "$work/debian.tar" .
vt=$work/vitess-root/vt
mkdir -p "$vt/bin" "$vt/vtdataroot" "$vt/socket"
cp "${vitess_programs[@]/#/$VITESS_BIN/}" "$vt/bin/"
# The binaries may come from the tools cache while the module cache is empty (a cleaned or new
# one): download the module before asking where it is.
go -C "$here/tools/vitess" mod download vitess.io/vitess
vitess_module=$(go -C "$here/tools/vitess" list -m -f '{{.Dir}}' vitess.io/vitess)
[ -n "$vitess_module" ] || { log "vitess.io/vitess is not in the module cache"; exit 1; }
cp -R "$vitess_module/config" "$vt/config"
chmod -R u+w "$vt/config" # read-only in the module cache
# Like the upstream image, /vt belongs to the vitess user (uid 999, as the reconciler's pods run).
tar --sort=name --mtime=@0 --numeric-owner --owner=999 --group=999 -C "$work/vitess-root" -cf "$work/vt.tar" vt
image "$VITESS_IMAGE" vitess.tar "$work/debian.tar" "$work/vt.tar" -- --user 999:999 --workdir /vt \
	--env PATH=/vt/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	--env VTROOT=/vt --env VTDATAROOT=/vt/vtdataroot

mv -T "$partial" "$out"
echo "$out"
