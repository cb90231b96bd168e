// Package demo is the sample node of `serve --demo`: a log generated live
// with the wall clock (Log, a source.Source) and a node API answered from
// embedded sample responses (API). Both live inside the process; nothing is
// written to disk.
//
// The log is internal/loggen driven in real time: at the start a burst of
// finished transfers and one of each of the node's other line groups
// (hashstore compaction, retain, the three filewalkers, trash, expired
// pieces, reputation, ping failures, upload rejections, ...), so that every
// dashboard family exists at once; then about Rate transfers a second, each
// a DEBUG `started` line and, when its drawn duration has passed, its
// outcome, so transfer durations and in-flight counts fill as they do for a
// node at piecestore=DEBUG; and the other line groups now and then.
package demo

import (
	"bytes"
	"container/heap"
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/loggen"
	"github.com/storagenode-exporter/storagenode-exporter/source"
)

// NodeName is the demo node's node label.
const NodeName = "Demo"

// Defaults of LogOptions.
const (
	DefaultRate  = 25  // transfers a second
	DefaultBurst = 500 // transfers finished at the start
)

// eventMean is the mean time between two line groups of each kind
// (loggen.Event), far shorter than on a real node so that a few minutes of
// the demo show each of them a few times.
var eventMean = [loggen.NumEvents]time.Duration{
	loggen.Rejected:      20 * time.Second,
	loggen.InternalError: 45 * time.Second,
	loggen.Ping:          40 * time.Second,
	loggen.Orders:        time.Minute,
	loggen.Hashstore:     90 * time.Second,
	loggen.Reputation:    2 * time.Minute,
	loggen.Updater:       15 * time.Minute,
	loggen.Collector:     time.Minute,
	loggen.Retain:        150 * time.Second,
	loggen.Trash:         2 * time.Minute,
	loggen.Bandwidth:     time.Minute,
	loggen.UsedSpaceWalk: 2 * time.Minute,
	loggen.GCWalk:        150 * time.Second,
	loggen.TrashWalk:     2 * time.Minute,
}

// LogOptions configure a Log.
type LogOptions struct {
	// Seed of the generator and the timing; 0 means 1.
	Seed uint64
	// Rate is the mean number of transfers started a second; 0 means
	// DefaultRate.
	Rate float64
	// Burst is the number of transfers finished at the start; 0 means
	// DefaultBurst, a negative value none.
	Burst int
}

// Log is a source.Source whose lines are a storage node's log generated as
// it is delivered, with current timestamps, in the current (v1.146+) format.
type Log struct {
	opts LogOptions
	up   atomic.Bool
}

var _ source.Source = (*Log)(nil)

// NewLog returns the demo log.
func NewLog(opts LogOptions) *Log {
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Rate <= 0 {
		opts.Rate = DefaultRate
	}
	if opts.Burst == 0 {
		opts.Burst = DefaultBurst
	}
	return &Log{opts: opts}
}

// Up reports whether Run is delivering lines.
func (l *Log) Up() bool { return l.up.Load() }

// running is a started transfer waiting for its end.
type running struct {
	end time.Time
	t   *loggen.Transfer
}

type runningHeap []running

func (h runningHeap) Len() int           { return len(h) }
func (h runningHeap) Less(i, j int) bool { return h[i].end.Before(h[j].end) }
func (h runningHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runningHeap) Push(x any)        { *h = append(*h, x.(running)) }
func (h *runningHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Run delivers lines until ctx is done (then it returns nil) or emit fails
// (then it returns emit's error).
func (l *Log) Run(ctx context.Context, emit func(source.Line) error) error {
	if ctx.Err() != nil {
		return nil
	}
	l.up.Store(true)
	defer l.up.Store(false)

	now := time.Now()
	g := loggen.New(loggen.Current, l.opts.Seed, now)
	g.SetClock(now)
	rnd := rand.New(rand.NewPCG(l.opts.Seed, 0x64656d6f))
	exp := func(mean time.Duration) time.Duration { return time.Duration(rnd.ExpFloat64() * float64(mean)) }

	// The burst: finished transfers (INFO lines only, as a node at the
	// default level writes them) and one group of every other kind.
	for range max(l.opts.Burst, 0) {
		g.Finish(g.NewTransfer())
	}
	var next [loggen.NumEvents]time.Time
	for ev := range loggen.NumEvents {
		g.Event(ev)
		next[ev] = now.Add(exp(eventMean[ev]))
	}
	deliver := func() error {
		for line := range bytes.Lines(g.Take()) {
			if err := emit(source.Line{Data: bytes.TrimSuffix(line, []byte("\n"))}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := deliver(); err != nil {
		return err
	}

	interArrival := time.Duration(float64(time.Second) / l.opts.Rate)
	arrival := now.Add(exp(interArrival))
	var inFlight runningHeap
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		due := arrival
		if len(inFlight) > 0 && inFlight[0].end.Before(due) {
			due = inFlight[0].end
		}
		for _, t := range next {
			if t.Before(due) {
				due = t
			}
		}
		timer.Reset(max(due.Sub(time.Now()), 0))
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		now = time.Now()
		g.SetClock(now)
		for len(inFlight) > 0 && !inFlight[0].end.After(now) {
			g.Finish(heap.Pop(&inFlight).(running).t)
		}
		if arrival.Before(now.Add(-time.Second)) {
			arrival = now // behind (a slow reader): skip the backlog rather than flood
		}
		for !arrival.After(now) {
			t := g.NewTransfer()
			g.Start(t)
			heap.Push(&inFlight, running{end: now.Add(t.Duration), t: t})
			arrival = arrival.Add(exp(interArrival))
		}
		for ev := range loggen.NumEvents {
			if !next[ev].After(now) {
				g.Event(ev)
				next[ev] = now.Add(exp(eventMean[ev]))
			}
		}
		if err := deliver(); err != nil {
			return err
		}
	}
}
