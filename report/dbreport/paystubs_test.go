package dbreport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi/nodeapitest"
	"github.com/storagenode-exporter/storagenode-exporter/report/dbreport"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

// fixtureNodeID is the nodeID of testdata/nodeapi/earnings/sno.json.
const fixtureNodeID = "1muqRDK3ntpF65pB1qswmWrEm7x78HRNEjZuEc5g9wSXY5KwFt"

// storeFixturePaystubs stores what the fixture node of
// testdata/nodeapi/<version> returns for the months from..to, as serve
// stores a poll's paystubs.
func storeFixturePaystubs(t *testing.T, db *sink.DB, node, version, from, to string) {
	t.Helper()
	srv := nodeapitest.NewServer(t, "../../testdata/nodeapi", "earnings")
	if version != "earnings" {
		srv.Overlay(version)
	}
	c, err := nodeapi.NewClient(srv.URL, 10*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := time.Parse("2006-01", from)
	l, _ := time.Parse("2006-01", to)
	stubs, err := c.Paystubs(context.Background(), f, l)
	if err != nil || len(stubs) == 0 {
		t.Fatalf("%s %s..%s: %d paystubs, %v", version, from, to, len(stubs), err)
	}
	b := &sink.Batch{}
	for _, p := range stubs {
		b.Paystubs = append(b.Paystubs, sink.Paystub{Node: node, NodeID: fixtureNodeID, Paystub: p})
	}
	if err := db.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

// paystubsFixture is a sink that stored the fixture node's 14 months, then
// (the node's database wiped) its last month alone, then the two later
// months of testdata/nodeapi/earnings-returned, in which half the held
// amount is returned.
func paystubsFixture(t *testing.T) *sink.DB {
	t.Helper()
	db, err := sink.Open(context.Background(), filepath.Join(t.TempDir(), "p.db"), sink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	storeFixturePaystubs(t, db, "N", "earnings", "2025-06", "2026-07")
	storeFixturePaystubs(t, db, "N", "earnings", "2026-07", "2026-07")
	storeFixturePaystubs(t, db, "N", "earnings-returned", "2026-08", "2026-09")
	return db
}

// report --db's paystub totals are the hand-computed figures of the
// fixtures (exporter/nodeapi_earnings_test.go shows the computation: held
// now, returned, paid in µ$ after earnings-returned's month 16), each
// month counted once though stored twice.
func TestPaystubTotals(t *testing.T) {
	t.Parallel()
	db := paystubsFixture(t)
	a, err := dbreport.Analyze(context.Background(), db, dbreport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]nodeapi.PaystubTotals{
		"ap1":      {Held: 296_362, Returned: 296_361, Paid: 3_874_444},
		"eu1":      {Held: 649_173, Returned: 649_173, Paid: 9_112_076},
		"saltlake": {Held: 2_042_640, Returned: 2_042_639, Paid: 18_341_479},
		"us1":      {Held: 2_466_665, Returned: 2_466_665, Paid: 34_391_611},
	}
	got := map[string]nodeapi.PaystubTotals{}
	for _, s := range a.Paystubs {
		if s.Node != "N" || len(s.Periods) != 16 {
			t.Errorf("%s %s: %d months, want 16", s.Node, s.Satellite, len(s.Periods))
		}
		for i, p := range s.Periods {
			if want := time.Date(2025, time.Month(6+i), 1, 0, 0, 0, 0, time.UTC).Format("2006-01"); p.Period != want {
				t.Errorf("%s month %d: %s, want %s", s.Satellite, i, p.Period, want)
			}
		}
		got[s.Satellite] = s.Totals
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("totals (-want +got):\n%s", diff)
	}

	// JSON: the same figures in dollars.
	var js bytes.Buffer
	if err := dbreport.WriteJSON(&js, a); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paystubs []struct {
			Satellite string
			Months    int
			Totals    map[string]float64
		}
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range doc.Paystubs {
		w := want[s.Satellite]
		for k, v := range map[string]int64{"paid_dollars": w.Paid, "held_dollars": w.Held, "returned_dollars": w.Returned, "undistributed_dollars": 0} {
			if math.Abs(s.Totals[k]-float64(v)/1e6) > 1e-9 || s.Months != 16 {
				t.Errorf("json %s %s = %v (%d months), want %v", s.Satellite, k, s.Totals[k], s.Months, float64(v)/1e6)
			}
		}
	}
	if len(doc.Paystubs) != 4 {
		t.Errorf("json: %d satellites", len(doc.Paystubs))
	}

	// A sink without paystubs shows no section.
	empty, now := analysisFixture(t)
	a, err = dbreport.Analyze(context.Background(), empty, dbreport.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	dbreport.WriteText(&text, a)
	js.Reset()
	dbreport.WriteJSON(&js, a)
	if strings.Contains(text.String(), "PAYSTUBS") || strings.Contains(js.String(), "paystubs") {
		t.Errorf("paystubs shown without any:\n%s\n%s", text.String(), js.String())
	}
}

// The paystub section of report --db's text and JSON is pinned byte for
// byte (go test ./report/dbreport -run PaystubsGolden -update rewrites
// testdata/paystubs.txt and .json); the rest of the report is pinned by
// TestAnalysisGolden.
func TestPaystubsGolden(t *testing.T) {
	t.Parallel()
	db := paystubsFixture(t)
	a, err := dbreport.Analyze(context.Background(), db, dbreport.Options{Node: "N"})
	if err != nil {
		t.Fatal(err)
	}
	var text, js bytes.Buffer
	if err := dbreport.WriteText(&text, a); err != nil {
		t.Fatal(err)
	}
	if err := dbreport.WriteJSON(&js, a); err != nil {
		t.Fatal(err)
	}
	section := text.String()
	i, j := strings.Index(section, "\n========== PAYSTUBS"), strings.Index(section, "\n========== SINK")
	if i < 0 || j < i {
		t.Fatalf("no paystub section before the sink's:\n%s", section)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for file, got := range map[string]string{"paystubs.txt": section[i:j], "paystubs.json": string(doc["paystubs"]) + "\n"} {
		path := filepath.Join("testdata", file)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (-update writes it)", err)
		}
		if diff := cmp.Diff(string(want), got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", file, diff)
		}
	}
}
