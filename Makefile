# troupe's developer commands. `make help` lists them.
GO      ?= go
PKGS    := ./...
BIN     := bin

.PHONY: help build dev demo-aws test lint fmt bench bench-pattern fuzz lambdas infra-test synth diff deploy console-assets console-e2e-deps console-screenshot console-firstload bench-console

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

dev: ## run the whole sample choreography on this machine (troupe dev on 127.0.0.1:4195, state in .troupe/)
	$(GO) run ./cmd/troupe dev

demo-aws: ## against an AWS emulator (moto): create a bus and a stream, publish the samples, show what landed
	scripts/with-moto scripts/demo

build: ## build the troupe CLI into bin/
	$(GO) build -o $(BIN)/troupe ./cmd/troupe

CONSOLE_VENDOR := console/assets/vendor

console-assets: ## vendor the console's graph library (pinned in console/webdeps/) into console/assets/vendor/ (commit the result)
	cd console/webdeps && npm ci --no-audit --no-fund
	mkdir -p $(CONSOLE_VENDOR)
	@# the minified ES modules, without their source-map comments (the maps are not shipped)
	sed '/^\/\/# sourceMappingURL=/d' console/webdeps/node_modules/cytoscape/dist/cytoscape.esm.min.mjs > $(CONSOLE_VENDOR)/cytoscape.esm.min.mjs
	sed '/^\/\/# sourceMappingURL=/d' console/webdeps/node_modules/cytoscape-dagre/dist/cytoscape-dagre.min.mjs > $(CONSOLE_VENDOR)/cytoscape-dagre.min.mjs
	cp console/webdeps/node_modules/cytoscape/LICENSE $(CONSOLE_VENDOR)/LICENSE.cytoscape
	cp console/webdeps/node_modules/cytoscape-dagre/LICENSE $(CONSOLE_VENDOR)/LICENSE.cytoscape-dagre
	@grep -h '"version"' console/webdeps/node_modules/cytoscape/package.json console/webdeps/node_modules/cytoscape-dagre/package.json

console-e2e-deps: ## install the browser test's driver (playwright-core, pinned in console/e2e/); Chromium comes from Debian (/usr/bin/chromium)
	cd console/e2e && npm ci --no-audit --no-fund

console-screenshot: console-e2e-deps ## run the console's browser test and keep its screenshot as docs/console.png
	TROUPE_CONSOLE_SCREENSHOT=$(CURDIR)/docs/console.png $(GO) test -count=1 -run '^TestConsoleInABrowser$$' -v ./cmd/troupe/

console-firstload: build console-e2e-deps ## the console's first load in headless Chromium: bytes and milliseconds (cold cache, 10 loads)
	node console/e2e/firstload.mjs --troupe $(BIN)/troupe --runs 10

bench-console: console-e2e-deps ## troupe dev's ingest throughput with the console open in headless Chromium, beside the same without (5 interleaved rounds)
	@for i in 1 2 3 4 5; do \
	  $(GO) test -run '^$$' -bench 'IngestWithConsole' -benchtime 3000x -count 1 ./console/ | grep '^Benchmark' || exit 1; \
	done
	$(GO) test -run '^$$' -bench 'Snapshot' -benchtime 2000x ./console/ | grep '^Benchmark'

LAMBDAS := $(patsubst consumers/%/lambda/main.go,%,$(wildcard consumers/*/lambda/main.go))

lambdas: ## build each consumer's Lambda, and the ingest's, as dist/lambdas/<name>/bootstrap (linux/arm64, provided.al2023)
	@for n in $(LAMBDAS); do \
	  echo "dist/lambdas/$$n/bootstrap"; \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags '-s -w' \
	    -o dist/lambdas/$$n/bootstrap ./consumers/$$n/lambda || exit 1; \
	done
	@echo "dist/lambdas/ingest/bootstrap"
	@GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags '-s -w' \
	    -o dist/lambdas/ingest/bootstrap ./cmd/ingest

# The browser test's driver, installed when missing or when its lock changes.
CONSOLE_E2E_DEPS := console/e2e/node_modules/.package-lock.json
$(CONSOLE_E2E_DEPS): console/e2e/package-lock.json
	cd console/e2e && npm ci --no-audit --no-fund

test: $(CONSOLE_E2E_DEPS) ## run every test (race detector on) against a moto_server started for the run
	scripts/with-moto $(GO) test -race -count=1 $(PKGS)
	@# The race detector makes sync.Pool drop items, so the matcher's
	@# zero-allocation test skips itself above: run it without.
	$(GO) test -count=1 -run 'Allocations' ./events/pattern/

lint: ## gofmt and go vet, failing on any finding
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

bench: ## producer and envelope benchmarks (against moto), then the pattern matcher's
	scripts/with-moto $(GO) test -run '^$$' -bench . -benchmem ./events/... ./schemas/... ./producers/...
	$(MAKE) bench-pattern

bench-pattern: ## the event-pattern matcher side by side with Quamina (own module: bench/)
	cd bench && $(GO) test -run '^$$' -bench . -benchmem .

fuzz: ## run each fuzz target for 30s
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 30s $$pkg || exit 1; \
	  done; \
	done

infra-test: ## the CDK app's checks: vet, assertion tests, offline synth and cfn-lint (infra/ is its own module)
	$(MAKE) -C infra vet test lint

synth: ## synthesize the CDK stack offline into infra/cdk.out (builds the Lambdas first)
	$(MAKE) -C infra synth

diff: ## compare the CDK stack with what is deployed (AWS credentials needed)
	$(MAKE) -C infra diff

deploy: ## deploy the stack with the CDK (AWS credentials and a bootstrapped account/region needed)
	$(MAKE) -C infra deploy
