package report_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
	"github.com/storagenode-exporter/storagenode-exporter/report"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func readFixture(t *testing.T, workers int) *report.Counter {
	t.Helper()
	r, err := logfile.OpenContent("testdata/fixture.log")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c := report.NewCounter()
	if err := c.Read(r, workers); err != nil {
		t.Fatal(err)
	}
	return c
}

// The fixture's counts, worked out by hand from its lines (see the comments
// in the script that wrote it: two rule-5 follow-ups are not counted, a DEBUG
// upload failed is a cancel, other loggers' "uploaded" count as nothing).
func TestFixtureCounts(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, &readFixture(t, 1).Summary); err != nil {
		t.Fatal(err)
	}
	type counts struct{ Success, Canceled, Failed, Success_bytes int64 }
	var got struct {
		Lines, Unparsed, Uploads_rejected, Blank int64
		Transfers                                map[string]counts
		Audits                                   map[string]int64
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := struct {
		Lines, Unparsed, Uploads_rejected, Blank int64
		Transfers                                map[string]counts
		Audits                                   map[string]int64
	}{
		Lines: 38, Unparsed: 3, Uploads_rejected: 2, Blank: 1,
		Transfers: map[string]counts{
			"GET":        {3, 2, 1, 6000},
			"GET_AUDIT":  {2, 1, 2, 512},
			"GET_REPAIR": {2, 0, 1, 34696},
			"PUT":        {3, 3, 2, 2355872},
			"PUT_REPAIR": {1, 1, 0, 181504},
		},
		Audits: map[string]int64{"success": 2, "canceled": 1, "failed_critical": 1, "failed_recoverable": 1},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("counts (-want +got):\n%s", d)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s (-want +got):\n%s", name, d)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	c := readFixture(t, 2)
	var text, js bytes.Buffer
	if err := report.WriteText(&text, &c.Summary); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteJSON(&js, &c.Summary); err != nil {
		t.Fatal(err)
	}
	golden(t, "fixture.txt", text.Bytes())
	golden(t, "fixture.json", js.Bytes())
}

// synthetic writes n lines that put race-lost pairs, long lines, blank and
// garbage lines at random places, so that chunk boundaries fall everywhere.
func synthetic(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	actions := []string{"GET", "GET_AUDIT", "GET_REPAIR", "PUT", "PUT_REPAIR"}
	for i := range n {
		a := actions[rng.IntN(len(actions))]
		p := fmt.Sprintf("PIECE%047d", i)
		msg, lvl := "downloaded", "INFO"
		up := strings.HasPrefix(a, "PUT")
		switch rng.IntN(12) {
		case 0:
			if up {
				msg = "upload canceled (race lost or node shutdown)"
			} else {
				msg = "download canceled (race lost or node shutdown)"
			}
			fmt.Fprintf(&b, "2026-09-05T14:00:00Z\tINFO\tpiecestore\t%s\t{\"piece_id\": \"%s\", \"satellite_id\": \"12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S\", \"action\": \"%s\"}\n", msg, p, a)
			msg, lvl = "download canceled", "DEBUG"
			if up {
				msg = "upload failed"
			}
		case 1:
			b.WriteString("garbage line\n\n")
			continue
		case 2:
			msg, lvl = "download failed", "ERROR"
			if up {
				msg = "upload failed"
			}
		case 3:
			lvl = "DEBUG"
			msg = "upload failed"
		}
		if msg == "downloaded" && up {
			msg = "uploaded"
		}
		verbose := ""
		if rng.IntN(2000) == 0 {
			verbose = `, "errorVerbose": "` + strings.Repeat("x", 1<<20+rng.IntN(1000)) + `"` // longer than a chunk
		}
		fmt.Fprintf(&b, "2026-09-05T14:00:00Z\t%s\tpiecestore\t%s\t{\"piece_id\": \"%s\", \"satellite_id\": \"12L9ZFwhzVpuEKMUNUqkaTLGzwY9G24tbiigLiXpmZWKwmcNDDs\", \"action\": \"%s\", \"size\": %d, \"error\": \"unexpected EOF\"%s}\n", lvl, msg, p, a, rng.IntN(1<<21), verbose)
	}
	b.WriteString("2026-09-05T14:00:00Z\tINFO\tpiecestore\tuploaded\t{\"action\": \"PUT\", \"size\": 7}") // no final newline
	return b.Bytes()
}

// Parallel chunks give exactly the counts of reading line by line in order.
func TestParallelEqualsSequential(t *testing.T) {
	t.Parallel()
	data := synthetic(20000, 7)
	seq := report.NewCounter()
	for _, l := range bytes.Split(data, []byte("\n")) {
		seq.Line(l)
	}
	// with the default limit, the lines longer than 1 MiB count as too long
	seqCut := report.NewCounter()
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(l) > logfile.DefaultMaxLine {
			seqCut.TooLong()
		} else {
			seqCut.Line(l)
		}
	}
	for _, workers := range []int{1, 2, 4} {
		par := report.NewCounter()
		par.MaxLine = 2 << 20 // the long lines are held whole
		if err := par.Read(bytes.NewReader(data), workers); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(seq.Summary, par.Summary, ignoreLabels); d != "" {
			t.Errorf("workers=%d (-sequential +parallel):\n%s", workers, d)
		}
		cut := report.NewCounter()
		if err := cut.Read(bytes.NewReader(data), workers); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(seqCut.Summary, cut.Summary, ignoreLabels); d != "" {
			t.Errorf("workers=%d, default limit (-sequential +parallel):\n%s", workers, d)
		}
	}
	if seq.Lines < 20000 || seq.Transfers[1].Total() == 0 || seqCut.UnparsedBy[parser.ReasonTooLong] == 0 {
		t.Errorf("synthetic input too small: %+v", seq.Summary)
	}
}

// A 64 MiB line without a newline counts once as too long, is not held, and
// the lines after it count. (Not parallel: it measures the process's
// allocations.)
func TestReadLongLine(t *testing.T) {
	fixture, err := os.ReadFile("testdata/fixture.log")
	if err != nil {
		t.Fatal(err)
	}
	want := readFixture(t, 1).Summary
	want.TooLong()
	var c *report.Counter
	alloc := testutil.Allocated(func() {
		c = report.NewCounter()
		r := io.MultiReader(testutil.Hole(64<<20), strings.NewReader("\n"), bytes.NewReader(fixture))
		if err := c.Read(r, 2); err != nil {
			t.Fatal(err)
		}
	})
	if d := cmp.Diff(want, c.Summary, ignoreLabels); d != "" {
		t.Errorf("(-fixture and one too long +got):\n%s", d)
	}
	if alloc > 32<<20 {
		t.Errorf("reading a 64 MiB line allocated %d MiB", alloc>>20)
	}
}

func TestGzipAndErrors(t *testing.T) {
	t.Parallel()
	plain, err := os.ReadFile("testdata/fixture.log")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	path := filepath.Join(t.TempDir(), "node.log.1") // no .gz: told by content
	if err := os.WriteFile(path, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := logfile.OpenContent(path)
	if err != nil {
		t.Fatal(err)
	}
	c := report.NewCounter()
	if err := c.Read(r, 0); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if d := cmp.Diff(readFixture(t, 1).Summary, c.Summary, ignoreLabels); d != "" {
		t.Errorf("gzip differs:\n%s", d)
	}

	if _, err := logfile.OpenContent(filepath.Join(t.TempDir(), "missing.log")); err == nil || !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := logfile.OpenContent(t.TempDir()); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.gz")
	os.WriteFile(bad, append(gz.Bytes()[:30:30], 0, 1, 2), 0o644) // a cut gzip stream
	r, err = logfile.OpenContent(bad)
	if err == nil {
		c := report.NewCounter()
		err = c.Read(r, 0)
		r.Close()
	}
	if err == nil {
		t.Error("a cut gzip file read without error")
	}
}

// BenchmarkRead measures the whole report path (split, parse, count) on
// current-format lines; bench/report.sh compares the binary with grep.
func BenchmarkRead(b *testing.B) {
	var buf bytes.Buffer
	sats := []string{"12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S", "1wFTAgs9DP5RSnCqKV1eLf6N9wtk4EAtmN5DpSxcs8EjT69tGE"}
	for i := range 100000 {
		if i%2 == 0 {
			fmt.Fprintf(&buf, "2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{\"process\": \"storagenode\", \"piece_id\": \"BNERV6D3IQGORXMICYMR6FGFMLOVV6MUB3XMM6IRXDJBVD%06d\", \"satellite_id\": \"%s\", \"action\": \"PUT\", \"remote_address\": \"172.17.0.1:41080\", \"size\": %d}\n", i, sats[i%2], i)
		} else {
			fmt.Fprintf(&buf, "2026-09-05T14:20:31Z\tINFO\tpiecestore\tdownloaded\t{\"process\": \"storagenode\", \"piece_id\": \"QHDD2YN7WG7JNBOFX3PJZ5FZQM423KWU3JLHML5KRFWCNA%06d\", \"satellite_id\": \"%s\", \"action\": \"GET\", \"offset\": 0, \"size\": %d, \"remote_address\": \"79.127.219.46:58210\"}\n", i, sats[i%2], i)
		}
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		c := report.NewCounter()
		if err := c.Read(bytes.NewReader(data), 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(100000*b.N)/b.Elapsed().Seconds(), "lines/s")
}

// ignoreLabels leaves out the state a Summary chooses its satellite keys
// with; the keys themselves are compared.
var ignoreLabels = cmpopts.IgnoreUnexported(report.Summary{})
