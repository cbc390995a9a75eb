#!/usr/bin/env bash
# Renders artifacts/install.yaml, the single manifest that installs everything (`kubectl apply -f`),
# from the Helm chart in artifacts/charts/vitess-apiserver: the chart is the one source of both.
# Extra arguments are passed to `helm template` (make install sets the image with them); without
# them the output is the committed file, which `make verify` checks.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
root=$(dirname "$here")
build "$HELM_BIN" "$here/tools/helm" "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" helm=helm.sh/helm/v3/cmd/helm
out=${INSTALL_MANIFEST:-$root/artifacts/install.yaml}
{
	echo "# vitess-apiserver: everything it needs, in namespace vitess-system. Install with"
	echo "#   kubectl apply -f artifacts/install.yaml"
	echo "# Generated from artifacts/charts/vitess-apiserver by hack/render-install.sh (make generate):"
	echo "# edit the chart, not this file."
	"$HELM_BIN/helm" template vitess-apiserver "$root/artifacts/charts/vitess-apiserver" \
		--namespace vitess-system --set createNamespace=true "$@"
} >"$out.tmp"
mv "$out.tmp" "$out"
