// Package exporter turns parsed log events into Prometheus metrics. The
// metric names and labels are a public interface (see the README table):
// dashboards, alert rules and users' queries depend on them.
package exporter

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/storagenode-exporter/storagenode-exporter/internal/satellites"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// Buckets of storj_transfer_size_bytes: Storj pieces run from 256 B audits
// to 2,319,360 B (a 64 MiB segment over 29 pieces).
var sizeBuckets = []float64{256, 1024, 4096, 16384, 65536, 262144, 524288, 1048576, 2319360}

// Buckets of storj_transfer_duration_seconds.
var durationBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}

// knownSatellites are the active satellites' names, pre-created so that
// rate() works from the first scrape.
var knownSatellites = func() []string {
	var names []string
	for _, s := range satellites.Active() {
		names = append(names, s.Name)
	}
	return names
}()

// LogMetrics owns every log-derived metric family. Create it once per
// registry; each node gets a NodeLogs from ForNode.
type LogMetrics struct {
	transfers    *prometheus.CounterVec
	bytes        *prometheus.CounterVec
	byCountry    *prometheus.CounterVec
	size         *prometheus.HistogramVec
	duration     *prometheus.HistogramVec
	inFlight     *prometheus.GaugeVec
	errors       *prometheus.CounterVec
	rejected     *prometheus.CounterVec
	pingFailures *prometheus.CounterVec

	compactions       *prometheus.CounterVec
	compactionSeconds *prometheus.CounterVec
	compactionLast    *prometheus.GaugeVec
	compactRewritten  *prometheus.CounterVec
	compactReclaimed  *prometheus.CounterVec
	hashstoreLogBytes *prometheus.GaugeVec
	hashstoreTrash    *prometheus.GaugeVec
	hashstoreReclaim  *prometheus.GaugeVec

	retainRuns     *prometheus.CounterVec
	retainTrashed  *prometheus.CounterVec
	retainFailed   *prometheus.CounterVec
	retainDuration *prometheus.GaugeVec

	walkerRuns     *prometheus.CounterVec
	walkerDuration *prometheus.GaugeVec
	walkerTrashed  *prometheus.CounterVec
	usedSpace      *prometheus.GaugeVec

	trashRuns     *prometheus.CounterVec
	trashDuration *prometheus.GaugeVec
	expiredRuns   *prometheus.CounterVec
	expiredPieces *prometheus.CounterVec

	lines     *prometheus.CounterVec
	unparsed  *prometheus.CounterVec
	messages  *prometheus.CounterVec
	lastTime  *prometheus.GaugeVec
	pairsLost *prometheus.CounterVec
}

// NewLogMetrics creates the families and registers them on reg.
func NewLogMetrics(reg prometheus.Registerer) *LogMetrics {
	cv := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		reg.MustRegister(v)
		return v
	}
	gv := func(name, help string, labels ...string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
		reg.MustRegister(v)
		return v
	}
	hv := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
		reg.MustRegister(v)
		return v
	}
	return &LogMetrics{
		transfers:    cv("storj_transfers_total", "Transfer outcomes from piecestore log lines, by satellite, action and result (success, canceled, failed).", "node", "satellite", "action", "result"),
		bytes:        cv("storj_transfer_bytes_total", "Bytes of the size field of transfer outcome lines (for a download cancel that says how much was sent, that amount).", "node", "satellite", "action", "result"),
		byCountry:    cv("storj_transfers_by_country_total", "Transfer outcomes by the ISO 3166 alpha-2 country of the remote address (ZZ: private, reserved or unknown); lines without an address are not counted here.", "node", "action", "country"),
		size:         hv("storj_transfer_size_bytes", "Size of successful transfers.", sizeBuckets, "node", "action"),
		duration:     hv("storj_transfer_duration_seconds", "Duration of transfers, from pairing DEBUG 'started' lines with their outcome (empty at INFO level).", durationBuckets, "node", "action", "result"),
		inFlight:     gv("storj_transfers_in_flight", "Transfers started (DEBUG 'started' line) and not finished yet.", "node", "action"),
		errors:       cv("storj_transfer_errors_total", "Transfer outcomes that carry an error, by error class.", "node", "action", "error"),
		rejected:     cv("storj_uploads_rejected_total", "Uploads rejected because of too many concurrent requests.", "node"),
		pingFailures: cv("storj_satellite_ping_failures_total", "Failed pings to a satellite ('ping satellite failed').", "node", "satellite"),

		compactions:       cv("storj_hashstore_compactions_total", "Hashstore compactions finished, by result (success, failed).", "node", "satellite", "store", "result"),
		compactionSeconds: cv("storj_hashstore_compaction_seconds_total", "Time spent in finished hashstore compactions.", "node", "satellite", "store"),
		compactionLast:    gv("storj_hashstore_compaction_last_duration_seconds", "Duration of the last finished hashstore compaction.", "node", "satellite", "store"),
		compactRewritten:  cv("storj_hashstore_rewritten_bytes_total", "Bytes rewritten by hashstore compactions (approximate: from size strings).", "node", "satellite", "store"),
		compactReclaimed:  cv("storj_hashstore_reclaimed_bytes_total", "Bytes reclaimed by hashstore compactions (approximate: from size strings).", "node", "satellite", "store"),
		hashstoreLogBytes: gv("storj_hashstore_log_bytes", "Bytes in a hashstore's log files, as of its last compaction line.", "node", "satellite", "store"),
		hashstoreTrash:    gv("storj_hashstore_trash_bytes", "Bytes of trash records in a hashstore, as of its last compaction line.", "node", "satellite", "store"),
		hashstoreReclaim:  gv("storj_hashstore_reclaimable_bytes", "Bytes a hashstore compaction could reclaim, as of its last compaction line.", "node", "satellite", "store"),

		retainRuns:     cv("storj_retain_runs_total", "Garbage-collection (retain) runs, by result (success, failed).", "node", "satellite", "result"),
		retainTrashed:  cv("storj_retain_pieces_trashed_total", "Pieces moved to trash by garbage collection.", "node", "satellite"),
		retainFailed:   cv("storj_retain_pieces_failed_total", "Pieces garbage collection failed to move to trash.", "node", "satellite"),
		retainDuration: gv("storj_retain_last_duration_seconds", "Duration of the last garbage-collection run.", "node", "satellite"),

		walkerRuns:     cv("storj_filewalker_runs_total", "Filewalker runs by walker (used-space, gc, trash-cleanup) and result (success, failed).", "node", "walker", "result"),
		walkerDuration: gv("storj_filewalker_last_duration_seconds", "Duration of the last used-space walk of a satellite.", "node", "walker", "satellite"),
		walkerTrashed:  cv("storj_filewalker_pieces_trashed_total", "Pieces trashed by the gc filewalker, or deleted by the trash-cleanup filewalker.", "node", "walker"),
		usedSpace:      gv("storj_filewalker_used_space_bytes", "Bytes of pieces of a satellite as the last used-space walk counted them.", "node", "satellite"),

		trashRuns:     cv("storj_trash_empty_runs_total", "Trash emptying runs, by result (success, failed).", "node", "result"),
		trashDuration: gv("storj_trash_empty_last_duration_seconds", "Duration of the last trash emptying of a satellite.", "node", "satellite"),
		expiredRuns:   cv("storj_expired_collections_total", "Expired-piece collections, by result (success, failed).", "node", "result"),
		expiredPieces: cv("storj_expired_pieces_deleted_total", "Expired pieces deleted by the collector.", "node"),

		lines:     cv("storj_log_lines_total", "Log lines read, blank and unparsed ones included.", "node"),
		unparsed:  cv("storj_log_lines_unparsed_total", "Non-blank lines that are not storagenode log lines, by reason (header, columns, fields, json, foreign; too_long: longer than --max-line-length, cut and not parsed).", "node", "reason"),
		messages:  cv("storj_log_messages_total", "Storagenode log lines by level.", "node", "level"),
		lastTime:  gv("storj_log_last_timestamp_seconds", "Time of the newest log line read.", "node"),
		pairsLost: cv("storj_exporter_transfer_pairs_expired_total", "DEBUG 'started' lines whose outcome never came (forgotten after an hour or when the table was full).", "node"),
	}
}

// ForNode returns the handle that counts one node's lines, with every
// known label combination created at zero.
func (m *LogMetrics) ForNode(node string, opts NodeOptions) *NodeLogs {
	n := newNodeLogs(m, node, opts)
	for _, a := range parser.TransferActions {
		for _, r := range parser.Results {
			for _, s := range knownSatellites {
				m.transfers.WithLabelValues(node, s, a.String(), r.String())
				m.bytes.WithLabelValues(node, s, a.String(), r.String())
			}
		}
		m.size.WithLabelValues(node, a.String())
		m.inFlight.WithLabelValues(node, a.String())
	}
	m.rejected.WithLabelValues(node)
	for _, l := range parser.Levels {
		m.messages.WithLabelValues(node, l.String())
	}
	m.lines.WithLabelValues(node)
	for _, r := range parser.Reasons {
		m.unparsed.WithLabelValues(node, r.String())
	}
	m.pairsLost.WithLabelValues(node)
	return n
}

// InFlight returns the in-flight gauge of a node and action (for tests).
func (m *LogMetrics) InFlight(node, action string) prometheus.Gauge {
	return m.inFlight.WithLabelValues(node, action)
}
