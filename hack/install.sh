#!/usr/bin/env bash
# make install: builds the server's image, pushes it to $REGISTRY and installs artifacts/install.yaml
# into the cluster kubectl's KUBECONFIG names, with the image set to what was pushed (by digest).
# Without REGISTRY it uses the registry `make run` serves on loopback for its real node.
#
# On `make run`'s cluster it takes over from the server make run started as a host process: that
# server is stopped (its reconcile loop must not compete for the Lease), and the APIService and the
# Service are pointed at the installed one. Objects stored by the host-process server are not
# carried over: their Pods go, their volumes stay, and applying the same manifests again brings
# the tablets back on their data.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
root=$(cd "$here/.." && pwd)
kubectl=$K8S_BIN/kubectl
local_cluster=$root/.local/cluster

registry=${REGISTRY:-}
if [ -z "$registry" ]; then
	[ -f "$local_cluster/registry" ] || {
		log "no REGISTRY given and no make run cluster with a registry: make install REGISTRY=<registry>/<path>"
		exit 2
	}
	registry=$(cat "$local_cluster/registry")
fi

"$here/build-server-image.sh" >/dev/null
ref=$("$here/push-server-image.sh" "$registry" | tail -1)
log "pushed $ref"

# The host-process server of make run serves through an ExternalName Service; a Service cannot
# change into the installed ClusterIP one while it is of that type.
if [ "$("$kubectl" -n vitess-system get service vitess-apiserver -o jsonpath='{.spec.type}' 2>/dev/null)" = ExternalName ]; then
	if [ -f "$local_cluster/vitess-apiserver.pid" ]; then
		pid=$(cat "$local_cluster/vitess-apiserver.pid")
		log "taking over from the host-process server (pid $pid)"
		kill "$pid" 2>/dev/null || true
	fi
	"$kubectl" -n vitess-system delete service vitess-apiserver --wait=true
fi

manifest=$(mktemp)
trap 'rm -f "$manifest"' EXIT
# ref is <registry>/vitess-apiserver:<version>@<digest>; the digest alone pins the image.
tagged=${ref%@*}
INSTALL_MANIFEST=$manifest "$here/render-install.sh" --set "image.repository=${tagged%:*}" --set "image.digest=${ref##*@}"
"$kubectl" apply -f "$manifest"
"$kubectl" -n vitess-system rollout status statefulset/vitess-apiserver-etcd --timeout=10m
"$kubectl" -n vitess-system rollout status deployment/vitess-apiserver --timeout=10m
"$kubectl" wait --for=condition=Available --timeout=5m apiservice/v1alpha1.vitess.planetscale.com
"$kubectl" get apiservice v1alpha1.vitess.planetscale.com
