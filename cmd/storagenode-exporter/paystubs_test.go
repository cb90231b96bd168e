package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi/nodeapitest"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

// paystubRows returns the paystubs a sink database holds, and how many
// distinct (node, satellite, period) they are.
func paystubRows(t *testing.T, db string) (rows, distinct int64) {
	t.Helper()
	sdb, err := sink.Open(t.Context(), db, sink.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	err = sdb.SQL().QueryRow("SELECT count(*), count(DISTINCT node_name || satellite_id || period) FROM paystubs").Scan(&rows, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	return rows, distinct
}

// serve --db keeps each paystub the node API returns once per satellite
// and period: the fixture node's 14 months, then the same node wiped (its
// API returns the last month alone) leaves all 14 months in the sink and
// in report --db, each once, and the earnings sums count them (the
// satellite still holds what they say); without the sink the sums are the
// node's last month.
func TestServeSinkPaystubsSurviveWipe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	copyFile(t, "../../report/testdata/fixture.log", log)
	db := filepath.Join(dir, "sink.db")
	api := nodeapitest.NewServer(t, "../../testdata/nodeapi", "earnings")
	args := []string{"--node", "N:" + log + ":" + api.URL, "--db", db, "--log.level", "debug"}

	s := startServe(t, nil, args...)
	s.waitFor(t, `storj_satellite_paid_dollars{node="N", satellite="us1"}`, 24.399365) // Σ of the 14 months
	testutil.WaitFor(t, "the 56 paystubs in the sink", func() bool { n, _ := paystubRows(t, db); return n == 56 })
	if code := s.stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, s.stderr.String())
	}

	api.Overlay("earnings-wiped")
	s = startServe(t, nil, args...)
	testutil.WaitFor(t, "the wiped node's paystubs written", func() bool {
		return strings.Contains(s.stderr.String(), `msg="sink: paystubs written"`) && strings.Contains(s.stderr.String(), "returned=4 new=0 revised=0")
	})
	for series, want := range map[string]float64{ // the 14 months' sums, as before the wipe
		`storj_satellite_paid_dollars{node="N", satellite="us1"}`: 24.399365,
		`storj_satellite_held_dollars{node="N", satellite="us1"}`: 4.933330,
	} {
		if got := s.value(t, series); got != want {
			t.Errorf("after the wipe, with the sink: %s = %v, want %v", series, got, want)
		}
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, s.stderr.String())
	}
	if rows, distinct := paystubRows(t, db); rows != 56 || distinct != 56 {
		t.Errorf("after the wipe: %d paystubs (%d distinct), want 56", rows, distinct)
	}

	// Without the sink: the node's own sums, 2026-07 alone.
	s = startServe(t, nil, "--node", "N:"+log+":"+api.URL)
	s.waitFor(t, `storj_satellite_paid_dollars{node="N", satellite="us1"}`, 3.762791)
	s.waitFor(t, `storj_satellite_held_dollars{node="N", satellite="us1"}`, 0)
	s.stop()

	code, out, errs := runCLI(t, "", "report", "--db", db, "--format", "json")
	if code != 0 {
		t.Fatalf("report --db: exit %d: %s", code, errs)
	}
	var doc struct {
		Paystubs []struct {
			NodeID    string `json:"node_id"`
			Satellite string
			Months    int
			Periods   []struct{ Period string }
			Totals    struct {
				Paid float64 `json:"paid_dollars"`
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Paystubs) != 4 {
		t.Fatalf("report --db: %d satellites with paystubs, want 4:\n%s", len(doc.Paystubs), out)
	}
	for _, p := range doc.Paystubs {
		if p.Months != 14 || len(p.Periods) != 14 || p.Periods[0].Period != "2025-06" || p.Periods[13].Period != "2026-07" {
			t.Errorf("report --db %s: %d months %+v, want 2025-06 .. 2026-07", p.Satellite, p.Months, p.Periods)
		}
		if p.NodeID != "1muqRDK3ntpF65pB1qswmWrEm7x78HRNEjZuEc5g9wSXY5KwFt" { // testdata/nodeapi/earnings/sno.json
			t.Errorf("report --db %s: node ID %q", p.Satellite, p.NodeID)
		}
		if p.Satellite == "us1" && p.Totals.Paid != 24.399365 {
			t.Errorf("report --db us1 paid %v, want 24.399365", p.Totals.Paid)
		}
	}
	code, out, _ = runCLI(t, "", "report", "--db", db)
	if code != 0 || !strings.Contains(out, "N, us1: 14 months, 2025-06 to 2026-07") || !strings.Contains(out, "total: paid 24.40, held now 4.93, returned 0.00, undistributed 0.00") {
		t.Errorf("report --db text: exit %d\n%s", code, out)
	}
}
