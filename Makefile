# redline — make targets. `make demo` and `make test` are the quick start.
GO       ?= go
# An execution count, not a duration: with a duration, Go 1.26's fuzzing coordinator can
# report a spurious "context deadline exceeded" as the time runs out (go.dev/issue/75804,
# fixed in Go 1.27; seen once in a fresh-clone make test). About 5 s per fuzzer here.
FUZZTIME ?= 100000x
# The test suite opens many sockets (proxies, clusters, concurrent callers).
SHELL    := /bin/bash

.PHONY: all deps test check unit matrix-smoke test-matrix fuzz-short fuzz soak demo bench bench-hooks bench-scale clean

all: test

## deps: install redis-server, redis-tools and tmux from Debian's packages when missing, and fetch
## Redis 6.0 and Valkey 8.0 for the server matrix (scripts/servers.sh: into .cache/servers, no root)
deps:
	@./scripts/deps.sh
	@./scripts/servers.sh

## test: everything CI runs: formatting, vet, race-enabled tests on real clusters, a smoke of the
## server matrix (Redis 6.0, Valkey 8.0), short fuzzing
test: deps check unit matrix-smoke fuzz-short

## matrix-smoke: the seed scenario and the basics over RESP2/RESP3 on Redis 6.0 and Valkey 8.0
matrix-smoke:
	./scripts/test-matrix.sh -short

## test-matrix: the integration tests that matter per server on Redis 6.0, 7.0 and Valkey 8.0,
## one table of results (logs in test-matrix/)
test-matrix: deps
	./scripts/test-matrix.sh

## check: gofmt and go vet (redlineotel/, a module of its own, too: vet, and go.mod/go.sum tidy)
check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd redlineotel && $(GO) vet ./... && $(GO) mod tidy -diff

## unit: the tests, with the race detector (redlineotel/'s too); then the timing-critical ones
## again without it, where their bounds are strict (the race detector slows everything several-fold),
## and internal/conn whole without it: its raw system calls (nbsys_linux.go) are built only there.
## The root package and systest/ (the reliability, scale and seed-scenario suites load both cores)
## run after the other packages, not beside them: their fault tests time calls to the millisecond.
## The two run side by side, each with its own clusters (redistest's ports are locked across
## processes), and take turns for their heavy tests (internal/testkit.Heavy).
unit:
	ulimit -n 65536 2>/dev/null || ulimit -n $$(ulimit -Hn); \
	$(GO) test -race -count=1 -timeout 10m $$($(GO) list ./... | grep -vxE 'github.com/redline-go/redline(/systest)?') && \
	$(GO) test -race -count=1 -timeout 14m . ./systest/ && \
	(cd redlineotel && $(GO) test -race -count=1 -timeout 5m ./...) && \
	$(GO) test -count=1 -timeout 5m -run 'TestSeedScenario|TestFailover$$|TestReliabilitySentinel' ./systest/ && \
	$(GO) test -count=1 -timeout 5m -run 'TestFault|TestSingleFlightDial' ./internal/node/ && \
	$(GO) test -count=1 -timeout 5m -run 'Allocs' . && \
	$(GO) test -count=1 -timeout 5m ./internal/conn/

## fuzz-short: each fuzzer for $(FUZZTIME) (CI); `make fuzz FUZZTIME=50000000x` (or a duration, e.g. 5m) for longer runs
fuzz-short fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzReader$$' -fuzztime=$(FUZZTIME) ./resp/
	$(GO) test -run='^$$' -fuzz='^FuzzRoundTrip$$' -fuzztime=$(FUZZTIME) ./resp/
	$(GO) test -run='^$$' -fuzz='^FuzzKey$$' -fuzztime=$(FUZZTIME) ./hashslot/
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./internal/topology/
	$(GO) test -run='^$$' -fuzz='^FuzzKeyIndexes$$' -fuzztime=$(FUZZTIME) ./internal/command/
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./internal/command/

## soak: the reliability suite (systest/ TestReliability*, also part of `make test`) run longer —
## more failover rounds, keys, slots and clients, linearizability phases of 20s — without
## the race detector, printing the FIGURE lines docs/RELIABILITY.md reports (full log in
## soak.log). Not in CI. The router's differential test runs in it too (5 minutes; short in make test).
soak: deps
	set -o pipefail; ulimit -n 65536 2>/dev/null || ulimit -n $$(ulimit -Hn); \
	REDLINE_SOAK=1 $(GO) test -count=1 -timeout 60m -run 'TestReliability|TestRouterDifferential' -v . ./systest/ 2>&1 | tee soak.log | \
	  grep -E '^(--- |PASS|FAIL|ok)|FIGURE|reliability_.*_test.go'

## demo: start a throwaway local cluster, show it, stop it
demo: deps
	$(GO) run ./cmd/redline demo
	$(GO) run ./cmd/redline demo shapes

## bench: redline, go-redis and rueidis side by side (throughput, seed-scenario deadlines, failover) plus the
## in-repo micro-benchmarks; writes docs/PERFORMANCE.md and docs/performance.json (bench/ is its own module)
bench:
	@./scripts/deps.sh
	ulimit -n 65536 2>/dev/null || ulimit -n $$(ulimit -Hn); \
	cd bench && $(GO) run ./cmd/report

## bench-hooks: what an unset command hook costs a GET (the normal build against one with the hooks
## compiled out, in alternation); writes docs/HOOKS-BENCH.md (about a minute)
bench-hooks:
	@./scripts/deps.sh
	$(GO) run ./internal/cmd/hookbench

## bench-scale: the scale scenarios — one client against fake clusters of 3 to 1,000 masters, and a
## CLUSTERDOWN storm of 50 instances at 500 masters — on redline, go-redis and rueidis; replaces only
## the Scale section of docs/PERFORMANCE.md, and docs/performance-scale.json (about 2 minutes)
bench-scale:
	cd bench && $(GO) run ./cmd/report -only scale

clean:
	$(GO) clean -testcache
