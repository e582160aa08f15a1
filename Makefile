# nodesweep — `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin
TOOLS := $(CURDIR)/.tools
STATICCHECK_VERSION := v0.8.2
BTCD_VERSION := v0.26.2
FUZZTIME ?= 20s
GOTEST_FLAGS ?= -count=1
export PATH := $(TOOLS):$(PATH)

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build bin/nodesweep
	$(GO) build -o $(BIN)/nodesweep ./cmd/nodesweep

test: tools lint ## everything CI runs: lint, unit and integration tests (< 10 min on 2 cores)
	$(GO) test $(GOTEST_FLAGS) -timeout 8m $$($(GO) list ./... | grep -v /internal/e2e)
	$(MAKE) --no-print-directory test-e2e

demo: build ## offline demo: simulate a network, crawl it, print the report, write the HTML report
	NODESWEEP=$(BIN)/nodesweep bench/demo.sh

test-e2e: ## end-to-end: the crawler against the simulator and real btcd (run alone: it times real timeouts)
	$(GO) test $(GOTEST_FLAGS) -timeout 8m ./internal/e2e

race: ## unit tests under the race detector
	$(GO) test -race $(GOTEST_FLAGS) -timeout 15m ./...

fuzz: ## run every fuzz target for FUZZTIME each (default 20s)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

lint: tools ## gofmt check, go vet, staticcheck, shellcheck
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "not gofmt'ed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(TOOLS)/staticcheck ./...
	@scripts=$$(git ls-files '*.sh' 2>/dev/null); if [ -n "$$scripts" ]; then shellcheck $$scripts; fi

tools: $(TOOLS)/staticcheck $(TOOLS)/btcd /usr/bin/shellcheck /usr/bin/chromium /usr/bin/dig /usr/sbin/ip /usr/lib/python3/dist-packages/requests/__init__.py ## install pinned tools into .tools/

$(TOOLS)/staticcheck:
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(TOOLS)/btcd:
	GOBIN=$(TOOLS) $(GO) install github.com/btcsuite/btcd@$(BTCD_VERSION)

/usr/bin/shellcheck:
	(apt-get install -y shellcheck >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y shellcheck >/dev/null))

/usr/bin/chromium: # headless Chromium renders the HTML report in internal/report's tests
	(apt-get install -y chromium >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y chromium >/dev/null))

/usr/bin/dig: # dig queries the DNS seeder in internal/dnsseed's and internal/e2e's tests
	(apt-get install -y bind9-dnsutils >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y bind9-dnsutils >/dev/null))

/usr/sbin/ip: # iproute2 makes IPv6 and CJDNS prefixes local in internal/e2e's network namespace (TestIPv6CJDNS)
	(apt-get install -y iproute2 >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y iproute2 >/dev/null))

/usr/lib/python3/dist-packages/requests/__init__.py: # a bitnodes API client runs against the census API in internal/e2e
	(apt-get install -y python3-requests >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y python3-requests >/dev/null))

load: ## the census served under load (< 3 min): 1,000 API clients for 60 s and DNS queries during a crawl --interval of 10,000 simulated nodes
	NODESWEEP_LOAD=1 $(GO) test $(GOTEST_FLAGS) -timeout 10m -run '^TestServeLoad$$' -v ./internal/e2e

.PHONY: help build demo test test-e2e race fuzz lint tools load

BENCH_FLAGS ?=
bench: build ## full benchmark (about 45 min on 2 cores, S9 included): bench/results/latest.md and the S4 plots
	$(BIN)/nodesweep bench --out bench/results/latest.md $(BENCH_FLAGS)

bench-quick: build ## quick benchmark (< 3 min): bench/results/quick.md
	$(BIN)/nodesweep bench --quick --out bench/results/quick.md $(BENCH_FLAGS)

.PHONY: bench bench-quick

soak-tor: ## 10,000 onions behind a Tor-like SOCKS front (circuit delays, a pending-circuit limit)
	E2E_ONIONS=10000 go test -count=1 -timeout 15m -run 'TestTorAtScale$$' -v ./internal/e2e/

.PHONY: soak-tor

CRAWL_FLAGS ?=
crawl: build ## mainnet crawl from the embedded defaults (DNS seeds, fixed-seed fallback) into ./nodesweep-data, then the report (needs internet)
	$(BIN)/nodesweep crawl $(CRAWL_FLAGS) && $(BIN)/nodesweep report

.PHONY: crawl

soak: ## long watch runs (not in make test): a compressed day of 20,000 churning nodes, scored, and the database size (SOAK_NODES, SOAK_SCALE, SOAK_HOURS)
	NODESWEEP_SOAK=1 $(GO) test -count=1 -timeout 90m -run 'TestWatchSoak' -v ./internal/e2e/
.PHONY: soak
