# The CI contract: .ci/run calls `make test` on a fresh machine.
GO ?= go

.PHONY: test fmt vet unit checkmetrics checkrules checkcompose build bench fuzz

test: fmt vet unit checkmetrics checkrules checkcompose

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 ./...

checkmetrics:
	promtool check metrics < cmd/storagenode-exporter/testdata/e2e.prom

checkrules:
	promtool check rules alerts/*.rules.yml
	promtool test rules alerts/*_test.yml
	amtool check-config alerts/alertmanager.yml

checkcompose:
	docker-compose -f docker-compose.yml config -q

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o storagenode-exporter ./cmd/storagenode-exporter

bench:
	bench/report.sh

fuzz:
	$(GO) test -run XXX -fuzz FuzzParse -fuzztime 60s ./parser/
