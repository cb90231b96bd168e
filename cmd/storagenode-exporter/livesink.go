package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/internal/pipeline"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

// liveSink writes what serve reads into the sink, never slowing the
// metrics. A followed file is read a second time, by followFile, from the
// sink's committed position: it falls behind on a slow disk and catches up,
// and loses nothing. For TCP and stdin sources, which cannot be read again,
// the counting goroutines hand the outcomes they count over without ever
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
	reading sync.Mutex // one followed file is read at a time: bounded memory
	mu      sync.Mutex
	history sink.Batch
	pollers []*nodeapi.Poller
	polled  map[string]time.Time  // last API poll written, by node
	locks   map[string]*sink.Lock // by node (lock)
}

// maxHistory bounds the non-event rows waiting for a batch.
const maxHistory = 10_000

// followInterval is how often a followed file is looked at for the sink.
const followInterval = time.Second

const (
	sinkBuffer   = 8192 // events waiting for the writer, all nodes together (~2 MB)
	sinkBatch    = 4096
	sinkInterval = time.Second
)

func newLiveSink(db *sink.DB, retention time.Duration, reg prometheus.Registerer, logger *slog.Logger) *liveSink {
	m := exporter.NewSinkMetrics(reg)
	return &liveSink{
		db: db, log: logger, retention: retention, polled: map[string]time.Time{},
		ch:      make(chan sink.Event, sinkBuffer),
		dropped: m.Dropped, lag: m.Lag, errors: m.WriteErrors, fileLag: m.FileLag,
	}
}

// lock takes each node's serve lock of the database (sink.Acquire): one
// process writes a node's logs at a time. The error of a node another
// process writes names that process. The locks are released when the
// database is closed.
func (s *liveSink) lock(ctx context.Context, nodes []pipeline.NodeSpec) error {
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
// for each node-API poll not written yet.
func (s *liveSink) pollAPI() {
	for _, p := range s.pollers {
		snap := p.Snapshot()
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
	if len(b.Rejections)+len(b.Reputation)+len(b.Compactions)+len(b.Snapshots) == 0 {
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

// followFile keeps the sink's copy of a node's log file. It does not take
// the events the metrics count: it reads the file itself, from the position
// committed with the last batch to the end, at most once a second and only
// when the file changed. So a slow disk only makes it fall behind, and it
// catches up from its committed position instead of dropping anything; the
// file is the buffer. After a rename rotation, path.1 is read first, so the
// old file's last lines are not lost (each log is known by its content, so
// reading one again adds nothing). The ranges of the log it reads are
// owned by the node's serve lock: an ingest of the same log fills only
// what is before them.
func (s *liveSink) followFile(ctx context.Context, node, path string, fromBeginning bool, geo sink.Countries) {
	logger := s.log.With("node", node, "path", path)
	opts := sink.IngestOptions{Geo: geo, Workers: 1, BatchSize: sinkBatch, Lock: s.locks[node], Follow: true}
	in := s.db.NewIngester(node, opts)
	if err := in.Start(ctx, path, fromBeginning); err != nil {
		logger.Error("sink: cannot follow the log file", "err", err)
		return
	}
	tick := time.NewTicker(followInterval)
	defer tick.Stop()
	var seen os.FileInfo // the file at path when last read
	var readTo int64     // how far that read got
	failing := false
	for {
		fi, err := os.Stat(path)
		if err == nil && (seen == nil || !os.SameFile(fi, seen) || fi.Size() != readTo) {
			var failed error
			paths := []string{path}
			if seen != nil && !os.SameFile(fi, seen) {
				paths = []string{path + ".1", path} // rotated: finish the old file first
			}
			s.reading.Lock()
			for _, p := range paths {
				res, err := in.File(ctx, p)
				if err != nil && ctx.Err() == nil && !errors.Is(err, fs.ErrNotExist) {
					failed = err
					s.errors.Inc()
				}
				if p == path {
					readTo = res.Size
					if failed == nil {
						s.fileLag.WithLabelValues(node).Set(float64(max(res.Size-res.To, 0)))
					}
				}
			}
			s.reading.Unlock()
			seen = fi
			switch {
			case failed != nil && !failing:
				logger.Error("sink: reading the log into the database failed; retrying", "err", failed)
				failing = true
			case failed == nil && failing:
				logger.Info("sink: writing again")
				failing = false
			}
			if failed != nil {
				readTo = -1 // try again at the next tick
			}
			if in.Err() != nil { // a failed write: start over from the committed position
				in = s.db.NewIngester(node, opts)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
