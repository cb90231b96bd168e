package exporter_test

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
	"github.com/storagenode-exporter/storagenode-exporter/report"
)

// storj_log_lines_unparsed_total counts by the reasons report gives, a line
// cut as too long (parser.ErrTooLong) under too_long; every reason's series
// exists from the start.
func TestUnparsedByReason(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"../report/testdata/fixture.log", "../testdata/logs/real-lines.txt"} {
		reg := prometheus.NewRegistry()
		m := exporter.NewLogMetrics(reg)
		n := m.ForNode("n", exporter.NodeOptions{})
		data := feed(t, n, path)
		n.Parsed(&parser.Event{}, parser.ErrTooLong)
		c := report.NewCounter()
		if err := c.Read(bytes.NewReader(data), 1); err != nil {
			t.Fatal(err)
		}
		c.TooLong()
		got, want := map[string]float64{}, map[string]float64{}
		for _, r := range parser.Reasons {
			want[r.String()] = float64(c.UnparsedBy[r])
		}
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "storj_log_lines_unparsed_total" {
				for _, mt := range mf.GetMetric() {
					got[labels(mt)["reason"]] = mt.GetCounter().GetValue()
				}
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-report +metrics):\n%s", path, d)
		}
		if want["too_long"] != 1 || want["header"] == 0 {
			t.Errorf("%s: the reasons counted are not the ones expected: %v", path, want)
		}
		if n := testutil.CollectAndCount(reg, "storj_log_lines_unparsed_total"); n != len(parser.Reasons) {
			t.Errorf("%d series, want one per reason", n)
		}
	}
}
