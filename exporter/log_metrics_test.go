package exporter_test

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
	"github.com/storagenode-exporter/storagenode-exporter/report"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fakeGeo maps documentation and public test addresses to countries.
type fakeGeo struct{}

func (fakeGeo) Country(a netip.Addr) string {
	switch {
	case a.Is4() && a.As4()[0] == 198:
		return "US"
	case a.Is6() && !a.Is4In6():
		return "DE"
	case a.IsPrivate() || a.IsLoopback():
		return "ZZ"
	}
	return "FR"
}

func feed(t testing.TB, n *exporter.NodeLogs, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		n.Line(l)
	}
	return data
}

// expose renders the registry as exposition text.
func expose(t testing.TB, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./exporter -update writes it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s (-want +got):\n%s", name, d)
	}
}

// Each log goes through the parser and LogMetrics into a golden .prom.
func TestGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, log string }{
		{"fixture", "../report/testdata/fixture.log"},
		{"seed-sample", "../testdata/logs/seed-sample.log"},
		{"real-lines", "../testdata/logs/real-lines.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewPedanticRegistry()
			m := exporter.NewLogMetrics(reg)
			feed(t, m.ForNode("node1", exporter.NodeOptions{Geo: fakeGeo{}, Now: func() time.Time { return time.Unix(0, 0) }}), tc.log)
			got := expose(t, reg)
			golden(t, tc.name+".prom", got)
			if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
				t.Errorf("lint: %v %v", err, problems)
			}
		})
	}
}

// The counters equal the report's counts on the same lines.
func TestCountersEqualReport(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"../report/testdata/fixture.log", "../testdata/logs/seed-sample.log", "../testdata/logs/real-lines.txt"} {
		reg := prometheus.NewRegistry()
		m := exporter.NewLogMetrics(reg)
		data := feed(t, m.ForNode("n", exporter.NodeOptions{}), path)
		c := report.NewCounter()
		if err := c.Read(bytes.NewReader(data), 1); err != nil {
			t.Fatal(err)
		}
		mfs, _ := reg.Gather()
		got := map[string]float64{}
		for _, mf := range mfs {
			for _, mt := range mf.GetMetric() {
				lab := labels(mt)
				switch mf.GetName() {
				case "storj_transfers_total":
					got[lab["action"]+"/"+lab["result"]] += mt.GetCounter().GetValue()
				case "storj_uploads_rejected_total":
					got["rejected"] += mt.GetCounter().GetValue()
				case "storj_log_lines_total":
					got["lines"] += mt.GetCounter().GetValue()
				case "storj_log_lines_unparsed_total":
					got["unparsed"] += mt.GetCounter().GetValue()
				}
			}
		}
		want := map[string]float64{"rejected": float64(c.UploadsRejected), "lines": float64(c.Lines), "unparsed": float64(c.Unparsed)}
		for _, a := range parser.TransferActions {
			ct := c.Transfers[a]
			want[a.String()+"/success"] = float64(ct.Success)
			want[a.String()+"/canceled"] = float64(ct.Canceled)
			want[a.String()+"/failed"] = float64(ct.Failed)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-report +metrics):\n%s", path, d)
		}
	}
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// A log with a million distinct pieces and addresses makes no more series
// than the label sets allow.
func TestSeriesBounded(t *testing.T) {
	t.Parallel()
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	reg := prometheus.NewRegistry()
	m := exporter.NewLogMetrics(reg)
	node := m.ForNode("n", exporter.NodeOptions{Geo: fakeGeo{}, Now: time.Now, PairLimit: 1000})
	actions := []string{"GET", "GET_AUDIT", "GET_REPAIR", "PUT", "PUT_REPAIR"}
	msgs := []string{"downloaded", "download started", "download canceled", "download failed", "uploaded", "upload started", "upload failed"}
	var line []byte
	for i := range n {
		line = fmt.Appendf(line[:0], "2026-09-05T14:20:31Z\tDEBUG\tpiecestore\t%s\t{\"piece_id\": \"P%051d\", \"satellite_id\": \"12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S\", \"action\": \"%s\", \"remote_address\": \"%d.%d.%d.%d:%d\", \"size\": %d, \"error\": \"write tcp 10.0.0.%d:28967->1.2.3.%d:%d: broken pipe %d\"}",
			msgs[i%len(msgs)], i, actions[i%len(actions)], 1+i>>24&0xff, i>>16&0xff, i>>8&0xff, i&0xff, i%65536, i, i%256, i%256, i, i)
		node.Line(line)
	}
	series := 0
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		series += len(mf.GetMetric())
	}
	// 4 satellites x 5 actions x 3 results x 2 families, 5 size and in-flight
	// children, levels, errors by class, countries: a few hundred at most.
	if series > 600 {
		t.Errorf("%d series after %d distinct pieces and addresses", series, n)
	}
	if node.Pending() > 1000 {
		t.Errorf("pending pairs %d over the limit", node.Pending())
	}
	if out := expose(t, reg); strings.Contains(out, "P000000") || strings.Contains(out, "1.2.3.") {
		t.Error("a piece ID or an address became a label value")
	}
}

// Durations: from arrival times when followed live, from the lines' own
// milliseconds otherwise; in-flight counts started transfers.
func TestDurationsAndInFlight(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := exporter.NewLogMetrics(reg)
	now := time.Date(2026, 9, 5, 14, 20, 31, 0, time.UTC)
	node := m.ForNode("n", exporter.NodeOptions{Now: func() time.Time { return now }})
	l := func(ts, level, msg, piece, action string) []byte {
		return []byte(ts + "\t" + level + "\tpiecestore\t" + msg + "\t{\"piece_id\": \"" + piece + "\", \"satellite_id\": \"12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S\", \"action\": \"" + action + "\", \"size\": 100}")
	}
	// live: whole-second stamps, 1.5 s between arrivals
	node.Line(l("2026-09-05T14:20:31Z", "DEBUG", "upload started", "A", "PUT"))
	node.Line(l("2026-09-05T14:20:31Z", "DEBUG", "download started", "B", "GET"))
	if got := testutil.ToFloat64(m.InFlight("n", "PUT")); got != 1 {
		t.Errorf("in flight %v", got)
	}
	now = now.Add(1500 * time.Millisecond)
	node.Line(l("2026-09-05T14:20:32Z", "INFO", "uploaded", "A", "PUT"))
	// after the fact, with milliseconds (before v1.83): 250 ms
	node.Line(l("2020-01-21T10:31:18.010+0300", "INFO", "download started", "C", "GET_AUDIT"))
	node.Line(l("2020-01-21T10:31:18.260+0300", "INFO", "downloaded", "C", "GET_AUDIT"))
	// after the fact, whole seconds: no duration
	node.Line(l("2025-01-01T00:00:00Z", "DEBUG", "download started", "D", "GET"))
	node.Line(l("2025-01-01T00:00:03Z", "INFO", "downloaded", "D", "GET"))

	want := `
# HELP storj_transfer_duration_seconds Duration of transfers, from pairing DEBUG 'started' lines with their outcome (empty at INFO level).
# TYPE storj_transfer_duration_seconds histogram
storj_transfer_duration_seconds_bucket{action="GET_AUDIT",node="n",result="success",le="0.05"} 0
storj_transfer_duration_seconds_bucket{action="GET_AUDIT",node="n",result="success",le="0.1"} 0
storj_transfer_duration_seconds_bucket{action="GET_AUDIT",node="n",result="success",le="0.25"} 1
storj_transfer_duration_seconds_bucket{action="GET_AUDIT",node="n",result="success",le="0.5"} 1
storj_transfer_duration_seconds_bucket{action="GET_AUDIT",node="n",result="success",le="1"} 1
storj_transfer_duration_seconds_bucket{action="GET_AUDIT",node="n",result="success",le="2.5"} 1
storj_transfer_duration_seconds_bucket{action="GET_AUDIT",node="n",result="success",le="5"} 1
storj_transfer_duration_seconds_bucket{action="GET_AUDIT",node="n",result="success",le="10"} 1
storj_transfer_duration_seconds_bucket{action="GET_AUDIT",node="n",result="success",le="30"} 1
storj_transfer_duration_seconds_bucket{action="GET_AUDIT",node="n",result="success",le="60"} 1
storj_transfer_duration_seconds_bucket{action="GET_AUDIT",node="n",result="success",le="300"} 1
storj_transfer_duration_seconds_bucket{action="GET_AUDIT",node="n",result="success",le="+Inf"} 1
storj_transfer_duration_seconds_sum{action="GET_AUDIT",node="n",result="success"} 0.25
storj_transfer_duration_seconds_count{action="GET_AUDIT",node="n",result="success"} 1
storj_transfer_duration_seconds_bucket{action="PUT",node="n",result="success",le="0.05"} 0
storj_transfer_duration_seconds_bucket{action="PUT",node="n",result="success",le="0.1"} 0
storj_transfer_duration_seconds_bucket{action="PUT",node="n",result="success",le="0.25"} 0
storj_transfer_duration_seconds_bucket{action="PUT",node="n",result="success",le="0.5"} 0
storj_transfer_duration_seconds_bucket{action="PUT",node="n",result="success",le="1"} 0
storj_transfer_duration_seconds_bucket{action="PUT",node="n",result="success",le="2.5"} 1
storj_transfer_duration_seconds_bucket{action="PUT",node="n",result="success",le="5"} 1
storj_transfer_duration_seconds_bucket{action="PUT",node="n",result="success",le="10"} 1
storj_transfer_duration_seconds_bucket{action="PUT",node="n",result="success",le="30"} 1
storj_transfer_duration_seconds_bucket{action="PUT",node="n",result="success",le="60"} 1
storj_transfer_duration_seconds_bucket{action="PUT",node="n",result="success",le="300"} 1
storj_transfer_duration_seconds_bucket{action="PUT",node="n",result="success",le="+Inf"} 1
storj_transfer_duration_seconds_sum{action="PUT",node="n",result="success"} 1.5
storj_transfer_duration_seconds_count{action="PUT",node="n",result="success"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "storj_transfer_duration_seconds"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(m.InFlight("n", "GET")); got != 1 { // B never finished
		t.Errorf("GET in flight %v", got)
	}
	if got := testutil.ToFloat64(m.InFlight("n", "PUT")); got != 0 {
		t.Errorf("PUT in flight %v", got)
	}
	// an hour later in log time, B is forgotten and counted as lost
	for i := range 20 {
		node.Line(l("2026-09-05T16:00:00Z", "DEBUG", "download started", fmt.Sprint("E", i), "GET"))
	}
	if got := testutil.ToFloat64(m.InFlight("n", "GET")); got != 20 {
		t.Errorf("GET in flight after expiry %v", got)
	}
}
