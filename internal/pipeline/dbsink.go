package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
	"github.com/storagenode-exporter/storagenode-exporter/tail"
)

// liveSink writes what serve reads into the sink, never slowing the
// metrics. A followed file's lines go to the sink as they are counted, by
// a sink.Feed per file node (DBSink): the file is read and paired once,
// and when the sink falls behind (a slow disk) the Feed catches up from
// the sink's committed position by reading the file itself, losing
// nothing. For TCP and stdin sources, which cannot be read again, the
// counting goroutines hand the outcomes they count over without ever
// blocking and a writer goroutine commits them in batches; when the writer
// falls behind and the bounded buffer is full, events are dropped and
// counted in storj_sink_dropped_events_total.
type liveSink struct {
	db        *sink.DB
	log       *slog.Logger
	retention time.Duration
	ch        chan sink.Event

	dropped *prometheus.CounterVec
	lag     *prometheus.GaugeVec
	errors  prometheus.Counter
	fileLag *prometheus.GaugeVec
	pending sync.Map // node -> *atomic.Int64: events handed over, not yet committed

	// The few other rows (rejections, reputation, compactions, storage
	// snapshots) wait here for the next batch; a bounded count of them.
	reading sync.Mutex // one followed file is caught up at a time: bounded memory
	mu      sync.Mutex
	history sink.Batch
	pollers []*nodeapi.Poller
	polled  map[string]time.Time  // last API poll written, by node
	stubs   map[string]time.Time  // last paystubs written (Snapshot.PaystubsTime), by node
	locks   map[string]*sink.Lock // by node (lock)
	feeds   map[string]*sink.Feed // of the file nodes, by node (DBSink)

	keptMu sync.Mutex
	kept   map[paystubOf]map[paystubKey]nodeapi.Paystub // the paystubs the database holds
}

// maxHistory bounds the non-event rows waiting for a batch.
const maxHistory = 10_000

const (
	sinkBuffer   = 8192 // events waiting for the writer, all nodes together (~2 MB)
	sinkBatch    = 4096
	sinkInterval = time.Second
)

func newLiveSink(db *sink.DB, retention time.Duration, reg prometheus.Registerer, logger *slog.Logger) *liveSink {
	m := exporter.NewSinkMetrics(reg)
	s := &liveSink{
		db: db, log: logger, retention: retention, polled: map[string]time.Time{}, stubs: map[string]time.Time{},
		ch:      make(chan sink.Event, sinkBuffer),
		dropped: m.Dropped, lag: m.Lag, errors: m.WriteErrors, fileLag: m.FileLag,
		kept: map[paystubOf]map[paystubKey]nodeapi.Paystub{},
	}
	sel, err := db.Select(context.Background(), "", time.Time{})
	var stored []sink.Paystub
	if err == nil {
		stored, err = sel.Paystubs(context.Background())
	}
	if err != nil {
		logger.Warn("sink: the stored paystubs cannot be read; the earnings sums count the node's alone", "db", db.Path(), "err", err)
	}
	s.keep(stored)
	return s
}

// paystubOf and paystubKey key the kept paystubs: a node's name and
// identity, a satellite and period.
type (
	paystubOf  struct{ node, id string }
	paystubKey struct{ sat, period string }
)

// keep adds stored paystubs to those the node-API collector counts.
func (s *liveSink) keep(stubs []sink.Paystub) {
	s.keptMu.Lock()
	defer s.keptMu.Unlock()
	for _, p := range stubs {
		of := paystubOf{p.Node, p.NodeID}
		if s.kept[of] == nil {
			s.kept[of] = map[paystubKey]nodeapi.Paystub{}
		}
		s.kept[of][paystubKey{p.SatelliteID, p.Period}] = p.Paystub
	}
}

// PaystubHistory returns the paystubs the database holds of a node
// (PaystubKeeper): the earnings sums count those of the months
// the node no longer returns.
func (s *liveSink) PaystubHistory(node, nodeID string) []nodeapi.Paystub {
	s.keptMu.Lock()
	defer s.keptMu.Unlock()
	m := s.kept[paystubOf{node, nodeID}]
	out := make([]nodeapi.Paystub, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	return out
}

// lock takes each node's serve lock of the database (sink.Acquire): one
// process writes a node's logs at a time. The error of a node another
// process writes names that process. The locks are released when the
// database is closed.
func (s *liveSink) lock(ctx context.Context, nodes []NodeSpec) error {
	s.locks = map[string]*sink.Lock{}
	for _, n := range nodes {
		l, err := s.db.Acquire(ctx, n.Name, sink.RoleServe)
		if err != nil {
			return err
		}
		s.locks[n.Name] = l
	}
	return nil
}

func (s *liveSink) counter(node string) *atomic.Int64 {
	v, _ := s.pending.LoadOrStore(node, new(atomic.Int64))
	return v.(*atomic.Int64)
}

// forNode returns the OnOutcome hook of a node.
func (s *liveSink) forNode(node string) func(exporter.Outcome) {
	s.dropped.WithLabelValues(node)
	lag := s.lag.WithLabelValues(node)
	pending := s.counter(node)
	return func(o exporter.Outcome) {
		e := sink.EventFrom(node, o.Event, o.Result, o.Country)
		e.Duration, e.Timed = o.Duration, o.Timed
		if e.Time.IsZero() { // a log without times: when it was read
			e.Time = time.Now()
		}
		select {
		case s.ch <- e:
			lag.Set(float64(pending.Add(1)))
		default:
			s.dropped.WithLabelValues(node).Inc()
		}
	}
}

// onEvent is the OnEvent hook of a node: rejections, reputation lines and
// finished compactions become history rows.
func (s *liveSink) onEvent(node string) func(*parser.Event) {
	return func(ev *parser.Event) {
		t := ev.Time
		if t.IsZero() {
			t = time.Now()
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		b := &s.history
		if len(b.Rejections)+len(b.Reputation)+len(b.Compactions) >= maxHistory {
			s.dropped.WithLabelValues(node).Inc()
			return
		}
		switch ev.Kind {
		case parser.KindUploadRejected:
			b.Rejections = append(b.Rejections, sink.Rejection{Time: t, Node: node})
		case parser.KindReputation:
			if ev.Satellite != "" {
				r := sink.ReputationFrom(node, ev)
				r.Time = t
				b.Reputation = append(b.Reputation, r)
			}
		case parser.KindCompaction:
			c := ev.Compaction
			if ev.Message == "finished compaction" && c != nil {
				b.Compactions = append(b.Compactions, sink.Compaction{Time: t, Node: node, Satellite: ev.Satellite,
					Store: c.Store, Duration: c.Duration, TrashPercent: 100 * c.TrashFraction, HasTrash: c.HasStats})
			}
		}
	}
}

// pollAPI adds a storage snapshot and the reputation of every satellite
// for each node-API poll not written yet, and the paystubs of each request
// of them not written yet (the sink stores each once per period).
func (s *liveSink) pollAPI() {
	for _, p := range s.pollers {
		snap := p.Snapshot()
		if snap.Paystubs != nil && snap.PaystubsTime.After(s.stubs[snap.Node]) {
			s.stubs[snap.Node] = snap.PaystubsTime
			s.mu.Lock()
			var id string
			if snap.Dashboard != nil {
				id = snap.Dashboard.NodeID
			}
			for _, ps := range snap.Paystubs {
				s.history.Paystubs = append(s.history.Paystubs, sink.Paystub{Node: snap.Node, NodeID: id, Paystub: ps})
			}
			s.mu.Unlock()
		}
		if !snap.Up || snap.Dashboard == nil || !snap.LastSuccess.After(s.polled[snap.Node]) {
			continue
		}
		s.polled[snap.Node] = snap.LastSuccess
		d := snap.Dashboard
		disk := d.Disk()
		s.mu.Lock()
		s.history.Snapshots = append(s.history.Snapshots, sink.StorageSnapshot{Time: snap.LastSuccess, Node: snap.Node,
			Total: disk.Allocated, Used: disk.Used, Available: disk.Free, TrashUsed: disk.Trash})
		for _, st := range d.Satellites {
			r := sink.Reputation{Time: snap.LastSuccess, Node: snap.Node, Satellite: st.ID, Source: "api",
				Disqualified: st.Disqualified != nil, Suspended: st.Suspended != nil}
			if det := snap.Satellites[st.ID]; det != nil && det.Audits != nil {
				r.AuditScore, r.SuspensionScore, r.OnlineScore = det.Audits.AuditScore, det.Audits.SuspensionScore, det.Audits.OnlineScore
			}
			s.history.Reputation = append(s.history.Reputation, r)
		}
		s.mu.Unlock()
	}
}

// takeHistory returns the waiting history rows, or nil.
func (s *liveSink) takeHistory() *sink.Batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.history
	if len(b.Rejections)+len(b.Reputation)+len(b.Compactions)+len(b.Snapshots)+len(b.Paystubs) == 0 {
		return nil
	}
	s.history = sink.Batch{}
	return &b
}

// run writes batches until ctx is done, then the last one with a fresh
// context. It prunes events older than the retention every hour.
func (s *liveSink) run(ctx context.Context) {
	tick := time.NewTicker(sinkInterval)
	defer tick.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	s.prune(ctx)
	batch := make([]sink.Event, 0, sinkBatch)
	failing := false
	flush := func(ctx context.Context) {
		s.pollAPI()
		hist := s.takeHistory()
		if len(batch) == 0 && hist == nil {
			return
		}
		var err error
		if len(batch) > 0 {
			err = s.db.WriteBatch(ctx, batch, nil)
		}
		if hist != nil && err == nil {
			err = s.db.Write(ctx, hist)
		}
		if hist != nil {
			s.paystubsWritten(hist, err)
		}
		switch {
		case err != nil:
			s.errors.Inc()
			if !failing {
				s.log.Error("sink: write failed; events of this batch are lost", "db", s.db.Path(), "events", len(batch), "err", err)
				failing = true
			}
		case failing:
			s.log.Info("sink: writing again", "db", s.db.Path())
			failing = false
		}
		for _, e := range batch {
			c := s.counter(e.Node)
			s.lag.WithLabelValues(e.Node).Set(float64(c.Add(-1)))
			if err != nil { // a stream cannot be read again: they are lost
				s.dropped.WithLabelValues(e.Node).Inc()
			}
		}
		batch = batch[:0]
	}
	for {
		select {
		case e := <-s.ch:
			batch = append(batch, e)
			if len(batch) >= sinkBatch {
				flush(ctx)
			}
		case <-tick.C:
			flush(ctx)
		case <-prune.C:
			s.prune(ctx)
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			for {
				select {
				case e := <-s.ch:
					batch = append(batch, e)
					if len(batch) >= sinkBatch {
						flush(final)
					}
					continue
				default:
				}
				break
			}
			flush(final)
			cancel()
			return
		}
	}
}

// paystubsWritten logs what a write did with the node API's paystubs; after
// a failed one, they are taken again at the next batch.
func (s *liveSink) paystubsWritten(b *sink.Batch, err error) {
	if err != nil {
		for _, p := range b.Paystubs {
			delete(s.stubs, p.Node)
		}
		return
	}
	s.keep(b.Paystubs)
	level := slog.LevelDebug
	if b.PaystubsAdded > 0 || len(b.PaystubsRevised) > 0 {
		level = slog.LevelInfo
	}
	s.log.Log(context.Background(), level, "sink: paystubs written", "db", s.db.Path(), "returned", len(b.Paystubs),
		"new", b.PaystubsAdded, "revised", len(b.PaystubsRevised))
	for _, p := range b.PaystubsRevised {
		s.log.Info("sink: the node returned other figures for a stored paystub; stored its figures", "node", p.Node,
			"satellite", p.SatelliteID, "period", p.Period, "paid", p.Paid, "held", p.Held, "disposed", p.Disposed, "distributed", p.Distributed)
	}
}

func (s *liveSink) prune(ctx context.Context) {
	if s.retention <= 0 {
		return
	}
	n, err := s.db.Prune(ctx, time.Now().Add(-s.retention))
	if err != nil {
		s.log.Warn("sink: pruning failed", "db", s.db.Path(), "err", err)
		return
	}
	if n > 0 {
		s.log.Info("sink: pruned old events", "events", n, "retention", s.retention)
	}
}

// fileCommitted returns what a file node's Feed tells after each write:
// the file's lag, and a failed write, logged when writing starts and stops
// failing.
func (s *liveSink) fileCommitted(node, path string) func(int64, error) {
	logger := s.log.With("node", node, "path", path)
	lag := s.fileLag.WithLabelValues(node)
	failing := false
	return func(lagBytes int64, err error) {
		lag.Set(float64(lagBytes)) // after a failed write too: what the sink does not hold
		switch {
		case err != nil:
			s.errors.Inc()
			if !failing {
				logger.Error("sink: reading the log into the database failed; retrying", "err", err)
				failing = true
			}
		case failing:
			logger.Info("sink: writing again")
			failing = false
		}
	}
}

// DBSink is serve's live sink (serve --db), a FileSink: it writes what
// the pipeline reads into the sink's database, never slowing the metrics.
// NewDBSink makes one.
type DBSink struct {
	*liveSink
	fromBeginning bool
	maxLine       int
}

// DBSinkOptions configure NewDBSink.
type DBSinkOptions struct {
	// Retention is how long the sink keeps events (pruned every hour);
	// 0 keeps them all.
	Retention time.Duration
	// FromBeginning: a followed file the sink holds nothing of is read
	// from its start (else from its end).
	FromBeginning bool
	// MaxLine is the longest line a catch-up read of a followed file holds,
	// as its follower's (Options.MaxLine; 0: logfile.DefaultMaxLine).
	MaxLine int
	// Registry gets the sink's families (storj_sink_*).
	Registry prometheus.Registerer
	Logger   *slog.Logger
}

// NewDBSink returns the live sink of db for nodes, after taking each
// node's serve lock of db (sink.Acquire): one process writes a node's logs
// at a time, and the error of a node another process writes names that
// process. The locks are released when db is closed, which the caller does
// after Run has returned.
func NewDBSink(ctx context.Context, db *sink.DB, nodes []NodeSpec, opts DBSinkOptions) (*DBSink, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	live := newLiveSink(db, opts.Retention, opts.Registry, logger)
	if err := live.lock(ctx, nodes); err != nil {
		return nil, err
	}
	return &DBSink{live, opts.FromBeginning, opts.MaxLine}, nil
}

// Hooks hands a node's counted outcomes and events to the sink: to the
// node's Feed for a followed file (its lines are read once), else through
// the bounded buffer of a stream.
func (s *DBSink) Hooks(n NodeSpec) (func(exporter.Outcome), func(*parser.Event)) {
	if n.Kind != SourceFile || n.Log != nil {
		return s.forNode(n.Name), s.onEvent(n.Name)
	}
	if s.feeds == nil {
		s.feeds = map[string]*sink.Feed{}
	}
	f := s.db.NewFeed(n.Name, n.Source, sink.FeedOptions{Lock: s.locks[n.Name], CatchUp: &s.reading, BatchRows: sinkBatch,
		OnCommit: s.fileCommitted(n.Name, n.Source), MaxLine: s.maxLine})
	s.feeds[n.Name] = f
	return func(o exporter.Outcome) {
			e := sink.EventFrom(n.Name, o.Event, o.Result, o.Country)
			e.Duration, e.Timed = o.Duration, o.Timed
			f.Outcome(e)
		}, func(ev *parser.Event) {
			f.Event(ev)
		}
}

// Follow starts a file node's Feed where the sink holds its log, the
// counting path's pairing from the state saved there, and counts each line
// into both.
func (s *DBSink) Follow(ctx context.Context, n NodeSpec, logs *exporter.NodeLogs) func([]byte, tail.Pos) {
	f := s.feeds[n.Name]
	if f == nil {
		return nil
	}
	logger := s.log.With("node", n.Name, "path", n.Source)
	if state, err := f.Start(ctx, s.fromBeginning); err != nil {
		logger.Error("sink: cannot follow the log file", "err", err)
	} else if state != nil {
		if err := logs.LoadPairing(state); err != nil {
			logger.Warn("sink: the saved pairing state is not usable; starting afresh", "err", err)
		}
	}
	f.UsePairing(logs.Pairing())
	return func(line []byte, pos tail.Pos) {
		f.Lock()
		if pos.TooLong {
			logs.Parsed(&parser.Event{}, parser.ErrTooLong)
		} else {
			logs.Line(line)
		}
		f.Advance(pos)
		f.Unlock()
	}
}

// Run writes each file node's Feed and the streams' batches until ctx is
// done.
func (s *DBSink) Run(ctx context.Context, nodes []NodeSpec, pollers []*nodeapi.Poller, geo sink.Countries) {
	s.pollers = pollers // set before the writer starts
	var feeds sync.WaitGroup
	for _, f := range s.feeds {
		feeds.Go(func() { f.Run(ctx, sinkInterval, geo) })
	}
	s.run(ctx)
	feeds.Wait()
}
