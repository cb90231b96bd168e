package dbreport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storagenode-exporter/storagenode-exporter/parser"
	"github.com/storagenode-exporter/storagenode-exporter/report"
	"github.com/storagenode-exporter/storagenode-exporter/report/dbreport"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

const (
	us1    = "12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S"
	eu1    = "12L9ZFwhzVpuEKMUNUqkaTLGzwY9G24tbiigLiXpmZWKwmcNDDs"
	piece1 = "7VCCJA3NTUGCABTKIDXPVB7ETUPRPYY63K6LKRXH3DHXBJCPSOMQ"
	piece2 = "IFKPBATQQ6ED7M2MWZOUKD2YGXGRKBXRNFWP2BW7THMNTUEB7REA"
	piece3 = "LNV2EIGAVRG5KEPRU7T6X6F3JLJNS3ZPCHTNEC35OEKAJM52ZQ2Q"
)

// analysisFixture is a sink with a few known events of two nodes over
// three hours; "now" is an hour after the last.
func analysisFixture(t *testing.T) (*sink.DB, time.Time) {
	t.Helper()
	db, err := sink.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"), sink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h0 := time.Date(2026, 9, 5, 10, 0, 0, 0, time.UTC)
	ip := netip.MustParseAddr("198.51.100.9")
	ev := func(at time.Duration, node, sat string, act parser.Action, res parser.Result, size int64, piece, errText string) sink.Event {
		return sink.Event{Time: h0.Add(at), Node: node, Satellite: sat, Action: act, Status: res, Size: size, HasSize: size >= 0,
			PieceID: piece, Remote: ip, Country: "US", ErrorReason: errText}
	}
	events := []sink.Event{
		ev(time.Minute, "n1", us1, parser.GET, parser.Success, 1000, piece1, ""),
		ev(2*time.Minute, "n1", us1, parser.GET, parser.Success, 2000, piece1, ""),
		ev(3*time.Minute, "n1", us1, parser.GET, parser.Success, 3000, piece1, ""),
		ev(4*time.Minute, "n1", eu1, parser.GET, parser.Success, 500, piece2, ""),
		ev(5*time.Minute, "n1", eu1, parser.GET, parser.Failed, 500, piece2, "write tcp 1.2.3.4:28967->5.6.7.8:1: write: broken pipe"),
		ev(time.Hour+time.Minute, "n1", us1, parser.GETAudit, parser.Failed, 256, piece3, "file does not exist"),
		ev(time.Hour+2*time.Minute, "n1", us1, parser.GETAudit, parser.Success, 256, piece3, ""),
		ev(time.Hour+3*time.Minute, "n2", eu1, parser.PUT, parser.Success, 2319360, piece3, ""),
		ev(time.Hour+4*time.Minute, "n2", eu1, parser.PUT, parser.Failed, 70000, piece2, "read: connection reset by peer"),
		ev(2*time.Hour+time.Minute, "n2", eu1, parser.PUT, parser.Failed, 70000, piece1, "read: connection reset by peer (again)"),
		ev(2*time.Hour+2*time.Minute, "n2", eu1, parser.PUT, parser.Canceled, -1, piece1, "context canceled"),
		ev(2*time.Hour+3*time.Minute, "n2", "", parser.ActionNone, parser.Canceled, -1, "", ""),
	}
	err = db.Write(context.Background(), &sink.Batch{Events: events,
		Rejections: []sink.Rejection{{Time: h0.Add(2 * time.Hour), Node: "n2"}, {Time: h0.Add(2 * time.Hour), Node: "n2"}, {Time: h0, Node: "n1"}}})
	if err != nil {
		t.Fatal(err)
	}
	return db, h0.Add(3 * time.Hour)
}

func TestAnalyze(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, now := analysisFixture(t)
	a, err := dbreport.Analyze(ctx, db, dbreport.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	s := &a.Summary
	if a.Events != 12 || s.Transfers[parser.GET] != (report.Counts{Success: 4, Failed: 1, SuccessBytes: 6500}) ||
		s.Transfers[parser.PUT] != (report.Counts{Success: 1, Canceled: 1, Failed: 2, SuccessBytes: 2319360}) ||
		s.NoAction != (report.Counts{Canceled: 1}) || s.UploadsRejected != 3 || s.AuditCritical != 1 || s.AuditRecoverable != 0 {
		t.Errorf("summary: events %d, %+v", a.Events, s)
	}
	if !s.First.Equal(time.Date(2026, 9, 5, 10, 1, 0, 0, time.UTC)) || !s.Last.Equal(time.Date(2026, 9, 5, 12, 3, 0, 0, time.UTC)) {
		t.Errorf("first %s, last %s", s.First, s.Last)
	}
	if diff := cmp.Diff(a.MostDownloaded, []sink.PieceCount{
		{PieceID: piece1, Satellite: "us1", Downloads: 3, Success: 3, Bytes: 6000},
		{PieceID: piece2, Satellite: "eu1", Downloads: 2, Success: 1, Bytes: 500},
	}); diff != "" {
		t.Errorf("most downloaded (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(a.TopErrors, []dbreport.SatelliteError{
		{Satellite: "eu1", Action: parser.PUT, Class: parser.ErrConnectionReset, Count: 2, Example: "read: connection reset by peer"},
		{Satellite: "eu1", Action: parser.GET, Class: parser.ErrBrokenPipe, Count: 1, Example: "write tcp 1.2.3.4:28967->5.6.7.8:1: write: broken pipe"},
		{Satellite: "us1", Action: parser.GETAudit, Class: parser.ErrFileNotFound, Count: 1, Example: "file does not exist"},
	}); diff != "" {
		t.Errorf("top errors (-got +want):\n%s", diff)
	}
	sizes := map[string][4]int64{}
	for _, b := range a.Sizes {
		sizes[b.Label] = [4]int64{b.DownloadSuccess, b.DownloadOther, b.UploadSuccess, b.UploadOther}
	}
	if diff := cmp.Diff(sizes, map[string][4]int64{
		"< 1 KiB": {3, 2, 0, 0}, "1-4 KiB": {2, 0, 0, 0}, "4-16 KiB": {}, "16-64 KiB": {},
		"64-256 KiB": {0, 0, 0, 2}, "256 KiB-1 MiB": {}, ">= 1 MiB": {0, 0, 1, 0},
	}); diff != "" {
		t.Errorf("sizes (-got +want):\n%s", diff)
	}
	if len(a.Hourly) != 3 || a.Hourly[0].Hour.Hour() != 10 || a.Hourly[0].Transfers[parser.GET] != (report.Counts{Success: 4, Failed: 1}) ||
		a.Hourly[2].Transfers[parser.PUT] != (report.Counts{Canceled: 1, Failed: 1}) {
		t.Errorf("hourly: %+v", a.Hourly)
	}

	// One node, and a window.
	a, err = dbreport.Analyze(ctx, db, dbreport.Options{Node: "n2", Since: 90 * time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if a.Events != 3 || a.Summary.UploadsRejected != 2 || len(a.MostDownloaded) != 0 || len(a.Hourly) != 1 {
		t.Errorf("n2 since 90m: events %d, rejected %d, %+v", a.Events, a.Summary.UploadsRejected, a.Hourly)
	}
	_, err = dbreport.Analyze(ctx, db, dbreport.Options{Node: "n9"})
	if err == nil {
		t.Fatal("no error for a node the sink does not hold")
	}
	for _, want := range []string{db.Path(), `no node "n9"`, "n1, n2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestAnalysisWriters(t *testing.T) {
	t.Parallel()
	db, now := analysisFixture(t)
	a, err := dbreport.Analyze(context.Background(), db, dbreport.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := dbreport.WriteText(&text, a); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"========== AUDIT", "Rejected:         3", "MOST DOWNLOADED PIECES", piece1 + "  us1        3",
		"TOP ERRORS BY SATELLITE AND ACTION", "2  eu1  PUT        connection_reset", "TRANSFER SIZES", "HOURLY SUCCESS RATES",
		"2026-09-05 10:00  80.00% of 5", "Events:  12"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String(), "Lines:") {
		t.Error("text shows line counts the sink does not keep")
	}
	var js bytes.Buffer
	if err := dbreport.WriteJSON(&js, a); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Events  int64
		Summary struct {
			UploadsRejected int64 `json:"uploads_rejected"`
			Transfers       map[string]report.Counts
		}
		MostDownloaded []struct {
			PieceID string `json:"piece_id"`
		} `json:"most_downloaded"`
		TopErrors []struct{ Satellite, Action, Class string } `json:"top_errors"`
		Sizes     []dbreport.SizeBucket
		Hourly    []map[string]json.RawMessage
	}
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, js.String())
	}
	if len(got.TopErrors) == 0 || got.Events != 12 || got.Summary.UploadsRejected != 3 || got.Summary.Transfers["GET"].Success != 4 ||
		len(got.MostDownloaded) != 2 || got.TopErrors[0].Class != "connection_reset" || len(got.Sizes) != 7 || len(got.Hourly) != 3 {
		t.Errorf("json: %+v\n%s", got, js.String())
	}
}

var update = flag.Bool("update", false, "rewrite the golden files")

// The text and JSON of the analysis are pinned byte for byte
// (go test ./report/dbreport -run AnalysisGolden -update rewrites them).
func TestAnalysisGolden(t *testing.T) {
	t.Parallel()
	db, now := analysisFixture(t)
	for _, tc := range []struct {
		file  string
		opts  dbreport.Options
		write func(io.Writer, *dbreport.Analysis) error
	}{
		{"analysis.txt", dbreport.Options{}, dbreport.WriteText},
		{"analysis.json", dbreport.Options{}, dbreport.WriteJSON},
		{"analysis-n2-90m.txt", dbreport.Options{Node: "n2", Since: 90 * time.Minute}, dbreport.WriteText},
		{"analysis-n2-90m.json", dbreport.Options{Node: "n2", Since: 90 * time.Minute}, dbreport.WriteJSON},
	} {
		tc.opts.Now = func() time.Time { return now }
		a, err := dbreport.Analyze(context.Background(), db, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := tc.write(&out, a); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", tc.file)
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (-update writes it)", err)
		}
		if diff := cmp.Diff(string(want), out.String()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.file, diff)
		}
	}
}
