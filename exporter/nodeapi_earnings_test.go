package exporter_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi/nodeapitest"
)

// earningsNow is "now" of ../testdata/nodeapi/earnings: joined 2025-06-12,
// 14 paystubs (2025-06 .. 2026-07), no paystub yet for 2026-08.
var earningsNow = time.Date(2026, 8, 8, 9, 30, 0, 0, time.UTC)

// earningsSeries polls the earnings node (with overlay, if not "") at now
// and returns the earnings series as "name{labels}" → value.
func earningsSeries(t *testing.T, overlay string, now time.Time) map[string]float64 {
	t.Helper()
	return earningsSeriesWith(t, overlay, now, exporter.NodeAPIOptions{})
}

// earningsSeriesWith is earningsSeries with the collector's options.
func earningsSeriesWith(t *testing.T, overlay string, now time.Time, opts exporter.NodeAPIOptions) map[string]float64 {
	t.Helper()
	srv := nodeapitest.NewServer(t, "../testdata/nodeapi", "earnings")
	if overlay != "" {
		srv.Overlay(overlay)
	}
	p := nodeapi.NewPoller("node1", apiClient(t, srv.URL), nodeapi.PollerOptions{Now: testutil.NewClock(now).Now})
	if err := p.PollOnce(t.Context()); err != nil {
		t.Fatalf("PollOnce: %v", err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(exporter.NewNodeAPICollector([]*nodeapi.Poller{p}, opts))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]float64)
	for _, mf := range mfs {
		name := mf.GetName()
		if !strings.HasPrefix(name, "storj_satellite_") || !earningsFamily(name) {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				if l.GetName() != "node" {
					ls = append(ls, l.GetName()+"="+l.GetValue())
				}
			}
			out[name+"{"+strings.Join(ls, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	return out
}

var earningsFamilies = []string{
	"storj_satellite_payout_dollars", "storj_satellite_held_ratio",
	"storj_satellite_paid_dollars", "storj_satellite_held_dollars",
	"storj_satellite_held_returned_dollars", "storj_satellite_undistributed_dollars",
	"storj_satellite_paystub_dollars", "storj_satellite_paystub_code", "storj_satellite_paystub_node_month",
	"storj_satellite_price_dollars_per_terabyte", "storj_satellite_price_disk_dollars_per_terabyte_month",
}

func earningsFamily(name string) bool { return slices.Contains(earningsFamilies, name) }

// checkSeries compares got with want (to 1e-9 $) and reports extra series.
func checkSeries(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s missing, want %v", k, w)
		} else if math.Abs(g-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected series %s = %v", k, g)
		}
	}
}

// Hand computation from ../testdata/nodeapi/earnings (µ$ = 10^-6 $):
//
// heldamount-paystubs.json, 14 paystubs per satellite, 2025-06 .. 2026-07,
// summed per satellite (held: 75 % in 2025-06..08, 50 % in 09..11, 25 % in
// 12..2026-02, 0 after; nothing disposed yet; 2025-06/07 were below the
// threshold and distributed in 2025-08, so nothing is undistributed now):
//
//	satellite  Σ paid       Σ held     Σ disposed  Σ (paid − distributed)
//	saltlake   13,076,253   4,085,279  0           0
//	ap1         2,752,787     592,723  0           0
//	us1        24,399,365   4,933,330  0           0
//	eu1         6,461,261   1,298,346  0           0
//
// The held column equals held-history's totalHeld (rows 1-9), a second
// route's figure; the paid column adds up to the node's "Total Earned"
// 46,689,666 µ$.
//
// Newest period 2026-07 (node month 14 from the 2025-06 join month), codes
// "E"; earned = compAtRest + compGet + compGetRepair + compGetAudit:
//
//	satellite  earned     held  disposed  paid       distributed
//	saltlake   1,611,293  0     0         1,611,294  1,611,294
//	ap1          412,647  0     0           412,649    412,649
//	us1        3,762,790  0     0         3,762,791  3,762,791
//	eu1        1,000,821  0     0         1,000,821  1,000,821
//
// estimated-payout-id-<ID>.json, cents (egress, repair_audit, disk, held,
// payout; heldRate 0 % in node month 15):
//
//	saltlake  current 0.66 0.79 37.28 0 38.73   previous 2.45 3.11 154.82 0 160.38
//	ap1       current 0.55 0.15  9.41 0 10.11   previous 2.01 0.57  38.50 0  41.08
//	us1       current 5.92 0.98 85.40 0 92.30   previous 24.62 4.02 346.06 0 374.70
//	eu1       current 1.39 0.43 22.42 0 24.24   previous 6.36 1.52  91.81 0  99.69
//
// priceModel of satellite-<ID>.json: 200 ¢/TB egress, repair, audit; 149
// ¢/TB-month disk, for all four.
var earningsWant = func() map[string]float64 {
	w := map[string]float64{}
	type fig struct{ paid, held, earned, lastPaid float64 }
	figs := map[string]fig{
		"saltlake": {13.076253, 4.085279, 1.611293, 1.611294},
		"ap1":      {2.752787, 0.592723, 0.412647, 0.412649},
		"us1":      {24.399365, 4.933330, 3.762790, 3.762791},
		"eu1":      {6.461261, 1.298346, 1.000821, 1.000821},
	}
	est := map[string][2][5]float64{ // dollars: current, previous
		"saltlake": {{0.0066, 0.0079, 0.3728, 0, 0.3873}, {0.0245, 0.0311, 1.5482, 0, 1.6038}},
		"ap1":      {{0.0055, 0.0015, 0.0941, 0, 0.1011}, {0.0201, 0.0057, 0.3850, 0, 0.4108}},
		"us1":      {{0.0592, 0.0098, 0.8540, 0, 0.9230}, {0.2462, 0.0402, 3.4606, 0, 3.7470}},
		"eu1":      {{0.0139, 0.0043, 0.2242, 0, 0.2424}, {0.0636, 0.0152, 0.9181, 0, 0.9969}},
	}
	for sat, f := range figs {
		w[fmt.Sprintf("storj_satellite_paid_dollars{satellite=%s}", sat)] = f.paid
		w[fmt.Sprintf("storj_satellite_held_dollars{satellite=%s}", sat)] = f.held
		w[fmt.Sprintf("storj_satellite_held_returned_dollars{satellite=%s}", sat)] = 0
		w[fmt.Sprintf("storj_satellite_undistributed_dollars{satellite=%s}", sat)] = 0
		for c, v := range map[string]float64{"earned": f.earned, "held": 0, "disposed": 0, "paid": f.lastPaid, "distributed": f.lastPaid} {
			w[fmt.Sprintf("storj_satellite_paystub_dollars{component=%s,period=2026-07,satellite=%s}", c, sat)] = v
		}
		w[fmt.Sprintf("storj_satellite_paystub_code{code=E,period=2026-07,satellite=%s}", sat)] = 1
		w[fmt.Sprintf("storj_satellite_paystub_node_month{period=2026-07,satellite=%s}", sat)] = 14
		for _, k := range []string{"egress", "repair", "audit"} {
			w[fmt.Sprintf("storj_satellite_price_dollars_per_terabyte{kind=%s,satellite=%s}", k, sat)] = 2
		}
		w[fmt.Sprintf("storj_satellite_price_disk_dollars_per_terabyte_month{satellite=%s}", sat)] = 1.49
		w[fmt.Sprintf("storj_satellite_held_ratio{satellite=%s}", sat)] = 0
		for i, month := range []string{"current", "previous"} {
			for j, c := range []string{"egress", "repair_audit", "disk", "held", "payout"} {
				w[fmt.Sprintf("storj_satellite_payout_dollars{component=%s,month=%s,satellite=%s}", c, month, sat)] = est[sat][i][j]
			}
		}
	}
	return w
}()

func TestNodeAPICollectorEarnings(t *testing.T) {
	t.Parallel()
	checkSeries(t, earningsSeries(t, "", earningsNow), earningsWant)
}

// A later month: earnings-returned adds 2026-08 (as 2026-07) and 2026-09,
// node month 16, in which each satellite returns half its held amount,
// floor(Σ held ÷ 2), with no codes. Hand computation (µ$):
//
//	satellite  Σ held     disposed = ⌊Σ held ÷ 2⌋  held now = Σ held − disposed  Σ paid
//	saltlake   4,085,279  2,042,639                2,042,640                    18,341,479
//	ap1          592,723    296,361                  296,362                     3,874,444
//	us1        4,933,330  2,466,665                2,466,665                    34,391,611
//	eu1        1,298,346    649,173                  649,173                     9,112,076
//
// Σ paid = the 14 months' Σ paid + 2026-08's paid (= 2026-07's) + 2026-09's
// (earned + disposed), e.g. us1: 24,399,365 + 3,762,791 + (3,762,790 +
// 2,466,665) = 34,391,611.
func TestNodeAPICollectorEarningsHeldReturned(t *testing.T) {
	t.Parallel()
	got := earningsSeries(t, "earnings-returned", time.Date(2026, 10, 8, 9, 30, 0, 0, time.UTC))
	want := map[string][3]float64{ // held now, returned, paid
		"saltlake": {2.042640, 2.042639, 18.341479},
		"ap1":      {0.296362, 0.296361, 3.874444},
		"us1":      {2.466665, 2.466665, 34.391611},
		"eu1":      {0.649173, 0.649173, 9.112076},
	}
	for sat, w := range want {
		checkOne(t, got, fmt.Sprintf("storj_satellite_held_dollars{satellite=%s}", sat), w[0])
		checkOne(t, got, fmt.Sprintf("storj_satellite_held_returned_dollars{satellite=%s}", sat), w[1])
		checkOne(t, got, fmt.Sprintf("storj_satellite_paid_dollars{satellite=%s}", sat), w[2])
		checkOne(t, got, fmt.Sprintf("storj_satellite_paystub_dollars{component=disposed,period=2026-09,satellite=%s}", sat), w[1])
		checkOne(t, got, fmt.Sprintf("storj_satellite_paystub_node_month{period=2026-09,satellite=%s}", sat), 16)
		if _, ok := got[fmt.Sprintf("storj_satellite_paystub_code{code=E,period=2026-09,satellite=%s}", sat)]; ok {
			t.Errorf("%s: code E after the withholding months", sat)
		}
	}
	for k := range got {
		if strings.Contains(k, "period=2026-07") || strings.Contains(k, "period=2026-08") {
			t.Errorf("%s: only the newest period is a label", k)
		}
	}
}

func checkOne(t *testing.T, got map[string]float64, key string, want float64) {
	t.Helper()
	if g, ok := got[key]; !ok || math.Abs(g-want) > 1e-9 {
		t.Errorf("%s = %v (present %v), want %v", key, g, ok, want)
	}
}

// A node without the heldamount routes keeps its estimates; a failing
// paystubs route withdraws only the paystub figures.
func TestNodeAPICollectorEarningsPartial(t *testing.T) {
	t.Parallel()
	for _, mode := range []int32{nodeapitest.LackHTML, nodeapitest.LackNotFound, -1} {
		srv := nodeapitest.NewServer(t, "../testdata/nodeapi", "earnings")
		if mode >= 0 {
			srv.Heldamount.Store(mode)
		} else {
			srv.FailHeldamount.Store(true)
		}
		p := nodeapi.NewPoller("node1", apiClient(t, srv.URL), nodeapi.PollerOptions{Now: testutil.NewClock(earningsNow).Now})
		if err := p.PollOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		c := exporter.NewNodeAPICollector([]*nodeapi.Poller{p}, exporter.NodeAPIOptions{})
		if n := promtest.CollectAndCount(c, "storj_satellite_payout_dollars"); n != 40 {
			t.Errorf("mode %d: %d estimate series, want 40", mode, n)
		}
		if n := promtest.CollectAndCount(c, "storj_satellite_paid_dollars", "storj_satellite_held_dollars", "storj_satellite_paystub_dollars"); n != 0 {
			t.Errorf("mode %d: %d paystub series from a node without paystubs", mode, n)
		}
		if n := promtest.CollectAndCount(c, "storj_nodeapi_up"); n != 1 {
			t.Errorf("mode %d: no storj_nodeapi_up", mode)
		}
	}
}

func TestNodeAPICollectorEarningsLint(t *testing.T) {
	t.Parallel()
	srv := nodeapitest.NewServer(t, "../testdata/nodeapi", "earnings")
	p := nodeapi.NewPoller("node1", apiClient(t, srv.URL), nodeapi.PollerOptions{Now: testutil.NewClock(earningsNow).Now})
	if err := p.PollOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	problems, err := promtest.CollectAndLint(exporter.NewNodeAPICollector([]*nodeapi.Poller{p}, exporter.NodeAPIOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range problems {
		t.Errorf("lint: %s: %s", pr.Metric, pr.Text)
	}
}
