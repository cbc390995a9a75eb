# Shared settings for the hack/ scripts: tool versions and where their builds are cached.
K8S_VERSION=v1.37.2
K8S_VERSION_MAJOR=1
K8S_VERSION_MINOR=37
ETCD_VERSION=v3.7.0
KWOK_VERSION=v0.8.0
VITESS_VERSION=v0.24.0 # keep in step with hack/tools/vitess/go.mod
TOOLS_BIN=${VITESS_APISERVER_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/vitess-apiserver/bin}
K8S_BIN=$TOOLS_BIN/kubernetes-$K8S_VERSION
ETCD_BIN=$TOOLS_BIN/etcd-$ETCD_VERSION
KWOK_BIN=$TOOLS_BIN/kwok-$KWOK_VERSION
VITESS_BIN=$TOOLS_BIN/vitess-$VITESS_VERSION

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
