# capprof: trace a privileged compose service, write its least-privilege override.
# README's two commands: `make demo` and `make test`. `make help` lists the rest.

GO ?= go
export PATH := $(PATH):/usr/local/go/bin

# The demo profiles examples/tun with the workload of examples/tun/example.json;
# `demo` checks the two still agree.
DEMO_COMPOSE := examples/tun/compose.yml
DEMO_SERVICE := tun
DEMO_EXEC    := timeout 10 sh -c 'until ip -o addr show dev tun0 | grep -q 192.0.2.1; do sleep 0.2; done'
DEMO_TIMEOUT := 60s
DEMO_OUT     := examples/tun/capprof

.DEFAULT_GOAL := help
.PHONY: help build generate deps images test test-e2e test-setup demo bench lint

help: ## List the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-z0-9-]+:.*## / { printf "  %-9s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

build: ## Build bin/capprof
	$(GO) build -o bin/capprof ./cmd/capprof

generate: ## Regenerate the eBPF objects and Go bindings in tracer/ (bpf2go, needs clang)
	$(GO) generate ./...

deps: ## Install Docker, compose, clang, debootstrap… (as root) and start dockerd
	scripts/install-deps.sh
	scripts/start-dockerd.sh

images: deps ## Build the example images capprof-example/<app>:latest (no registry needed)
	scripts/build-images.sh

# test-setup readies Docker and the example images for the end-to-end tests; as
# a normal user, who cannot install or start them, it says why those tests skip.
test-setup:
	@if [ "$$(id -u)" = 0 ] || [ -n "$$CAPPROF_REQUIRE_E2E" ]; then \
		$(MAKE) --no-print-directory images; \
	else \
		echo "make: not root: not installing Docker or building images; end-to-end tests will skip"; \
	fi

# -count=1: end-to-end results depend on Docker, the kernel and the images,
# none of which go test's cache sees; a cached pass would prove nothing.
test: test-setup ## Run all tests; CAPPROF_REQUIRE_E2E=1 makes skipped end-to-end tests fail
	$(GO) test -count=1 ./...

test-e2e: images ## Run all tests, uncached, with end-to-end tests required (as root)
	CAPPROF_REQUIRE_E2E=1 $(GO) test -count=1 ./...

demo: images build ## Profile examples/tun and write its least-privilege override to examples/tun/capprof
	@grep -qF -- "$(DEMO_EXEC)" examples/tun/example.json || \
		{ echo "make: DEMO_EXEC no longer matches examples/tun/example.json: update the Makefile"; exit 1; }
	bin/capprof profile -f $(DEMO_COMPOSE) --service $(DEMO_SERVICE) \
		--exec "$(DEMO_EXEC)" --timeout $(DEMO_TIMEOUT) --out $(DEMO_OUT)

bench: ## Run the benchmarks (no tests)
	$(GO) test -run '^$$' -bench . ./...

lint: ## Check formatting (gofmt) and run go vet
	@files=$$(gofmt -l .); if [ -n "$$files" ]; then echo "gofmt -w needed on:"; echo "$$files"; exit 1; fi
	$(GO) vet ./...
