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

# Protobuf marshalling of the v1alpha1 types (generated.proto, generated.pb.go and the protobuf
# struct tags), which lets the server and client-go speak application/vnd.kubernetes.protobuf.
# go-to-protobuf wants protoc, protoc-gen-gogo and goimports on PATH, and the packages and the
# .proto files they import laid out by import path under one directory: a GOPATH of symlinks.
source "$root/hack/lib.sh"
command -v protoc >/dev/null || apt_install protobuf-compiler
codegen_version=$(go list -m -f '{{.Version}}' k8s.io/code-generator)
gogo_version=$(awk '$1 == "github.com/gogo/protobuf" { print $2 }' "$codegen_root/go.mod")
tools_version=$(go list -m -f '{{.Version}}' golang.org/x/tools)
(cd / && go install "k8s.io/code-generator/cmd/go-to-protobuf@$codegen_version" \
	"k8s.io/code-generator/cmd/go-to-protobuf/protoc-gen-gogo@$codegen_version" &&
	go install "golang.org/x/tools/cmd/goimports@$tools_version")
gogo_root=$(cd / && go mod download -json "github.com/gogo/protobuf@$gogo_version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
gopath=$(mktemp -d)
trap 'rm -rf "$gopath"' EXIT
for link in "$module=$root" "github.com/gogo/protobuf=$gogo_root" \
	"k8s.io/api=$(go list -m -f '{{.Dir}}' k8s.io/api)" \
	"k8s.io/apimachinery=$(go list -m -f '{{.Dir}}' k8s.io/apimachinery)"; do
	mkdir -p "$gopath/$(dirname "${link%%=*}")"
	ln -s "${link#*=}" "$gopath/${link%%=*}"
done
PATH=$GOBIN:$PATH go-to-protobuf \
	--go-header-file "$boilerplate" \
	--output-dir "$gopath" \
	--proto-import "$gopath" \
	--proto-import "$gogo_root/protobuf" \
	--apimachinery-packages "$(printf -- '-%s,' k8s.io/apimachinery/pkg/{util/intstr,api/resource,runtime/schema,runtime,apis/meta/v1} k8s.io/api/core/v1 | sed 's/,$//')" \
	--packages "$module/pkg/apis/vitess/v1alpha1"
# gogo names a field Equal_ in its Go code, since it keeps Equal for a method it can generate
# (and we do not): VitessKeyspacePartitioning's field is Equal.
sed -i 's/\bEqual_\b/Equal/g' pkg/apis/vitess/v1alpha1/generated.pb.go

kube::codegen::gen_client \
	--prefers-protobuf \
	--with-watch \
	--with-applyconfig \
	--output-dir pkg/generated \
	--output-pkg "$module/pkg/generated" \
	--boilerplate "$boilerplate" \
	pkg/apis

# The single install manifest, from the chart.
"$(dirname "$0")/render-install.sh"
