package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The serve tests poll their fake node APIs every 30-50 ms; what a user
// may give is checked against config.MinPollInterval (TestOddFlagValues,
// TestConfig's file check).
func init() { minPollInterval = 20 * time.Millisecond }

// Odd flag and configuration values: each is refused before anything runs,
// with exit status 2 and a message naming the flag or the file's line; no
// value makes the process panic. Run in-process, through the real CLI.
func TestOddFlagValues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	if err := os.WriteFile(log, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	node := "--node=A:" + log
	cfg := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	twoDocs := cfg("two.yml", "nodes:\n  - {name: A, log: "+log+"}\n---\nnodes:\n  - {name: B, log: /b.log}\n")
	endMarker := cfg("end.yml", "nodes:\n  - {name: A, log: "+log+"}\n...\n# only a comment after\n")
	fast := cfg("fast.yml", "nodes:\n  - {name: A, log: "+log+"}\nnodeapi:\n  poll-interval: 1ns\n  timeout: -5s\n")
	noPort := cfg("noport.yml", "nodes:\n  - name: A\n    log: \"127.0.0.1:\"\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"poll interval 1ns", []string{"serve", node, "--nodeapi.poll-interval=1ns"}, 2, "--nodeapi.poll-interval 1ns is below the minimum of 20ms"},
		{"poll interval 0", []string{"serve", node, "--nodeapi.poll-interval=0s"}, 2, "--nodeapi.poll-interval 0s is below the minimum of 20ms"},
		{"negative timeout", []string{"serve", node, "--nodeapi.timeout=-5s"}, 2, "--nodeapi.timeout -5s: want a positive duration"},
		{"zero timeout", []string{"serve", node, "--nodeapi.timeout=0s"}, 2, "--nodeapi.timeout 0s: want a positive duration"},
		{"negative retention", []string{"serve", node, "--db.retention=-1h"}, 2, "--db.retention -1h0m0s: want 0"},
		{"empty telemetry path", []string{"serve", node, "--web.telemetry-path="}, 2, "--web.telemetry-path is empty"},
		{"relative telemetry path", []string{"serve", node, "--web.telemetry-path=metrics"}, 2, `--web.telemetry-path "metrics" does not start with /`},
		{"telemetry path /healthz", []string{"serve", node, "--web.telemetry-path=/healthz"}, 2, `--web.telemetry-path "/healthz" is where serve answers health checks`},
		{"telemetry path /", []string{"serve", node, "--web.telemetry-path=/"}, 2, `--web.telemetry-path "/" is where serve answers its landing page`},
		{"telemetry path pattern", []string{"serve", node, "--web.telemetry-path=/{x"}, 2, `--web.telemetry-path "/{x": want a plain path`},
		{"telemetry path with a method", []string{"serve", node, "--web.telemetry-path=GET /m"}, 2, `does not start with /`},
		{"empty port", []string{"serve", "--node=A:127.0.0.1:"}, 2, `--node "A:127.0.0.1:": "127.0.0.1:" has no port after the colon`},
		{"empty port, name only", []string{"serve", "--node=A:nas:"}, 2, `"nas:" has no port after the colon`},
		{"port out of range", []string{"serve", "--node=A:127.0.0.1:99999"}, 2, `port 99999 is not between 1 and 65535`},
		{"second YAML document", []string{"serve", "--config", twoDocs}, 2, twoDocs + ":3: a second YAML document"},
		{"document end then a second", []string{"serve", "--config", endMarker, "--web.telemetry-path="}, 2, "--web.telemetry-path is empty"},
		{"config poll interval and timeout", []string{"serve", "--config", fast}, 2, fast + `:4: key "poll-interval" under nodeapi: "1ns" is not >= 1s`},
		{"config timeout", []string{"serve", "--config", fast}, 2, fast + `:5: key "timeout" under nodeapi: "-5s" is not > 0`},
		{"forward without clients", []string{"forward", "--max-clients=0", log}, 2, "--max-clients 0: want at least 1"},
		{"forward, negative clients", []string{"forward", "--max-clients=-1", log}, 2, "--max-clients -1: want at least 1"},
		{"forward, not a network", []string{"forward", "--allow=x", log}, 2, "storagenode-exporter: forward: --allow \"x\" is not a CIDR network"},
		{"config empty port", []string{"serve", "--config", noPort}, 2, noPort + `:3: key "log" under nodes: "127.0.0.1:" has no port after the colon`},
		{"ingest, batch size 0", []string{"ingest", "--db", filepath.Join(dir, "i.db"), "--batch-size=0", "A:" + log}, 2, "--batch-size 0: want at least 1"},
		{"ingest, negative batch size", []string{"ingest", "--db", filepath.Join(dir, "i.db"), "--batch-size=-5", "A:" + log}, 2, "--batch-size -5: want at least 1"},
		{"ingest, negative busy timeout", []string{"ingest", "--db", filepath.Join(dir, "i.db"), "--db.busy-timeout=-1s", "A:" + log}, 2, "--db.busy-timeout -1s: want a positive duration"},
		{"report, negative workers", []string{"report", "--workers=-1", log}, 2, "--workers -1: want 0 (one per CPU) or more"},
		{"report, negative since", []string{"report", "--db", filepath.Join(dir, "i.db"), "--since=-24h"}, 2, "--since -24h0m0s: want 0 (every event) or a positive duration"},
		{"report, --node with files", []string{"report", "--node", "A", log}, 2, "--node and --since choose from the sink's database"},
		{"report, --since with files", []string{"report", "--since=1h", log}, 2, "--node and --since choose from the sink's database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", tc.args...)
			if strings.Contains(errs, "panic") || strings.Contains(errs, "goroutine ") {
				t.Fatalf("panicked:\n%s", errs)
			}
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errs, tc.code, tc.want)
			}
		})
	}
}
