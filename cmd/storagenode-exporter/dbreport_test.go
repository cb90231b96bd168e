package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

// ingest, then report --db: the sink answers with the counts report gives
// for the same file, and --openmetrics writes history promtool accepts.
func TestIngestReportDBAndOpenMetrics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "sink.db")
	om := filepath.Join(dir, "history.om")
	code, _, errs := runCLI(t, "", "ingest", "--db", db, "--progress", "none", "--openmetrics", om, "Node-1:"+fixture)
	if code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, errs)
	}
	code, out, errs := runCLI(t, "", "report", "--db", db, "--format", "json")
	if code != 0 {
		t.Fatalf("report --db: exit %d: %s", code, errs)
	}
	var fromDB struct {
		Summary struct {
			UploadsRejected int64                       `json:"uploads_rejected"`
			Transfers       map[string]map[string]int64 `json:"transfers"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &fromDB); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	_, out, _ = runCLI(t, "", "report", "--format", "json", fixture)
	var fromLog struct {
		UploadsRejected int64                       `json:"uploads_rejected"`
		Transfers       map[string]map[string]int64 `json:"transfers"`
	}
	json.Unmarshal([]byte(out), &fromLog)
	if len(fromLog.Transfers) != 5 {
		t.Fatalf("report: %s", out)
	}
	for act, c := range fromLog.Transfers {
		for k, v := range c {
			if got := fromDB.Summary.Transfers[act][k]; got != v {
				t.Errorf("%s %s: sink %d, log %d", act, k, got, v)
			}
		}
	}
	if fromDB.Summary.UploadsRejected != fromLog.UploadsRejected {
		t.Errorf("rejected: sink %d, log %d", fromDB.Summary.UploadsRejected, fromLog.UploadsRejected)
	}
	data, err := os.ReadFile(om)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `storj_transfers_total{action="PUT",node="Node-1",result="success",satellite="us1"}`) || !strings.HasSuffix(string(data), "# EOF\n") {
		t.Errorf("openmetrics output:\n%.500s", data)
	}
	if o, err := exec.Command(testutil.Tool(t, "promtool"), "tsdb", "create-blocks-from", "openmetrics", om, filepath.Join(dir, "blocks")).CombinedOutput(); err != nil {
		t.Errorf("promtool: %v\n%s", err, o)
	}
	if code, _, errs := runCLI(t, "", "report", "--db", db, fixture); code == 0 || !strings.Contains(errs, "not both") {
		t.Errorf("files and --db: exit %d %s", code, errs)
	}
}

// report --db prints exactly the bytes it printed when the analysis was
// part of package sink (testdata/report-db.txt; -update rewrites it).
func TestReportDBGolden(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "sink.db")
	if code, _, errs := runCLI(t, "", "ingest", "--db", db, "--progress", "none", "--no-geoip", "Node-1:"+fixture); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, errs)
	}
	code, out, errs := runCLI(t, "", "report", "--db", db)
	if code != 0 {
		t.Fatalf("report --db: exit %d: %s", code, errs)
	}
	path := filepath.Join("testdata", "report-db.txt")
	if *update {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("report --db:\n%s\nwant (%s):\n%s", out, path, want)
	}
}
