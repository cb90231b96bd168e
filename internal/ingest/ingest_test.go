package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

const fixture = "../../report/testdata/fixture.log"

// A plan names each node once, in the order given, with its files oldest
// first and each file once.
func TestNewPlan(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"node.log", "node.log.1", "node.log.2", "b.log"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	plan, err := NewPlan([]string{"B:" + p("b.log"), "A:" + p("node.log"), "A:" + p("node.log.2"), "A:" + p("node.log.1"),
		"A:" + dir + "/./node.log", "B:" + p("missing.log")})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plan.Nodes, ","); got != "B,A" {
		t.Errorf("nodes %s, want B,A", got)
	}
	var got []string
	for _, f := range plan.Files {
		got = append(got, f.Node+":"+filepath.Base(f.Path)+":"+string(rune('0'+f.Size)))
	}
	if want := "B:b.log:2 B:missing.log:0 A:node.log.2:2 A:node.log.1:2 A:node.log:2"; strings.Join(got, " ") != want {
		t.Errorf("files %s, want %s", strings.Join(got, " "), want)
	}
	for spec, want := range map[string]string{"no-colon": "want NAME:FILE", ":f": "want NAME:FILE", "N:": "want NAME:FILE", "N:-": "standard input"} {
		if _, err := NewPlan([]string{spec}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", spec, err, want)
		}
	}
	if _, err := NewPlan(nil); err == nil || !strings.Contains(err.Error(), "no log files") {
		t.Errorf("no specs: %v", err)
	}
}

// Run on the report fixture: the summary's table and totals line, the
// progress lines, a file that cannot be read named on stderr, and a second
// run that adds nothing.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sink.db")
	om := filepath.Join(dir, "history.om")
	missing := filepath.Join(dir, "missing.log")
	run := func() (string, string, error) {
		db, err := sink.Open(context.Background(), path, sink.Options{})
		if err != nil {
			t.Fatal(err)
		}
		plan, err := NewPlan([]string{"N:" + fixture, "N:" + missing})
		if err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		err = Run(context.Background(), db, plan, Options{NoGeoIP: true, Progress: "lines", OpenMetrics: om, Stdout: &out, Stderr: &errb})
		return out.String(), errb.String(), err
	}
	out, errs, err := run()
	if err == nil || err.Error() != "ingest: 1 of 2 files could not be read" {
		t.Errorf("err %v", err)
	}
	if !strings.Contains(errs, "ingest: N "+fixture+" (") || !strings.Contains(errs, missing+": open: no such file or directory") ||
		!strings.Contains(errs, "ingest: wrote "+om) {
		t.Errorf("stderr:\n%s", errs)
	}
	if !regexp.MustCompile(`(?m)^N +`+regexp.QuoteMeta(fixture)+` +38 +24 +new$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^24 events from 38 lines of 1 files in \S+ \(\d+ events/s\) into `+regexp.QuoteMeta(path)+`, \d+\.\d KiB$`).MatchString(out) {
		t.Errorf("summary:\n%s", out)
	}
	if b, err := os.ReadFile(om); err != nil || !strings.Contains(string(b), `storj_transfers_total{action="PUT",node="N",result="success",satellite="us1"}`) {
		t.Errorf("openmetrics: %v\n%.300s", err, b)
	}
	out, _, _ = run()
	if !strings.Contains(out, "already ingested") || !strings.Contains(out, "0 events from 0 lines of 1 files") {
		t.Errorf("second run:\n%s", out)
	}
}

func TestWriteSummaryNotes(t *testing.T) {
	var b bytes.Buffer
	err := WriteSummary(&b, filepath.Join(t.TempDir(), "none.db"), []sink.FileResult{
		{Node: "A", Path: "a.log", From: 100, Lines: 3, Events: 2},
		{Node: "A", Path: "a.log.1.gz", Compressed: true, Skipped: true},
		{Node: "B", Path: "b.log", Skipped: true, HeldBy: "serve, pid 7"},
		{Node: "C", Path: "c.log", To: 512, HeldBy: "serve, pid 8", Lines: 1, Events: 1},
		{Node: "D", Path: "d.log", Lines: 2, TooLong: 2},
	}, 1500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"resumed at byte 100", "already ingested, gzip", "followed by serve, pid 7, which holds it",
		"new, to byte 512: serve, pid 8 follows it from there", "new, 2 lines longer than --max-line-length (counted, not stored)",
		"3 events from 6 lines of 5 files in 1.5s (2 events/s) into "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "none.db, ") {
		t.Errorf("a missing database has a size:\n%s", b.String())
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// WriteOpenMetrics reads through the one reader: a gzip copy, a last line
// without its newline and chunks of any size count alike, and a line
// longer than the limit is counted as unparsed with the reason too_long
// (not held, never parsed), where it is unparsed (header) under the default.
func TestWriteOpenMetricsReader(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	mid := bytes.IndexByte(data[len(data)/2:], '\n') + len(data)/2 + 1
	long := append(append(append([]byte(nil), data[:mid]...), bytes.Repeat([]byte("x"), 5000)...), '\n')
	long = append(long, data[mid:]...)
	om := func(path string, maxLine int) string {
		t.Helper()
		out := filepath.Join(dir, "out.om")
		if err := WriteOpenMetrics(out, &Plan{Nodes: []string{"N"}, Files: []File{{Node: "N", Path: path}}}, nil, maxLine); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	want := om(fixture, 0)
	if !strings.Contains(want, `storj_transfers_total{action="GET",node="N",result="success",satellite="us1"}`) {
		t.Fatalf("fixture's output:\n%.500s", want)
	}
	for name, got := range map[string]string{
		"gzip":             om(write("node.log.1.gz", gz.Bytes()), 0),
		"no final newline": om(write("tail.log", bytes.TrimSuffix(data, []byte("\n"))), 0),
	} {
		if got != want {
			t.Errorf("%s: output differs from the fixture's:\n%.800s", name, got)
		}
	}
	// the long line: the same samples but for its reason
	limited, whole := om(write("long.log", long), 1024), om(filepath.Join(dir, "long.log"), 0)
	const unparsed = `storj_log_lines_unparsed_total{node="N",reason=`
	if withoutUnparsed(limited) != withoutUnparsed(whole) ||
		last(limited, unparsed+`"too_long"}`) != 1 || last(whole, unparsed+`"too_long"}`) != 0 ||
		last(limited, unparsed+`"header"}`) != last(whole, unparsed+`"header"}`)-1 {
		t.Errorf("the 5000-byte line under a 1024-byte limit is not counted as too_long where it is header by default:\n%.800s", limited)
	}
}

// withoutUnparsed is an OpenMetrics text without its unparsed samples.
func withoutUnparsed(om string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(om, "\n") {
		if !strings.HasPrefix(l, "storj_log_lines_unparsed_total{") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// last is the value of a series' last sample in an OpenMetrics text, -1
// when it has none.
func last(om, series string) float64 {
	v := -1.0
	for _, l := range strings.Split(om, "\n") {
		if rest, ok := strings.CutPrefix(l, series+" "); ok {
			f, _ := strconv.ParseFloat(strings.Fields(rest)[0], 64)
			v = f
		}
	}
	return v
}
