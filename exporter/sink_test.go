package exporter_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/storagenode-exporter/storagenode-exporter/exporter"
)

// The sink's families keep their names, help texts and labels, and lint
// clean.
func TestSinkMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	m := exporter.NewSinkMetrics(reg)
	m.Dropped.WithLabelValues("Piped").Add(3)
	m.Lag.WithLabelValues("Piped").Set(7)
	m.WriteErrors.Inc()
	m.FileLag.WithLabelValues("Local").Set(1234)
	const want = `# HELP storj_sink_dropped_events_total Transfer events of a TCP or stdin node not written to the sink: its buffer was full (the database fell behind) or their write failed.
# TYPE storj_sink_dropped_events_total counter
storj_sink_dropped_events_total{node="Piped"} 3
# HELP storj_sink_file_lag_bytes Bytes of a followed log file not yet in the sink (a last line without newline included).
# TYPE storj_sink_file_lag_bytes gauge
storj_sink_file_lag_bytes{node="Local"} 1234
# HELP storj_sink_lag_events Transfer events counted but not yet committed to the sink.
# TYPE storj_sink_lag_events gauge
storj_sink_lag_events{node="Piped"} 7
# HELP storj_sink_write_errors_total Failed writes (batches) to the sink's database.
# TYPE storj_sink_write_errors_total counter
storj_sink_write_errors_total 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
}
