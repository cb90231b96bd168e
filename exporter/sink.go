package exporter

import "github.com/prometheus/client_golang/prometheus"

// SinkMetrics are the raw-event sink's health families. The sink's writer
// (cmd's live sink) updates them; exporter defines them, so that every
// metric family has one home, and neither package imports the other.
type SinkMetrics struct {
	// Dropped counts a stream's transfer events not written because the
	// buffer was full or their write failed:
	// storj_sink_dropped_events_total{node}.
	Dropped *prometheus.CounterVec
	// Lag is the events counted but not committed yet:
	// storj_sink_lag_events{node}.
	Lag *prometheus.GaugeVec
	// WriteErrors counts failed batches: storj_sink_write_errors_total.
	WriteErrors prometheus.Counter
	// FileLag is the bytes of a followed file not in the sink yet, set
	// after every write, failed ones included:
	// storj_sink_file_lag_bytes{node}.
	FileLag *prometheus.GaugeVec
}

// NewSinkMetrics creates the sink's families and registers them on reg.
func NewSinkMetrics(reg prometheus.Registerer) *SinkMetrics {
	m := &SinkMetrics{
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storj_sink_dropped_events_total",
			Help: "Transfer events of a TCP or stdin node not written to the sink: its buffer was full (the database fell behind) or their write failed.",
		}, []string{"node"}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "storj_sink_lag_events",
			Help: "Transfer events counted but not yet committed to the sink.",
		}, []string{"node"}),
		WriteErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "storj_sink_write_errors_total",
			Help: "Failed writes (batches) to the sink's database.",
		}),
		FileLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "storj_sink_file_lag_bytes",
			Help: "Bytes of a followed log file not yet in the sink (a last line without newline included).",
		}, []string{"node"}),
	}
	reg.MustRegister(m.Dropped, m.Lag, m.WriteErrors, m.FileLag)
	return m
}
