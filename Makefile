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
	$(GO) test $(GOTEST_FLAGS) -timeout 9m ./...

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

tools: $(TOOLS)/staticcheck $(TOOLS)/btcd /usr/bin/shellcheck ## install pinned tools into .tools/

$(TOOLS)/staticcheck:
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(TOOLS)/btcd:
	GOBIN=$(TOOLS) $(GO) install github.com/btcsuite/btcd@$(BTCD_VERSION)

/usr/bin/shellcheck:
	(apt-get install -y shellcheck >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y shellcheck >/dev/null))

.PHONY: help build test race fuzz lint tools
