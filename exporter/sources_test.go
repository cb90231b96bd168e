package exporter_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/source"
)

// A followed file reports up, rotations, truncations and errors; a stream
// reports up only.
func TestSourceCollector(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	testutil.AppendFile(t, log, "first\n")
	file := source.NewFile(log, true, nil)
	stdin := source.NewReader("stdin", strings.NewReader(""))
	c := exporter.NewSourceCollector([]exporter.NodeSource{{Node: "Local", Source: file}, {Node: "Piped", Source: stdin}})

	const help = `# HELP storj_log_source_up Whether the node's log source is open and readable (1) or not (0).
# TYPE storj_log_source_up gauge
`
	const counters = `# HELP storj_log_rotations_total Rename rotations and re-creations of the node's log file followed.
# TYPE storj_log_rotations_total counter
storj_log_rotations_total{node="Local"} %d
# HELP storj_log_truncations_total Truncations (copytruncate) of the node's log file followed.
# TYPE storj_log_truncations_total counter
storj_log_truncations_total{node="Local"} %d
# HELP storj_log_source_errors_total Episodes of errors (permission denied, ...) reading the node's log file.
# TYPE storj_log_source_errors_total counter
storj_log_source_errors_total{node="Local"} 0
`
	expect := func(up, rotations, truncations int) *strings.Reader {
		return strings.NewReader(help + fmt.Sprintf("storj_log_source_up{node=\"Local\"} %d\nstorj_log_source_up{node=\"Piped\"} 0\n", up) +
			fmt.Sprintf(counters, rotations, truncations))
	}
	if err := promtest.CollectAndCompare(c, expect(0, 0, 0)); err != nil {
		t.Errorf("before the source runs: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	lines := make(chan string, 16)
	done := make(chan error, 1)
	go func() {
		done <- file.Run(ctx, func(l source.Line) error { lines <- string(l.Data); return nil })
	}()
	t.Cleanup(func() { cancel(); <-done })
	next := func(want string) {
		t.Helper()
		select {
		case got := <-lines:
			if got != want {
				t.Fatalf("line %q, want %q", got, want)
			}
		case <-time.After(testutil.Timeout):
			t.Fatalf("no line %q", want)
		}
	}
	next("first")
	if err := promtest.CollectAndCompare(c, expect(1, 0, 0)); err != nil {
		t.Errorf("following: %v", err)
	}

	// rename rotation: the old file is finished, the new one followed
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	testutil.AppendFile(t, log, "second\n")
	next("second")
	testutil.WaitFor(t, "the rotation counted", func() bool { return file.Stats().Rotations == 1 })
	if err := promtest.CollectAndCompare(c, expect(1, 1, 0)); err != nil {
		t.Errorf("after a rotation: %v", err)
	}

	// copytruncate
	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	testutil.AppendFile(t, log, "third\n")
	next("third")
	testutil.WaitFor(t, "the truncation counted", func() bool { return file.Stats().Truncations == 1 })
	if err := promtest.CollectAndCompare(c, expect(1, 1, 1)); err != nil {
		t.Errorf("after a truncation: %v", err)
	}

	if problems, err := promtest.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
}
