package sink

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/geo"
)

// benchLog returns the log BenchmarkIngest reads: $SINK_BENCH_LOG, else a
// current-format log of $SINK_BENCH_LINES lines (default 1,000,000) made
// by bench/genlog with seed 1 and kept in the temporary directory for the
// next run.
func benchLog(b *testing.B) string {
	b.Helper()
	if p := os.Getenv("SINK_BENCH_LOG"); p != "" {
		return p
	}
	n := 1_000_000
	if s := os.Getenv("SINK_BENCH_LINES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("SINK_BENCH_LINES: %v", err)
		}
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("sink-bench-genlog-n%d-seed1.log", n))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp := path + ".tmp"
	cmd := exec.Command("go", "run", "../bench/genlog", "-n", strconv.Itoa(n), "-seed", "1", "-o", tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("genlog: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkIngest ingests a whole log into a fresh database per iteration,
// as `storagenode-exporter ingest` does (GeoIP from the embedded database;
// SINK_BENCH_GEO=0 leaves it out), and reports events/s and the database
// size per event (after the last checkpoint, indexes included).
//
//	go test -run XXX -bench Ingest -benchtime 3x ./sink/
func BenchmarkIngest(b *testing.B) {
	log := benchLog(b)
	st, err := os.Stat(log)
	if err != nil {
		b.Fatal(err)
	}
	var countries Countries
	if os.Getenv("SINK_BENCH_GEO") != "0" {
		g, err := geo.Open(geo.Options{SearchDirs: []string{}, CacheSize: -1})
		if err != nil {
			b.Fatal(err)
		}
		defer g.Close()
		countries = g
	}
	ctx := context.Background()
	b.SetBytes(st.Size())
	b.ReportAllocs()
	var events, lines, size int64
	var seconds float64
	for i := 0; b.Loop(); i++ {
		path := filepath.Join(b.TempDir(), fmt.Sprintf("bench%d.db", i))
		db, err := Open(ctx, path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		res, err := db.NewIngester("bench", IngestOptions{Geo: countries, Workers: benchWorkers()}).File(ctx, log)
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		events, lines, size = res.Events, res.Lines, fi.Size()
		seconds += res.Duration.Seconds()
		os.Remove(path)
	}
	b.ReportMetric(float64(events)*float64(b.N)/seconds, "events/s")
	b.ReportMetric(float64(lines)*float64(b.N)/seconds, "lines/s")
	b.ReportMetric(float64(size)/float64(events), "bytes/event")
	b.ReportMetric(float64(events), "events")
}

func benchWorkers() int {
	n, _ := strconv.Atoi(os.Getenv("SINK_BENCH_WORKERS"))
	return n
}
