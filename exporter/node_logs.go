package exporter

import (
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storagenode-exporter/storagenode-exporter/internal/satellites"
	"github.com/storagenode-exporter/storagenode-exporter/pairing"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// Countries maps a peer address to an ISO 3166 alpha-2 code ("ZZ" if
// unknown). geo.Lookup implements it.
type Countries interface {
	Country(addr netip.Addr) string
}

// NodeOptions configure a node's log counting.
type NodeOptions struct {
	Geo Countries // nil: every country is ZZ
	// Now is the clock used to time transfers that are followed live.
	Now func() time.Time
	// PairLimit bounds the table of started transfers waiting for their
	// outcome (default 100,000; package pairing).
	PairLimit int
	// OnOutcome, when set, is called for every transfer outcome that counts
	// (the raw-event sink writes them). It runs on the counting goroutine:
	// it must not block.
	OnOutcome func(Outcome)
	// OnEvent, when set, is called for upload rejections, reputation
	// lines and hashstore compaction lines (the sink's history rows). It
	// runs on the counting goroutine: it must not block.
	OnEvent func(*parser.Event)
	// Scores, when set, records the scores of `node scores updated` lines;
	// the node-API collector exports them while the API does not answer.
	Scores *ScoreBoard
}

// ScoreBoard keeps the last reputation scores each node's log reported, by
// satellite label value. It is safe for concurrent use.
type ScoreBoard struct {
	mu sync.Mutex
	m  map[string]map[string]Scores
}

var _ ScoreSource = (*ScoreBoard)(nil)

// NewScoreBoard returns an empty ScoreBoard.
func NewScoreBoard() *ScoreBoard { return &ScoreBoard{m: map[string]map[string]Scores{}} }

func (b *ScoreBoard) set(node, satellite string, s Scores) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m[node] == nil {
		b.m[node] = map[string]Scores{}
	}
	b.m[node][satellite] = s
}

// LogScores returns a copy of a node's scores by satellite.
func (b *ScoreBoard) LogScores(node string) map[string]Scores {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]Scores, len(b.m[node]))
	for k, v := range b.m[node] {
		out[k] = v
	}
	return out
}

// NodeLogs counts the lines of one node. Lines must come in log order from
// one goroutine: it is not safe for concurrent use.
type NodeLogs struct {
	m    *LogMetrics
	node string
	opts NodeOptions
	pair *pairing.Pairing  // rule 5, durations, in flight
	sats satellites.Labels // the satellite label values of the node's IDs

	lines    prometheus.Counter
	unparsed [int(parser.ReasonTooLong) + 1]prometheus.Counter // by parser.Reason
	levels   [int(parser.Fatal) + 1]prometheus.Counter
	lastTime prometheus.Gauge
	newest   time.Time

	outcomes map[outcomeKey]outcomeCounters
}

type outcomeKey struct {
	satellite string // label value
	action    parser.Action
	result    parser.Result
}

type outcomeCounters struct {
	transfers, bytes prometheus.Counter
}

func newNodeLogs(m *LogMetrics, node string, opts NodeOptions) *NodeLogs {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	n := &NodeLogs{
		m: m, node: node, opts: opts,
		lines:    m.lines.WithLabelValues(node),
		lastTime: m.lastTime.WithLabelValues(node),
		outcomes: map[outcomeKey]outcomeCounters{},
	}
	lost := m.pairsLost.WithLabelValues(node)
	n.pair = pairing.New(pairing.Options{Limit: opts.PairLimit, Now: opts.Now, Forget: func(a parser.Action) {
		m.inFlight.WithLabelValues(node, a.String()).Dec()
		lost.Inc()
	}})
	for _, l := range parser.Levels {
		n.levels[l] = m.messages.WithLabelValues(node, l.String())
	}
	for _, r := range parser.Reasons {
		n.unparsed[r] = m.unparsed.WithLabelValues(node, r.String())
	}
	return n
}

// Outcome is a transfer outcome that counts under the outcome rules.
type Outcome struct {
	Event    *parser.Event
	Result   parser.Result
	Country  string        // ISO alpha-2 of the peer; "" when the line has no address
	Duration time.Duration // when Timed: from pairing with its DEBUG start
	Timed    bool
}

// sat is the satellite label value of an ID: bounded per node
// (satellites.Labels), whatever the log names.
func (n *NodeLogs) sat(id string) string { return n.sats.Label(id) }

// Store label values: the hashstore's two stores, else these.
const (
	storeUnknown = satellites.Unknown // the line names none
	storeOther   = otherLabel         // neither s0 nor s1
)

// Line counts one line (without its newline). It never fails: a line that
// is not a storagenode line is counted as unparsed.
func (n *NodeLogs) Line(line []byte) {
	ev, err := parser.Parse(line)
	n.Parsed(&ev, err)
}

// Parsed counts a line already parsed: ev and err are what parser.Parse
// returned for it. A line its reader cut as too long is counted with err
// parser.ErrTooLong, unparsed.
func (n *NodeLogs) Parsed(ev *parser.Event, err error) {
	n.lines.Inc()
	if err != nil {
		var se *parser.SyntaxError
		switch {
		case errors.Is(err, parser.ErrBlank):
		case errors.As(err, &se) && int(se.Reason) < len(n.unparsed) && n.unparsed[se.Reason] != nil:
			n.unparsed[se.Reason].Inc()
		default: // not returned by Parse
			n.m.unparsed.WithLabelValues(n.node, "unknown").Inc()
		}
		return
	}
	n.Event(ev)
}

// Event counts one parsed event.
func (n *NodeLogs) Event(ev *parser.Event) {
	if int(ev.Level) < len(n.levels) && n.levels[ev.Level] != nil {
		n.levels[ev.Level].Inc()
	}
	if ev.Time.After(n.newest) {
		n.newest = ev.Time
		n.lastTime.Set(float64(ev.Time.UnixNano()) / 1e9)
	}
	n.pair.See(ev.Time)
	m := n.m
	if n.opts.OnEvent != nil && (ev.Kind == parser.KindUploadRejected || ev.Kind == parser.KindReputation || ev.Kind == parser.KindCompaction) {
		n.opts.OnEvent(ev)
	}
	switch ev.Kind {
	case parser.KindTransferStarted:
		if n.pair.Start(ev) {
			m.inFlight.WithLabelValues(n.node, ev.Action.String()).Inc()
		}
	case parser.KindTransferOutcome:
		if o := n.pair.Outcome(ev); o.Counted {
			n.outcome(ev, o)
		}
	case parser.KindUploadRejected:
		m.rejected.WithLabelValues(n.node).Inc()
	case parser.KindPingFailed:
		m.pingFailures.WithLabelValues(n.node, n.sat(ev.Satellite)).Inc()
	case parser.KindReputation:
		if sat := n.sat(ev.Satellite); n.opts.Scores != nil && satellites.Own(sat) {
			r := ev.Reputation
			n.opts.Scores.set(n.node, sat, Scores{Audit: r.AuditScore, Suspension: r.SuspensionScore, Online: r.OnlineScore})
		}
	case parser.KindCompaction:
		n.compaction(ev)
	case parser.KindRetain:
		r, sat := ev.Retain, n.sat(ev.Satellite)
		switch r.Phase {
		case parser.Finished:
			m.retainRuns.WithLabelValues(n.node, sat, "success").Inc()
			m.retainTrashed.WithLabelValues(n.node, sat).Add(float64(r.Deleted))
			m.retainFailed.WithLabelValues(n.node, sat).Add(float64(r.Failed))
			if satellites.Own(sat) { // a gauge of one satellite: not of several
				m.retainDuration.WithLabelValues(n.node, sat).Set(r.Duration.Seconds())
			}
		case parser.PhaseFailed:
			m.retainRuns.WithLabelValues(n.node, sat, "failed").Inc()
		}
	case parser.KindFilewalker:
		w := ev.Walker
		switch w.Phase {
		case parser.Finished:
			m.walkerRuns.WithLabelValues(n.node, w.Name.String(), "success").Inc()
			if sat := n.sat(ev.Satellite); w.Name == parser.WalkerUsedSpace && satellites.Own(sat) {
				m.usedSpace.WithLabelValues(n.node, sat).Set(float64(w.TotalBytes))
				m.walkerDuration.WithLabelValues(n.node, w.Name.String(), sat).Set(w.Duration.Seconds())
			}
			if w.Trashed > 0 {
				m.walkerTrashed.WithLabelValues(n.node, w.Name.String()).Add(float64(w.Trashed))
			}
		case parser.PhaseFailed:
			m.walkerRuns.WithLabelValues(n.node, w.Name.String(), "failed").Inc()
		}
	case parser.KindTrash:
		switch ev.Trash.Phase {
		case parser.Finished:
			m.trashRuns.WithLabelValues(n.node, "success").Inc()
			if sat := n.sat(ev.Satellite); satellites.Own(sat) {
				m.trashDuration.WithLabelValues(n.node, sat).Set(ev.Trash.Elapsed.Seconds())
			}
		case parser.PhaseFailed:
			m.trashRuns.WithLabelValues(n.node, "failed").Inc()
		}
	case parser.KindExpired:
		x := ev.Expired
		switch x.Phase {
		case parser.Finished:
			m.expiredRuns.WithLabelValues(n.node, "success").Inc()
		case parser.PhaseFailed:
			m.expiredRuns.WithLabelValues(n.node, "failed").Inc()
		}
		if x.Phase != parser.Started && x.Count > 0 {
			m.expiredPieces.WithLabelValues(n.node).Add(float64(x.Count))
		}
	}
}

func (n *NodeLogs) outcome(ev *parser.Event, o pairing.Outcome) {
	res := o.Result
	if o.Paired {
		n.m.inFlight.WithLabelValues(n.node, ev.Action.String()).Dec()
	}
	act := ev.Action
	if act != parser.GET && act != parser.GETAudit && act != parser.GETRepair && act != parser.PUT && act != parser.PUTRepair {
		return // no action, or one that is not a transfer's: nothing to label it with
	}
	k := outcomeKey{n.sat(ev.Satellite), act, res} // bounded: as many as the labels
	c, ok := n.outcomes[k]
	if !ok {
		c = outcomeCounters{
			transfers: n.m.transfers.WithLabelValues(n.node, k.satellite, act.String(), res.String()),
			bytes:     n.m.bytes.WithLabelValues(n.node, k.satellite, act.String(), res.String()),
		}
		n.outcomes[k] = c
	}
	c.transfers.Inc()
	size := ev.Size
	if res == parser.Canceled && ev.Reason != "" {
		if r, sent := parser.ClassifyReason(ev.Reason); r == parser.ReasonSizeMismatch {
			size = sent
		}
	}
	if size > 0 {
		c.bytes.Add(float64(size))
	}
	if res == parser.Success && ev.HasSize {
		n.m.size.WithLabelValues(n.node, act.String()).Observe(float64(ev.Size))
	}
	if ev.Error != "" {
		n.m.errors.WithLabelValues(n.node, act.String(), parser.ClassifyError(ev.Error).String()).Inc()
	}
	country := ""
	if ev.Remote.IsValid() {
		country = "ZZ"
		if n.opts.Geo != nil {
			country = n.opts.Geo.Country(ev.Remote.Addr())
		}
		n.m.byCountry.WithLabelValues(n.node, act.String(), country).Inc()
	}
	if o.Timed {
		n.m.duration.WithLabelValues(n.node, act.String(), res.String()).Observe(o.Duration.Seconds())
	}
	if n.opts.OnOutcome != nil {
		n.opts.OnOutcome(Outcome{Event: ev, Result: res, Country: country, Duration: o.Duration, Timed: o.Timed})
	}
}

func (n *NodeLogs) compaction(ev *parser.Event) {
	c, m := ev.Compaction, n.m
	sat, store := n.sat(ev.Satellite), c.Store
	switch store {
	case "s0", "s1":
	case "":
		store = storeUnknown
	default:
		store = storeOther
	}
	one := satellites.Own(sat) && store != storeOther // gauges are of one store
	switch {
	case ev.Message == "finished compaction": // `compaction failed` repeats a failure it reports too
		result := "success"
		if c.Phase == parser.PhaseFailed {
			result = "failed"
		}
		m.compactions.WithLabelValues(n.node, sat, store, result).Inc()
		if c.Duration > 0 {
			m.compactionSeconds.WithLabelValues(n.node, sat, store).Add(c.Duration.Seconds())
			if one {
				m.compactionLast.WithLabelValues(n.node, sat, store).Set(c.Duration.Seconds())
			}
		}
	case ev.Message == "hashtbl rewritten":
		m.compactRewritten.WithLabelValues(n.node, sat, store).Add(float64(max(c.Rewritten, 0)))
		m.compactReclaimed.WithLabelValues(n.node, sat, store).Add(float64(max(c.Reclaimed, 0)))
	}
	if c.HasStats && one {
		m.hashstoreLogBytes.WithLabelValues(n.node, sat, store).Set(float64(c.LogsBytes))
		m.hashstoreTrash.WithLabelValues(n.node, sat, store).Set(float64(c.TrashBytes))
		m.hashstoreReclaim.WithLabelValues(n.node, sat, store).Set(float64(c.DataReclaimable))
	}
}

// Pending returns the started transfers waiting for their outcome.
func (n *NodeLogs) Pending() int { return n.pair.Pending() }

// Pairing returns the node's pairing of transfers, whose outcomes the
// counted lines got: the sink commits its state with their rows. It may
// only be used between two lines.
func (n *NodeLogs) Pairing() *pairing.Pairing { return n.pair }

// LoadPairing starts the pairing from a saved state (pairing.AppendState's
// bytes; the sink's, where it holds the log up to the point the lines now
// start at), before any line is counted.
func (n *NodeLogs) LoadPairing(state []byte) error {
	if err := n.pair.Load(state); err != nil {
		return err
	}
	for _, a := range []parser.Action{parser.GET, parser.GETAudit, parser.GETRepair, parser.PUT, parser.PUTRepair, parser.ActionDelete} {
		if k := n.pair.InFlight(a); k > 0 {
			n.m.inFlight.WithLabelValues(n.node, a.String()).Add(float64(k))
		}
	}
	return nil
}
