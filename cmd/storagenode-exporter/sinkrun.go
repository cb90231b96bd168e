package main

import (
	"context"
	"sync"

	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/internal/pipeline"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
	"github.com/storagenode-exporter/storagenode-exporter/tail"
)

// pipelineSink runs serve's live sink in the pipeline (a
// pipeline.FileSink).
type pipelineSink struct {
	*liveSink
	fromBeginning bool
}

// Hooks hands a node's counted outcomes and events to the sink: to the
// node's Feed for a followed file (its lines are read once), else through
// the bounded buffer of a stream.
func (s *pipelineSink) Hooks(n pipeline.NodeSpec) (func(exporter.Outcome), func(*parser.Event)) {
	if n.Kind != pipeline.SourceFile || n.Log != nil {
		return s.forNode(n.Name), s.onEvent(n.Name)
	}
	if s.feeds == nil {
		s.feeds = map[string]*sink.Feed{}
	}
	f := s.db.NewFeed(n.Name, n.Source, sink.FeedOptions{Lock: s.locks[n.Name], CatchUp: &s.reading, BatchRows: sinkBatch,
		OnCommit: s.fileCommitted(n.Name, n.Source)})
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
func (s *pipelineSink) Follow(ctx context.Context, n pipeline.NodeSpec, logs *exporter.NodeLogs) func([]byte, tail.Pos) {
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
func (s *pipelineSink) Run(ctx context.Context, nodes []pipeline.NodeSpec, pollers []*nodeapi.Poller, geo sink.Countries) {
	s.pollers = pollers // set before the writer starts
	var feeds sync.WaitGroup
	for _, f := range s.feeds {
		feeds.Go(func() { f.Run(ctx, sinkInterval, geo) })
	}
	s.run(ctx)
	feeds.Wait()
}
