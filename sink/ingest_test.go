package sink

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
	"github.com/storagenode-exporter/storagenode-exporter/report"
)

const fixtureLog = "../report/testdata/fixture.log"

func ingest(t testing.TB, db *DB, node string, opts IngestOptions, paths ...string) []FileResult {
	t.Helper()
	in := db.NewIngester(node, opts)
	var out []FileResult
	for _, p := range paths {
		res, err := in.File(context.Background(), p)
		if err != nil {
			t.Fatalf("ingest %s: %v", p, err)
		}
		if res.Duration <= 0 {
			t.Fatalf("ingest %s: a duration of %v", p, res.Duration)
		}
		out = append(out, res)
	}
	return out
}

func reportOf(t testing.TB, paths ...string) *report.Summary {
	t.Helper()
	c := report.NewCounter()
	for _, p := range paths {
		r, err := logfile.OpenContent(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Read(r, 1); err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	return &c.Summary
}

// compareSummaries compares what the sink keeps of a report.
func compareSummaries(t *testing.T, got, want *report.Summary) {
	t.Helper()
	type kept struct {
		UploadsRejected         int64
		Transfers               report.ByAction
		NoAction                report.Counts
		AuditCritical, AuditRec int64
		Satellites              map[string]*report.ByAction
		Errors                  map[report.ErrorKey]int64
	}
	k := func(s *report.Summary) kept {
		return kept{s.UploadsRejected, s.Transfers, s.NoAction, s.AuditCritical, s.AuditRecoverable, s.Satellites, s.Errors}
	}
	if diff := cmp.Diff(k(got), k(want)); diff != "" {
		t.Errorf("summary from the sink differs from report's (-sink +report):\n%s", diff)
	}
}

// The events of an ingest are the outcomes report counts, rule 5 included.
func TestIngestMatchesReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gen := writeLog(t, dir, "gen.log", scaled(20_000), 7)
	for _, files := range [][]string{{fixtureLog}, {gen}} {
		t.Run(filepath.Base(files[0]), func(t *testing.T) {
			db := openTest(t, filepath.Join(t.TempDir(), "s.db"))
			res := ingest(t, db, "n1", IngestOptions{BatchSize: 97}, files...)
			a, err := storedSummary(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			want := reportOf(t, files...)
			compareSummaries(t, &a.Summary, want)
			if res[0].Lines != want.Lines {
				t.Errorf("lines %d, report read %d", res[0].Lines, want.Lines)
			}
			var outcomes int64
			for _, c := range want.Transfers {
				outcomes += c.Total()
			}
			outcomes += want.NoAction.Total()
			if a.Events != outcomes || res[0].Events != outcomes {
				t.Errorf("events: stored %d, ingest %d, report %d", a.Events, res[0].Events, outcomes)
			}
		})
	}
}

// Ingesting a file again, renamed, copied or compressed, adds nothing.
func TestIngestIdempotent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeLog(t, dir, "node.log", 5000, 1)
	db := openTest(t, filepath.Join(dir, "s.db"))
	first := ingest(t, db, "n1", IngestOptions{BatchSize: 500}, path)[0]
	sum, events := checksum(t, db)
	if first.Events == 0 || events != first.Events {
		t.Fatalf("first ingest: %+v, %d rows", first, events)
	}

	data, _ := os.ReadFile(path)
	renamed := filepath.Join(dir, "node.log.1")
	os.Rename(path, renamed)
	copied := filepath.Join(dir, "copy.log")
	os.WriteFile(copied, data, 0o644)
	gz := filepath.Join(dir, "node.log.2.gz")
	writeGzip(t, gz, data)
	for _, p := range []string{renamed, copied, gz, renamed} {
		res := ingest(t, db, "n1", IngestOptions{}, p)[0]
		if !res.Skipped || res.Events != 0 {
			t.Errorf("%s: %+v, want skipped", filepath.Base(p), res)
		}
	}
	// Under another node name it is another node's log.
	if res := ingest(t, db, "n2", IngestOptions{}, renamed)[0]; res.Events != first.Events {
		t.Errorf("n2: %+v", res)
	}
	db2 := openTest(t, filepath.Join(dir, "other.db"))
	ingest(t, db2, "n1", IngestOptions{}, renamed)
	if sum2, _ := checksum(t, db2); sum2 != sum {
		t.Error("the same file gave other rows in another database")
	}
	if s, _ := checksum(t, db); s == sum {
		t.Error("n2 added nothing")
	}
}

func writeGzip(t testing.TB, path string, data []byte) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// cutLines splits data into parts at line ends near the given fractions.
func cutLines(data []byte, fractions ...float64) [][]byte {
	var parts [][]byte
	prev := 0
	for _, f := range fractions {
		i := int(f * float64(len(data)))
		i += bytes.IndexByte(data[i:], '\n') + 1
		parts = append(parts, data[prev:i])
		prev = i
	}
	return append(parts, data[prev:])
}

// A rotated set, given in any order, gives the rows of the whole log; so
// does ingesting a live log day by day while it is rotated and compressed.
func TestIngestRotationSet(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	whole := writeLog(t, dir, "whole.log", scaled(12_000), 3)
	data, _ := os.ReadFile(whole)
	ref := openTest(t, filepath.Join(dir, "ref.db"))
	ingest(t, ref, "n1", IngestOptions{}, whole)
	want, wantN := checksum(t, ref)

	parts := cutLines(data, 0.2, 0.45, 0.7)
	set := filepath.Join(dir, "set")
	os.Mkdir(set, 0o755)
	names := []string{"node.log.3.gz", "node.log.2.gz", "node.log.1", "node.log"}
	var paths []string
	for i, name := range names {
		p := filepath.Join(set, name)
		if strings.HasSuffix(name, ".gz") {
			writeGzip(t, p, parts[i])
		} else {
			os.WriteFile(p, parts[i], 0o644)
		}
		paths = append(paths, p)
	}
	db := openTest(t, filepath.Join(dir, "set.db"))
	shuffled := []string{paths[2], paths[0], paths[3], paths[1]}
	ingest(t, db, "n1", IngestOptions{BatchSize: 333}, logfile.SortRotated(shuffled)...)
	if got, n := checksum(t, db); got != want || n != wantN {
		t.Errorf("rotated set: %d rows, want %d, or other rows", n, wantN)
	}

	// Day by day: the live log grows, is rotated away (renamed, then
	// compressed), and a new one starts; each day ingests what it finds.
	live := filepath.Join(dir, "live")
	os.Mkdir(live, 0o755)
	db = openTest(t, filepath.Join(dir, "daily.db"))
	log := filepath.Join(live, "node.log")
	grow := func(b []byte) {
		f, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(b)
		f.Close()
	}
	day := func() {
		m, _ := filepath.Glob(filepath.Join(live, "node.log*"))
		ingest(t, db, "n1", IngestOptions{BatchSize: 1000}, logfile.SortRotated(m)...)
	}
	half := cutLines(parts[0], 0.5)
	grow(half[0])
	day()
	grow(half[1])
	os.Rename(log, log+".1")
	grow(parts[1])
	day()
	b, _ := os.ReadFile(log + ".1")
	writeGzip(t, log+".2.gz", b)
	os.Remove(log + ".1")
	os.Rename(log, log+".1")
	grow(parts[2])
	grow(parts[3])
	day()
	day()
	if got, n := checksum(t, db); got != want || n != wantN {
		t.Errorf("daily: %d rows, want %d, or other rows", n, wantN)
	}
	// Their concatenation, after them, holds nothing new either.
	cat := filepath.Join(dir, "all.log")
	os.WriteFile(cat, data, 0o644)
	if res := ingest(t, db, "n1", IngestOptions{}, cat)[0]; !res.Skipped || res.From != int64(len(data)) {
		t.Errorf("concatenation: %+v", res)
	}
	if got, n := checksum(t, db); got != want || n != wantN {
		t.Errorf("after the concatenation: %d rows, want %d, or other rows", n, wantN)
	}
}

// Interrupted at any commit, and resumed, an ingest ends with exactly the
// rows of an uninterrupted one: rule 5 and the pairing of started lines
// carry across the interruption.
func TestIngestResumeExact(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	paths := []string{writeLog(t, dir, "node.log.1", 2500, 11), writeLog(t, dir, "node.log", 2500, 12)}
	opts := IngestOptions{BatchSize: 40, chunkSize: 4096, Workers: 2}
	ref := openTest(t, filepath.Join(dir, "ref.db"))
	ingest(t, ref, "n1", opts, paths...)
	want, wantN := checksum(t, ref)
	var timed int64
	ref.SQL().QueryRow("SELECT count(*) FROM event_rows WHERE duration_ms IS NOT NULL").Scan(&timed)
	if timed == 0 {
		t.Fatal("no durations: the test log has no pairs")
	}

	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range scaled(4) {
		path := filepath.Join(dir, fmt.Sprintf("t%d.db", trial))
		failures := 0
		for run := 0; ; run++ {
			db, err := Open(context.Background(), path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			commits, failAt := 0, 1+rng.IntN(30)
			if run > 30 {
				failAt = -1 // enough: finish
			}
			errInjected := errors.New("injected crash")
			db.beforeCommit = func() error {
				commits++
				if commits == failAt {
					return errInjected
				}
				return nil
			}
			ctx, cancel := context.WithCancel(context.Background())
			o := opts
			if trial%2 == 1 { // a clean stop (SIGINT) instead of a crash
				stopAt := 1 + rng.IntN(40)
				o.Progress = func(Progress) {
					if stopAt--; stopAt == 0 {
						cancel()
					}
				}
			}
			in := db.NewIngester("n1", o)
			var ferr error
			for _, p := range paths {
				if _, ferr = in.File(ctx, p); ferr != nil {
					break
				}
			}
			cancel()
			db.Close()
			if ferr == nil {
				break
			}
			if !errors.Is(ferr, errInjected) && !errors.Is(ferr, context.Canceled) {
				t.Fatalf("trial %d run %d: %v", trial, run, ferr)
			}
			failures++
		}
		db := openTest(t, path)
		got, n := checksum(t, db)
		if got != want || n != wantN {
			t.Errorf("trial %d (%d interruptions): %d rows, want %d, or other rows", trial, failures, n, wantN)
		}
		if failures == 0 {
			t.Errorf("trial %d: never interrupted", trial)
		}
	}
}

// The saved state rebuilds a tracker that decides as the original would,
// at every point of a random sequence, evictions included.
func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := make([]string, 40)
	for i := range pieces {
		pieces[i] = fmt.Sprintf("P%03d", i)
	}
	randomEvent := func() parser.Event {
		ev := parser.Event{Kind: parser.KindTransferOutcome, PieceID: pieces[rng.IntN(len(pieces))],
			Action: []parser.Action{parser.GET, parser.PUT}[rng.IntN(2)], Result: parser.Canceled, Level: parser.Info}
		switch rng.IntN(3) {
		case 0:
			ev.RaceLost = true
		case 1:
			ev.Level, ev.Message = parser.Debug, "download canceled"
		}
		return ev
	}
	for _, limit := range []int{1, 3, 8, 64} {
		var history []parser.Event
		for step := 0; step < 600; step++ {
			history = append(history, randomEvent())
			if step%7 != 0 {
				continue
			}
			// the state after history, saved and restored
			s := newReadStateLimit(limit)
			for i := range history {
				e := history[i]
				s.count(&e)
			}
			b := s.encode()
			r, err := decodeStateLimit(b, limit)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(r.encode(), b) {
				t.Fatalf("limit %d step %d: the state does not round-trip", limit, step)
			}
			// Both decide the same on what follows.
			for i := 0; i < 3*limit+20; i++ {
				e1 := randomEvent()
				e2 := e1
				r1, c1 := s.count(&e1)
				r2, c2 := r.count(&e2)
				if r1 != r2 || c1 != c2 {
					t.Fatalf("limit %d step %d: event %d counted %v/%v by the original, %v/%v by the restored", limit, step, i, r1, c1, r2, c2)
				}
			}
		}
	}
	if _, err := decodeState([]byte{stateVersion, 5}); err == nil {
		t.Error("a truncated state decoded")
	}
}

// A plain file's last line without a newline waits for it; a compressed
// file's is read.
func TestIngestPartialLastLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, _ := os.ReadFile(fixtureLog)
	lines := bytes.SplitAfter(data, []byte("\n"))
	head := bytes.Join(lines[:3], nil)
	cut := lines[3][:len(lines[3])/2]
	path := filepath.Join(dir, "node.log")
	os.WriteFile(path, append(append([]byte{}, head...), cut...), 0o644)
	db := openTest(t, filepath.Join(dir, "s.db"))
	if res := ingest(t, db, "n1", IngestOptions{}, path)[0]; res.Lines != 3 || res.To != int64(len(head)) {
		t.Errorf("first: %+v", res)
	}
	os.WriteFile(path, data, 0o644)
	res := ingest(t, db, "n1", IngestOptions{}, path)[0]
	if res.From != int64(len(head)) || res.To != int64(len(data)) {
		t.Errorf("second: %+v", res)
	}
	a, _ := storedSummary(context.Background(), db)
	compareSummaries(t, &a.Summary, reportOf(t, fixtureLog))

	gz := filepath.Join(dir, "cut.log.gz")
	writeGzip(t, gz, bytes.TrimSuffix(data, []byte("\n")))
	db2 := openTest(t, filepath.Join(dir, "gz.db"))
	if res := ingest(t, db2, "n1", IngestOptions{}, gz)[0]; res.Lines != 38 || res.To != int64(len(data)-1) {
		t.Errorf("gzip: %+v", res)
	}
}

// A truncated gzip file: what could be read is written, and the error
// names the file.
func TestIngestTruncatedGzip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var buf bytes.Buffer
	genLog(&buf, 20_000, 9, testStart)
	gz := filepath.Join(dir, "node.log.1.gz")
	writeGzip(t, gz, buf.Bytes())
	b, _ := os.ReadFile(gz)
	os.WriteFile(gz, b[:len(b)*2/3], 0o644)
	db := openTest(t, filepath.Join(dir, "s.db"))
	in := db.NewIngester("n1", IngestOptions{chunkSize: 64 << 10})
	res, err := in.File(context.Background(), gz)
	if err == nil || !strings.Contains(err.Error(), gz) || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("err = %v", err)
	}
	if res.Events == 0 {
		t.Errorf("nothing was written of the readable part: %+v", res)
	}
	// Not a log at all, and a directory.
	junk := filepath.Join(dir, "junk.bin")
	os.WriteFile(junk, []byte{0x1f, 0x8b, 0, 1, 2, 3}, 0o644)
	if _, err := in.File(context.Background(), junk); err == nil || !strings.Contains(err.Error(), junk) {
		t.Errorf("junk: %v", err)
	}
	if _, err := db.NewIngester("n1", IngestOptions{}).File(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
}
