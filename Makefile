# vitess-apiserver. `make run` brings up a local control plane with the server and the example
# cluster; `make test` runs every test tier.
SHELL := /usr/bin/env bash
GO ?= go
BIN := .local/bin

.PHONY: all build image push install tools generate verify test test-unit test-integration run bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN)/vitess-apiserver ./cmd/apiserver

# Control-plane binaries (kube-apiserver, controller manager, scheduler, kubectl, etcd, kwok),
# built once per version into ~/.cache/vitess-apiserver.
# The server's image (linux/amd64 and linux/arm64, non-root, the binary alone), as an OCI layout in
# .local/image, tagged with VERSION (default: git describe); no container engine needed.
image: tools
	hack/build-server-image.sh

# make push REGISTRY=<registry>/<path>: pushes the image `make image` built.
push:
	@test -n "$(REGISTRY)" || { echo "usage: make push REGISTRY=<registry>/<path>"; exit 2; }
	hack/push-server-image.sh $(REGISTRY)

# make install [REGISTRY=<registry>/<path>]: the image, pushed, and everything else of
# artifacts/install.yaml applied to the cluster KUBECONFIG names; without REGISTRY, make run's.
install: tools
	REGISTRY=$(REGISTRY) hack/install.sh

tools:
	hack/build-tools.sh

generate:
	hack/update-codegen.sh

verify:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	hack/verify-codegen.sh

# Every tier: static checks, unit tests, then the integration tests against a real control plane.
test: verify test-unit test-integration

# Every benchmark also runs once (-benchtime 1x), as a smoke run that keeps it from rotting; its
# figures come from make bench.
test-unit:
	$(GO) test -race -bench . -benchtime 1x ./pkg/... ./cmd/...

# One package at a time: the kwok tier's and the real node's Vitess each want both cores.
test-integration: tools
	mkdir -p .local
	VITESS_APISERVER_INTEGRATION=1 $(GO) test -count=1 -p 1 -timeout 75m -v -bench . -benchtime 1x ./test/... 2>&1 | tee .local/test-integration.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic|Benchmark)|\.go:[0-9]+: ' ; exit $${PIPESTATUS[0]}

run: tools
	$(GO) run ./hack/local-cluster

bench:
	hack/bench.sh

# Every fuzz target of every package, FUZZTIME each.
FUZZTIME ?= 30s
fuzz:
	set -e; for pkg in $$($(GO) list ./pkg/... ./cmd/...); do \
		for target in $$($(GO) test -list '^Fuzz' "$$pkg" | grep '^Fuzz' || true); do \
			echo "$$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done

clean:
	rm -rf .local
