#!/usr/bin/env bash
# Builds the control-plane and Vitess binaries the local cluster and the integration tests run (and the
# kubelet, kube-proxy, CoreDNS and crane, for a real node, its Services and its images; Helm, to install the chart; SeaweedFS, the object store backups go to), from the Go module proxy, once per version. They are cached outside the work tree so that a fresh clone
# (and CI on the same machine) reuses them; a new machine rebuilds them.
# Prints the directory that holds them on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

k8s_ldflags="-s -w"
for kv in gitVersion=$K8S_VERSION gitMajor=${K8S_VERSION_MAJOR} gitMinor=${K8S_VERSION_MINOR} gitTreeState=clean buildDate=2026-01-01T00:00:00Z; do
	k8s_ldflags+=" -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"
done
k8s=k8s.io/kubernetes/cmd
build "$K8S_BIN" "$here/tools/kubernetes" "$k8s_ldflags" \
	kube-apiserver=$k8s/kube-apiserver kube-controller-manager=$k8s/kube-controller-manager \
	kube-scheduler=$k8s/kube-scheduler kubectl=$k8s/kubectl kubelet=$k8s/kubelet kube-proxy=$k8s/kube-proxy
build "$ETCD_BIN" "$here/tools/etcd" "-s -w" etcd=go.etcd.io/etcd/server/v3
build "$KWOK_BIN" "$here/tools/kwok" "-s -w" kwok=sigs.k8s.io/kwok/cmd/kwok
build "$COREDNS_BIN" "$here/tools/coredns" "-s -w" coredns=.
build "$CRANE_BIN" "$here/tools/crane" "-s -w" crane=github.com/google/go-containerregistry/cmd/crane
build "$HELM_BIN" "$here/tools/helm" "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" helm=helm.sh/helm/v3/cmd/helm
build "$SEAWEEDFS_BIN" "$here/tools/seaweedfs" "-s -w" weed=github.com/seaweedfs/seaweedfs/weed
vt=vitess.io/vitess/go/cmd
build "$VITESS_BIN" "$here/tools/vitess" "-s -w" \
	vtctld=$vt/vtctld vtctldclient=$vt/vtctldclient vtgate=$vt/vtgate vttablet=$vt/vttablet \
	vtorc=$vt/vtorc mysqlctl=$vt/mysqlctl mysqlctld=$vt/mysqlctld
"$here/build-mysql.sh"
echo "$TOOLS_BIN"
