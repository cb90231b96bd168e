// Command genlog writes a deterministic, realistic INFO-level Storj storage
// node log (console encoding) for benchmarks and end-to-end tests. With -expect
// it also writes the exact outcome counts that a correct parser must report for
// the generated log, in the JSON shape of `storagenode-exporter report --format
// json`.
//
// The same -n, -seed, -format and -start always produce byte-identical output.
// The generator itself is internal/loggen, which the demo drives live.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/loggen"
)

func main() {
	n := flag.Int64("n", 1000000, "number of lines to write")
	seed := flag.Uint64("seed", 1, "random seed")
	out := flag.String("o", "-", "output file (- for stdout)")
	formatName := flag.String("format", "current", "field spelling: current (v1.146+ snake_case) or v142")
	expectPath := flag.String("expect", "", "write the expected report JSON to this file")
	startStr := flag.String("start", "2026-09-05T14:20:31Z", "timestamp of the first line (RFC 3339)")
	started := flag.Float64("started", 0, "share of transfers (0-1) that also get a DEBUG `started` line a few transfers before their outcome (0.7: about 58 % outcome lines)")
	flag.Parse()

	f, ok := loggen.FormatByName(*formatName)
	if !ok {
		fail(fmt.Errorf("unknown -format %q (want current or v142)", *formatName))
	}
	start, err := time.Parse(time.RFC3339, *startStr)
	if err != nil {
		fail(fmt.Errorf("-start: %w", err))
	}
	if *n < 0 {
		fail(fmt.Errorf("-n must not be negative"))
	}
	if !(*started >= 0 && *started <= 1) {
		fail(fmt.Errorf("-started must be between 0 and 1"))
	}

	var w io.Writer = os.Stdout
	var file *os.File
	if *out != "-" {
		file, err = os.Create(*out)
		if err != nil {
			fail(err)
		}
		w = file
	}
	g := loggen.New(f, *seed, start)
	g.StartedShare = *started
	if err := g.WriteLog(w, *n); err != nil {
		fail(err)
	}
	if file != nil {
		if err := file.Close(); err != nil {
			fail(err)
		}
	}
	if *expectPath != "" {
		data, err := json.MarshalIndent(g.Expectation(), "", "  ")
		if err != nil {
			fail(err)
		}
		if err := os.WriteFile(*expectPath, append(data, '\n'), 0o644); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "genlog:", err)
	os.Exit(1)
}
