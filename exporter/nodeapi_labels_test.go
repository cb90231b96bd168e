package exporter_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/internal/satellites"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi/nodeapitest"
)

// floodAPI writes a node API (the earnings node of ../testdata/nodeapi)
// that names, besides its four satellites, the flood's IDs and one of 200
// characters, each with its satellite details, estimate and a paystub (those
// of us1), adds a paystub of us1 whose period is no month, and gives
// storj_node_info's labels 64 KiB values. It returns the fixture root.
func floodAPI(t *testing.T, f flood) string {
	t.Helper()
	root := t.TempDir()
	for _, dir := range []string{"errors", "earnings"} {
		if err := os.CopyFS(filepath.Join(root, dir), os.DirFS(filepath.Join("../testdata/nodeapi", dir))); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(root, "earnings")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	write := func(name string, v any) {
		b, ok := v.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(v); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const us1 = "12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S"
	ids := append(slices.Clone(f.ids), strings.Repeat("z", 200))

	var sno map[string]any
	if err := json.Unmarshal(read("sno.json"), &sno); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 64<<10)
	sno["nodeID"], sno["version"], sno["allowedVersion"] = "1"+big, "1.162.3-"+big, big
	sno["quicStatus"], sno["wallet"] = big, "0x"+big
	sats := sno["satellites"].([]any)
	var paystubs []map[string]any
	if err := json.Unmarshal(read("heldamount-paystubs.json"), &paystubs); err != nil {
		t.Fatal(err)
	}
	newest := paystubs[len(paystubs)-1]
	for _, p := range paystubs {
		if p["satelliteId"] == us1 && p["period"].(string) >= newest["period"].(string) {
			newest = p
		}
	}
	junk := maps.Clone(newest)
	junk["period"] = newest["period"].(string) + big[:1000] // sorts after the newest month
	paystubs = append(paystubs, junk)
	for _, id := range ids {
		sats = append(sats, map[string]any{"id": id, "url": "sat.example:7777", "disqualified": nil, "suspended": nil, "vettedAt": nil})
		write("satellite-"+id+".json", bytes.ReplaceAll(read("satellite-"+us1+".json"), []byte(us1), []byte(id)))
		write("estimated-payout-id-"+id+".json", read("estimated-payout-id-"+us1+".json"))
		p := maps.Clone(newest)
		p["satelliteId"] = id
		paystubs = append(paystubs, p)
	}
	sno["satellites"] = sats
	write("sno.json", sno)
	write("heldamount-paystubs.json", paystubs)
	return root
}

// A node API that names 61 satellites, 20 of them valid unknown IDs, and
// sends 64 KiB node_info values: every satellite family has the series of
// the four public satellites and the 16 kept IDs (the first in ID order)
// and no more, the invalid and the other IDs' figures are left out, the
// period label is a month, and node_info's values are "invalid" and
// "other".
func TestNodeAPISatelliteFlood(t *testing.T) {
	t.Parallel()
	f := newFlood(40, 3)
	srv := nodeapitest.NewServer(t, floodAPI(t, f), "earnings")
	p := nodeapi.NewPoller("node1", apiClient(t, srv.URL), nodeapi.PollerOptions{Now: testutil.NewClock(earningsNow).Now})
	if err := p.PollOnce(t.Context()); err != nil {
		t.Fatalf("PollOnce: %v", err)
	}
	if got := len(p.Snapshot().Dashboard.Satellites); got != 4+len(f.ids)+1 {
		t.Fatalf("the node API names %d satellites, want %d", got, 4+len(f.ids)+1)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(exporter.NewNodeAPICollector([]*nodeapi.Poller{p}, exporter.NodeAPIOptions{ExposeWallet: true}))

	var valid []string
	for i, id := range f.ids {
		if f.valid[i] {
			valid = append(valid, id)
		}
	}
	slices.Sort(valid)
	want := []string{"ap1", "eu1", "saltlake", "us1"}
	want = slices.Sorted(slices.Values(append(want, valid[:16]...)))

	perSatellite := map[string]int{ // series per satellite
		"storj_satellite_audit_score": 1, "storj_satellite_disqualified": 1, "storj_satellite_suspended": 1,
		"storj_satellite_joined_timestamp_seconds": 1, "storj_satellite_month_egress_bytes": 3,
		"storj_satellite_month_ingress_bytes": 2, "storj_satellite_month_stored_byte_seconds": 1,
		"storj_satellite_payout_dollars": 10, "storj_satellite_held_ratio": 1,
		"storj_satellite_price_dollars_per_terabyte": 3, "storj_satellite_price_disk_dollars_per_terabyte_month": 1,
		"storj_satellite_paid_dollars": 1, "storj_satellite_held_dollars": 1,
		"storj_satellite_paystub_dollars": 5, "storj_satellite_paystub_node_month": 1,
	}
	for scrape := range 2 { // the second scrape labels the same IDs
		out := expose(t, reg)
		if strings.Contains(out, "xxxx") || strings.Contains(out, "zzzz") || len(out) > 256<<10 {
			t.Errorf("scrape %d: an API value became a label (%d bytes)", scrape, len(out))
		}
		for family, n := range perSatellite {
			s := series(t, reg, family)
			sats := map[string]bool{}
			for k := range s {
				for _, l := range strings.Split(k, ",") {
					if v, ok := strings.CutPrefix(l, "satellite="); ok {
						sats[v] = true
					}
					if v, ok := strings.CutPrefix(l, "period="); ok && v != "2026-07" {
						t.Errorf("%s: period %.20q", family, v)
					}
				}
			}
			if got := slices.Sorted(maps.Keys(sats)); !slices.Equal(got, want) || len(s) != n*len(want) {
				t.Errorf("scrape %d: %s: %d series of satellites %v\nwant %d of %v", scrape, family, len(s), got, n*len(want), want)
			}
		}
		info := series(t, reg, "storj_node_info")
		if want := map[string]float64{"allowed_version=invalid,node_id=invalid,quic_status=other,version=invalid,wallet=invalid": 1}; !maps.Equal(info, want) {
			t.Errorf("storj_node_info: %v", info)
		}
	}
	if !satellites.ValidID(valid[16]) {
		t.Fatal("the flood's valid IDs are not valid")
	}
}
