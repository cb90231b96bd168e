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

.PHONY: test fmt vet cross unit tools run build release bench fuzz clean-tools

test: fmt vet tools unit

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# vet, here and for Windows (the Windows-only files and the tests included),
# with the release build's settings (CGO_ENABLED=0, -trimpath): the packages
# vet compiles are then those the release test (internal/release) builds for
# linux/amd64 and windows/amd64, which on a cold build cache only link.
vet:
	CGO_ENABLED=0 $(GO) vet -trimpath ./...
	GOOS=windows CGO_ENABLED=0 $(GO) vet -trimpath ./...

# the release's other systems must at least build, 32-bit ARM (int is 32
# bits there) included; cold: about 1 minute each, so not part of
# `make test` (CI runs it)
cross:
	GOOS=darwin $(GO) build ./...
	GOOS=freebsd $(GO) build ./...
	GOOS=linux GOARCH=arm $(GO) build ./...

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

# the release archives of every platform and their SHA256SUMS, in dist/
# (internal/release says what they hold); the version is
# `git describe --tags --always --dirty` unless VERSION=v1.2.3 is given
release:
	rm -rf dist
	$(GO) run ./internal/release -out dist $(if $(VERSION),-version $(VERSION))

bench:
	bench/report.sh

fuzz:
	$(GO) test -run XXX -fuzz FuzzParse -fuzztime 60s ./parser/
