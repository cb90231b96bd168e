package sink

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/geo"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
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

// BenchmarkWriteBatch measures the writer alone: batches of 8,192 events
// (successes and failures, with and without durations, IPv4 and IPv6) into
// one database, per event.
//
//	go test -run XXX -bench WriteBatch ./sink/
func BenchmarkWriteBatch(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "w.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	r := rand.New(rand.NewPCG(1, 2))
	t := time.Date(2026, 9, 5, 14, 0, 0, 0, time.UTC)
	events := make([]Event, DefaultIngestBatch)
	next := func() {
		for i := range events {
			t = t.Add(time.Duration(r.IntN(60)) * time.Millisecond)
			var piece [32]byte
			for k := range piece {
				piece[k] = byte(r.Uint32())
			}
			e := Event{Time: t, Node: "bench", Satellite: testSatellites[r.IntN(4)], Action: parser.Action(1 + r.IntN(5)),
				Status: parser.Success, Size: int64(r.IntN(2 << 20)), HasSize: true, PieceID: encodePiece(piece[:]),
				Remote:  netip.AddrFrom4([4]byte{byte(1 + r.IntN(220)), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())}),
				Country: "DE"}
			if r.IntN(10) == 0 {
				e.Status, e.ErrorReason = parser.Canceled, "context canceled"
			}
			if r.IntN(2) == 0 {
				e.Duration, e.Timed = time.Duration(r.IntN(5000))*time.Millisecond, true
			}
			if r.IntN(20) == 0 {
				e.Remote = netip.MustParseAddr("2001:db8::7")
			}
			events[i] = e
		}
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		b.StopTimer()
		next()
		b.StartTimer()
		if err := db.WriteBatch(ctx, events, nil); err != nil {
			b.Fatal(err)
		}
		n += len(events)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}
