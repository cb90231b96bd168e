package exporter_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi/nodeapitest"
)

// fixtureNodeID is the nodeID of ../testdata/nodeapi/earnings/sno.json.
const fixtureNodeID = "1muqRDK3ntpF65pB1qswmWrEm7x78HRNEjZuEc5g9wSXY5KwFt"

// A node whose database was wiped (earnings-wiped: its API returns
// 2026-07 alone) with its 14 months kept elsewhere (serve --db): the
// paid, held, returned and undistributed sums are the 14 months' (the
// hand computation of earningsWant), the newest paystub the node's; kept
// paystubs of another identity are not counted; without any, the sums are
// the node's last month.
func TestNodeAPICollectorEarningsKept(t *testing.T) {
	t.Parallel()
	srv := nodeapitest.NewServer(t, "../testdata/nodeapi", "earnings")
	from, _ := time.Parse("2006-01", "2025-06")
	all, err := apiClient(t, srv.URL).Paystubs(t.Context(), from, earningsNow)
	if err != nil || len(all) != 56 {
		t.Fatalf("%d paystubs, %v", len(all), err)
	}
	var asked []string
	history := func(node, id string) []nodeapi.Paystub {
		asked = append(asked, node+" "+id)
		if id != fixtureNodeID {
			return nil
		}
		return all
	}
	got := earningsSeriesWith(t, "earnings-wiped", earningsNow, exporter.NodeAPIOptions{PaystubHistory: history})
	if len(asked) == 0 || asked[0] != "node1 "+fixtureNodeID {
		t.Errorf("history asked for %q", asked)
	}
	for _, sat := range []string{"saltlake", "ap1", "us1", "eu1"} {
		for _, f := range []string{"paid", "held", "held_returned", "undistributed"} {
			name := fmt.Sprintf("storj_satellite_%s_dollars{satellite=%s}", f, sat)
			checkOne(t, got, name, earningsWant[name])
		}
		name := fmt.Sprintf("storj_satellite_paystub_dollars{component=paid,period=2026-07,satellite=%s}", sat)
		checkOne(t, got, name, earningsWant[name])
	}

	// Another identity's history, or none: the node's own month.
	other := func(node, id string) []nodeapi.Paystub { return history(node, "not "+id) }
	for _, opts := range []exporter.NodeAPIOptions{{PaystubHistory: other}, {}} {
		got := earningsSeriesWith(t, "earnings-wiped", earningsNow, opts)
		checkOne(t, got, "storj_satellite_paid_dollars{satellite=us1}", 3.762791)
		checkOne(t, got, "storj_satellite_held_dollars{satellite=us1}", 0)
	}
}
