# `make test` is the README's test command and what CI (.ci/run) runs: on a
# fresh clone it needs only Go, git and make.
GO ?= go

# Prometheus, promtool, Alertmanager and amtool for the tests, built from the
# Go modules pinned in tools/ (the versions the compose stack runs) into the
# git-ignored bin/. The first build takes several minutes; later runs reuse
# bin/ until a tools/*/go.mod changes.
PROM_TOOLS := bin/prometheus bin/promtool
AM_TOOLS := bin/alertmanager bin/amtool
# version strings for `promtool --version` etc., read from the pins
PROM_VERSION = $(shell sed -n 's/^[[:space:]]*github.com\/prometheus\/prometheus v0\.3\([0-9][0-9]\)\.\([0-9]*\).*/3.\1.\2/p' tools/prom/go.mod | sed 's/\.0\([0-9]\)\./.\1./')
AM_VERSION = $(shell sed -n 's/^[[:space:]]*github.com\/prometheus\/alertmanager v\([^ ]*\).*/\1/p' tools/alertmanager/go.mod)
LDVERSION = -X github.com/prometheus/common/version.Version=

.PHONY: test fmt vet cross unit tools run build bench fuzz clean-tools

test: fmt vet tools unit

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# vet, here and for Windows (the Windows-only files and the tests included;
# on a cold build cache the Windows pass adds about 2 minutes)
vet:
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...

# the release's other systems must at least build (cold: about 1 minute
# each, so not part of `make test`; CI runs it)
cross:
	GOOS=darwin $(GO) build ./...
	GOOS=freebsd $(GO) build ./...

# every test, including the promtool/amtool checks of the rules, the golden
# exposition and the dashboards' queries, and the end-to-end stack test
unit:
	$(GO) test -race -count=1 ./...

tools: $(PROM_TOOLS) $(AM_TOOLS)

$(PROM_TOOLS) &: tools/prom/go.mod tools/prom/go.sum
	@echo ">> building prometheus and promtool $(PROM_VERSION) from tools/prom (first time: several minutes)"
	cd tools/prom && $(GO) build -ldflags "$(LDVERSION)$(PROM_VERSION)" -o ../../bin/ \
		github.com/prometheus/prometheus/cmd/prometheus github.com/prometheus/prometheus/cmd/promtool
	@touch $(PROM_TOOLS)

$(AM_TOOLS) &: tools/alertmanager/go.mod tools/alertmanager/go.sum
	@echo ">> building alertmanager and amtool $(AM_VERSION) from tools/alertmanager (first time: a few minutes)"
	cd tools/alertmanager && $(GO) build -ldflags "$(LDVERSION)$(AM_VERSION)" -o ../../bin/ \
		github.com/prometheus/alertmanager/cmd/alertmanager github.com/prometheus/alertmanager/cmd/amtool
	@touch $(AM_TOOLS)

clean-tools:
	rm -f $(PROM_TOOLS) $(AM_TOOLS)

# the exporter on its embedded sample node: http://127.0.0.1:29651/
run:
	$(GO) run ./cmd/storagenode-exporter --demo

build:
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -trimpath -o storagenode-exporter ./cmd/storagenode-exporter

bench:
	bench/report.sh

fuzz:
	$(GO) test -run XXX -fuzz FuzzParse -fuzztime 60s ./parser/
