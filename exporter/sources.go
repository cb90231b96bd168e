package exporter

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/storagenode-exporter/storagenode-exporter/tail"
)

// Source is a node's log source as the sources collector sees it. Every
// source of package source (File, TCP, Reader) and the demo's log are one.
type Source interface {
	// Up reports whether the source is open and readable.
	Up() bool
}

// FileSource is a source that follows a file (source.File): it also
// counts rotations, truncations and error episodes.
type FileSource interface {
	Source
	Stats() tail.Stats
}

// NodeSource is a node's name and its log source.
type NodeSource struct {
	Node   string
	Source Source
}

// SourceCollector reports each source's state at scrape time: up for every
// source, and rotations, truncations and errors for followed files.
type SourceCollector struct {
	up, rotations, truncations, errors *prometheus.Desc
	sources                            []NodeSource
}

var _ prometheus.Collector = (*SourceCollector)(nil)

// NewSourceCollector returns the collector of the sources' states.
func NewSourceCollector(sources []NodeSource) *SourceCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, []string{"node"}, nil)
	}
	return &SourceCollector{
		up:          d("storj_log_source_up", "Whether the node's log source is open and readable (1) or not (0)."),
		rotations:   d("storj_log_rotations_total", "Rename rotations and re-creations of the node's log file followed."),
		truncations: d("storj_log_truncations_total", "Truncations (copytruncate) of the node's log file followed."),
		errors:      d("storj_log_source_errors_total", "Episodes of errors (permission denied, ...) reading the node's log file."),
		sources:     append([]NodeSource(nil), sources...),
	}
}

// Describe sends the four descriptors.
func (c *SourceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.rotations
	ch <- c.truncations
	ch <- c.errors
}

// Collect sends every source's state.
func (c *SourceCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.sources {
		v := 0.0
		if s.Source.Up() {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, v, s.Node)
		if f, ok := s.Source.(FileSource); ok {
			st := f.Stats()
			ch <- prometheus.MustNewConstMetric(c.rotations, prometheus.CounterValue, float64(st.Rotations), s.Node)
			ch <- prometheus.MustNewConstMetric(c.truncations, prometheus.CounterValue, float64(st.Truncations), s.Node)
			ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(st.Errors), s.Node)
		}
	}
}
