package pipeline_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storagenode-exporter/storagenode-exporter/internal/pipeline"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/report"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

// storedSummary counts what the sink holds of a node under report's rules.
func storedSummary(t *testing.T, db *sink.DB, node string) *report.Summary {
	t.Helper()
	sel, err := db.Select(context.Background(), node, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := sel.Transfers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var s report.Summary
	for _, r := range rows {
		s.AddOutcomes(r.Satellite, r.Action, r.Result, r.Count, r.SuccessBytes)
	}
	return &s
}

// The live sink of serve --db: a followed file (read once, through its
// Feed) and standard input (through the stream's buffer) both end in the
// database with the transfers report counts in the log; a second sink of
// the same nodes and database is refused, naming the holder; its families
// are on the pipeline's registry.
func TestDBSink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, err := os.ReadFile(fixtureLog)
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "node.log")
	if err := os.WriteFile(log, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	path := filepath.Join(dir, "sink.db")
	db, err := sink.Open(ctx, path, sink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	nodes := []pipeline.NodeSpec{
		{Name: "File", Source: log, Kind: pipeline.SourceFile},
		{Name: "Piped", Source: "-", Kind: pipeline.SourceStdin},
	}
	reg := prometheus.NewRegistry()
	s, err := pipeline.NewDBSink(ctx, db, nodes, pipeline.DBSinkOptions{Retention: 0, FromBeginning: true, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	other, err := sink.Open(ctx, path, sink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.NewDBSink(ctx, other, nodes, pipeline.DBSinkOptions{Registry: prometheus.NewRegistry()}); err == nil ||
		!strings.Contains(err.Error(), "pid") {
		t.Errorf("a second sink of the same nodes: %v, want an error naming the holder", err)
	}
	other.Close()

	r := start(t, pipeline.Options{Nodes: nodes, FromBeginning: true, Stdin: bytes.NewReader(data), Sink: s, Registry: reg})
	want := reportOf(t, fixtureLog)
	for _, n := range []string{"File", "Piped"} {
		testutil.WaitFor(t, n+"'s lines counted", func() bool {
			return r.value(t, `storj_log_lines_total{node="`+n+`"}`) == float64(want.Lines)
		})
	}
	if v := r.value(t, `storj_sink_dropped_events_total{node="Piped"}`); v != 0 {
		t.Errorf("storj_sink_dropped_events_total of the stream %v, want 0", v)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"File", "Piped"} {
		got := storedSummary(t, db, n)
		if got.Transfers != want.Transfers {
			t.Errorf("%s: the sink holds %+v, report counts %+v", n, got.Transfers, want.Transfers)
		}
	}
}
