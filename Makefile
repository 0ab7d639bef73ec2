# otelcol-duo. Needs only Go (and a C compiler for -race; without one the tests run
# without -race). Tools are built from internal/tools/go.mod into ./bin on first use.
#
#   make run         build otelcol-duo and the simulator, run the demo (Ctrl-C stops it)
#   make test        static checks (make check), unit tests, brief fuzzing, end-to-end tests
#                    and the fault matrix (what CI runs)
#   make check       the fast checks make test starts with: formatting, go.mod tidiness,
#                    golangci-lint, fresh mdatagen output
#   make fmt         format the Go sources (gofmt, goimports)
#   make tidy        go mod tidy for the module and internal/tools
#   make check-docs  no reference outside the repository, no citation of a missing section
#   make otelcol     build ./build/otelcol-duo with ocb
#   make generate    run mdatagen on every metadata.yaml
#   make lint        golangci-lint (config .golangci.yml)
#   make bench       Go benchmarks of the module
#   make bench-e2e   end-to-end benchmarks (internal/e2e, BenchmarkE2E*)
#   make test-faults end-to-end fault matrix (internal/e2e, TestFaults*)
#   make image       container image (podman or docker) -> build/otelcol-duo-image.tar
#   make test-container  the image end to end (internal/e2e, TestContainer*; needs podman)
#   make fuzz        every Fuzz* target for FUZZTIME (default 60s) each (make test: 5s)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

export GOTOOLCHAIN := local

GO        ?= go
ROOT      := $(CURDIR)
BIN       := $(ROOT)/bin
BUILD     := $(ROOT)/build
TOOLS_MOD := internal/tools/go.mod internal/tools/go.sum

BUILDER       := $(BIN)/builder
MDATAGEN      := $(BIN)/mdatagen
GOLANGCI_LINT := $(BIN)/golangci-lint

OTELCOL := $(BUILD)/otelcol-duo
DUOSIM  := $(BUILD)/duosim

# -race needs cgo. RACE=auto uses it when cgo is on and the C compiler is found.
RACE ?= auto
ifeq ($(RACE),auto)
  RACE_FLAG := $(shell [ "$$($(GO) env CGO_ENABLED)" = 1 ] && command -v "$$($(GO) env CC)" >/dev/null 2>&1 && echo -race)
else ifeq ($(RACE),1)
  RACE_FLAG := -race
else
  RACE_FLAG :=
endif

TEST_TIMEOUT ?= 15m
E2E_TIMEOUT  ?= 20m
GO_TEST      := $(GO) test $(RACE_FLAG) -count=1

# Inputs of the distribution: the manifest, the module files and the module's non-test Go
# sources (a superset of what the receiver links; internal/e2e's own files excluded).
OTELCOL_INPUTS := builder-config.yaml go.mod go.sum \
	$(shell find receiver internal -name '*.go' -not -name '*_test.go' -not -path 'internal/e2e/*' -not -path 'internal/tools/*' 2>/dev/null)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

# ---- tools (rebuilt when the tools module changes) ------------------------------------

$(BUILDER): $(TOOLS_MOD)
	cd internal/tools && $(GO) build -o $@ go.opentelemetry.io/collector/cmd/builder

$(MDATAGEN): $(TOOLS_MOD)
	cd internal/tools && $(GO) build -o $@ go.opentelemetry.io/collector/cmd/mdatagen

$(GOLANGCI_LINT): $(TOOLS_MOD)
	cd internal/tools && $(GO) build -o $@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

.PHONY: tools
tools: $(BUILDER) $(MDATAGEN) $(GOLANGCI_LINT) ## build every tool into ./bin

# ---- build ----------------------------------------------------------------------------

.PHONY: otelcol
otelcol: $(OTELCOL) ## build ./build/otelcol-duo with ocb

$(OTELCOL): $(BUILDER) $(OTELCOL_INPUTS)
	$(BUILDER) --config builder-config.yaml
	@touch $@
	@ls -l $@

.PHONY: duosim
duosim: ## build ./build/duosim (the Duo Admin API simulator)
	$(GO) build -o $(DUOSIM) ./cmd/duosim

.PHONY: generate
generate: $(MDATAGEN) ## run mdatagen on every metadata.yaml
	@for m in $$(find receiver -name metadata.yaml); do \
		echo "mdatagen $$m"; $(MDATAGEN) $$m; \
	done

# check-generated regenerates and fails if anything changed: the generated files must be
# committed fresh. It needs no git: it compares content hashes before and after.
.PHONY: check-generated
check-generated: $(MDATAGEN) ## fail if mdatagen output is stale
	@hashes() { find receiver -type f -not -name '*.test' -print0 | sort -z | xargs -0 sha256sum; }; \
	before=$$(hashes); \
	$(MAKE) --no-print-directory generate >/dev/null; \
	after=$$(hashes); \
	if [ "$$before" != "$$after" ]; then \
		diff <(echo "$$before") <(echo "$$after") || true; \
		echo "generated code was stale and has been regenerated: review and commit it" >&2; \
		exit 1; \
	fi; \
	echo "generated code is up to date"

# ---- static checks: the first stage of make test, each failing with what to run -------

# GO_MODULES are the directories holding a go.mod: the module and the tools module.
GO_MODULES := . internal/tools

.PHONY: check
check: check-fmt check-tidy check-docs lint check-generated ## fast static checks (the first stage of make test)

# check-fmt lists the files golangci-lint's formatters (gofmt, goimports with the local
# prefix of .golangci.yml) would change, with the diff, and changes nothing.
.PHONY: check-fmt
check-fmt: $(GOLANGCI_LINT) ## fail naming the Go files that are not formatted (fix: make fmt)
	@if ! out=$$($(GOLANGCI_LINT) fmt --diff ./... 2>&1); then \
		echo "$$out"; \
		echo "not formatted (run make fmt):" >&2; \
		echo "$$out" | sed -n 's/^diff \(.*\)\.orig .*/  \1/p' >&2; \
		exit 1; \
	fi; \
	echo "Go sources are formatted"

.PHONY: fmt
fmt: $(GOLANGCI_LINT) ## format the Go sources (gofmt, goimports)
	$(GOLANGCI_LINT) fmt ./...

# check-tidy uses go mod tidy -diff, which prints what tidy would change and writes nothing.
.PHONY: check-tidy
check-tidy: ## fail naming each module whose go.mod or go.sum is not tidy (fix: make tidy)
	@rc=0; for m in $(GO_MODULES); do \
		if ! (cd $$m && $(GO) mod tidy -diff); then \
			echo "module $$(cd $$m && $(GO) list -m) ($$m): go.mod/go.sum not tidy (run make tidy)" >&2; \
			rc=1; \
		fi; \
	done; \
	[ $$rc = 0 ] && echo "go.mod and go.sum are tidy in: $(GO_MODULES)"; \
	exit $$rc

.PHONY: tidy
tidy: ## go mod tidy for the module and internal/tools
	@for m in $(GO_MODULES); do echo "go mod tidy ($$m)"; (cd $$m && $(GO) mod tidy); done

.PHONY: check-docs
check-docs: ## fail on a reference to a file outside the repository or a dangling docs/duo-api.md §
	@./scripts/check-docs.sh

# ---- run ------------------------------------------------------------------------------

.PHONY: run
run: otelcol duosim ## run the demo: simulator + otelcol-duo with examples/demo.yaml
	OTELCOL_BIN=$(OTELCOL) DUOSIM_BIN=$(DUOSIM) ./examples/run-demo.sh

# ---- tests ----------------------------------------------------------------------------

.PHONY: test
test: check test-unit ## everything CI runs (about 13 min cold on 2 cores)
	$(MAKE) --no-print-directory fuzz FUZZTIME=5s
	$(MAKE) --no-print-directory test-e2e
	$(MAKE) --no-print-directory test-faults
	$(MAKE) --no-print-directory test-container

FUZZTIME ?= 60s
# fuzz runs every Fuzz* target of the module for FUZZTIME each (found with grep, so that
# listing them compiles nothing) through scripts/fuzz-one.sh, which retries once the
# fuzzer's own deadline flake. A failure leaves its input in the package's testdata/fuzz.
.PHONY: fuzz
fuzz: ## fuzzing: every Fuzz* target for FUZZTIME (default 60s; make test uses 5s) each
	@for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' receiver internal cmd 2>/dev/null | xargs -r -n1 dirname | sort -u); do \
		for f in $$(grep -h --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go | sed 's/^func //'); do \
			echo "fuzz ./$$dir $$f ($(FUZZTIME))"; \
			GO=$(GO) ./scripts/fuzz-one.sh $$dir $$f $(FUZZTIME); \
		done; \
	done

.PHONY: test-unit
test-unit: ## go test (-race when available) over the module, end-to-end tests excluded
	$(GO_TEST) -timeout $(TEST_TIMEOUT) ./...

.PHONY: test-e2e
test-e2e: otelcol ## end-to-end tests: TestE2E* in internal/e2e (build tag e2e)
	OTELCOL_DUO_BIN=$(OTELCOL) $(GO_TEST) -tags e2e -timeout $(E2E_TIMEOUT) -run '^TestE2E' -v ./internal/e2e

.PHONY: test-faults
test-faults: otelcol ## end-to-end fault matrix: TestFaults* in internal/e2e
	OTELCOL_DUO_BIN=$(OTELCOL) $(GO_TEST) -tags e2e -timeout $(E2E_TIMEOUT) -run '^TestFaults' -v ./internal/e2e

.PHONY: bench
bench: ## Go benchmarks over the module (no tests)
	$(GO) test -run '^$$' -bench . -benchmem ./...

.PHONY: bench-e2e
bench-e2e: otelcol ## end-to-end benchmarks: BenchmarkE2E* in internal/e2e
	OTELCOL_DUO_BIN=$(OTELCOL) $(GO) test -tags e2e -timeout $(E2E_TIMEOUT) -run '^$$' -bench '^BenchmarkE2E' -benchtime 1x -v ./internal/e2e

.PHONY: lint
lint: $(GOLANGCI_LINT) ## golangci-lint over the module
	$(GOLANGCI_LINT) run ./...

# ---- container image ------------------------------------------------------------------

IMAGE_TAR := $(BUILD)/otelcol-duo-image.tar

# image checks for a container engine before building anything, so that a machine without
# one fails at once, naming the packages to install. scripts/image.sh stages a small build
# context and saves an OCI archive; with podman it uses the private store of
# scripts/podman.sh (./build/podman); PODMAN_OWN_STORE=1 uses podman's own.
.PHONY: image
image: ## container image (podman, else docker) -> build/otelcol-duo-image.tar
	@./scripts/image.sh check >/dev/null
	@$(MAKE) --no-print-directory otelcol
	./scripts/image.sh build

# test-container loads build/otelcol-duo-image.tar into a private podman store in a temp
# dir and runs the image against the simulator and the sink (podman only: the test runs
# containers with host networking).
.PHONY: test-container
test-container: image ## container end-to-end tests: TestContainer* in internal/e2e (podman)
	OTELCOL_DUO_BIN=$(OTELCOL) OTELCOL_DUO_IMAGE_TAR=$(IMAGE_TAR) $(GO_TEST) -tags e2e -timeout $(E2E_TIMEOUT) -run '^TestContainer' -v ./internal/e2e

.PHONY: clean
clean: ## remove ./build (binaries, ocb sources, demo data)
	rm -rf $(BUILD)
