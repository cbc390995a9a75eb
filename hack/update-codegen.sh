#!/usr/bin/env bash
# Regenerates everything under pkg/generated and the zz_generated files of the API packages,
# with the code-generator and kube-openapi versions pinned in go.mod.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
module=$(go list -m)
# `go list -m -f {{.Dir}}` prints nothing for a module that is not in the module cache yet (a fresh
# machine): download it first.
go mod download k8s.io/code-generator
codegen_root=$(go list -m -f '{{.Dir}}' k8s.io/code-generator)
[ -n "$codegen_root" ] || { echo "k8s.io/code-generator is not in the module cache" >&2; exit 1; }
export GOBIN=${GOBIN:-$root/.local/gobin}
mkdir -p "$GOBIN"
source "$codegen_root/kube_codegen.sh"

boilerplate=$root/hack/boilerplate.go.txt

kube::codegen::gen_helpers --boilerplate "$boilerplate" pkg/apis

mkdir -p api
kube::codegen::gen_openapi \
	--output-dir pkg/generated/openapi \
	--output-pkg "$module/pkg/generated/openapi" \
	--report-filename api/api-rules-violations.list \
	--update-report \
	--output-model-name-file zz_generated.model_name.go \
	--extra-pkgs k8s.io/api/core/v1 \
	--extra-pkgs k8s.io/apimachinery/pkg/util/intstr \
	--boilerplate "$boilerplate" \
	pkg/apis

kube::codegen::gen_client \
	--with-watch \
	--with-applyconfig \
	--output-dir pkg/generated \
	--output-pkg "$module/pkg/generated" \
	--boilerplate "$boilerplate" \
	pkg/apis

# The single install manifest, from the chart.
"$(dirname "$0")/render-install.sh"
