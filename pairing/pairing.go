// Package pairing turns a node's transfer lines into outcomes, once for
// every consumer: the outcome rule that needs the lines before (rule 5,
// parser.Tracker), and the pairing of DEBUG `started` lines with their
// outcome (durations, transfers in flight). The exporter's metrics and the
// sink's rows come from the same Pairing, and the sink saves its state with
// the rows it commits (AppendState, Restore).
//
// # Bounds
//
// A started transfer waits for its outcome at most MaxAge of log time (an
// hour); at most Limit of them wait (100,000): when the table is full, the
// oldest is forgotten first, as it is the one least likely to end. Each one
// forgotten unpaired is reported to Options.Forget. The race-lost memory
// is parser.Tracker's (the last 4,096).
//
// # Durations
//
// An outcome paired with its start is timed by the arrival of the two lines
// when both were followed live (their log times within 10 s of the clock,
// Options.Now), else by the lines' own times when they carry milliseconds
// (nodes before v1.83); whole-second times of a log read after the fact
// time nothing.
package pairing

import (
	"errors"
	"fmt"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/wire"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// Defaults of Options.
const (
	DefaultLimit  = 100_000
	DefaultMaxAge = time.Hour
)

// liveSkew is how far a line's own time may lag the clock for the line to
// count as followed live, so that its arrival time can time a transfer.
const liveSkew = 10 * time.Second

// Options configure a Pairing.
type Options struct {
	Limit     int           // started transfers waiting at most; 0: DefaultLimit
	MaxAge    time.Duration // how long one waits, in log time; 0: DefaultMaxAge
	RaceLimit int           // race-lost transfers remembered; 0: parser.DefaultTrackerLimit
	// Now is the clock of arrivals; nil: lines are not followed live
	// (ingest), and only the lines' own times time transfers.
	Now func() time.Time
	// Forget, when set, is called for every started transfer forgotten
	// without its outcome: expired, or evicted from a full table.
	Forget func(parser.Action)
}

// Key is a transfer: its piece and action.
type Key struct {
	Piece  string
	Action parser.Action
}

type start struct {
	logTime, received time.Time
	live              bool
	seq               uint64 // its place in queue
}

type queued struct {
	key Key
	seq uint64
}

// Pairing pairs one node's lines, given in log order from one goroutine:
// it is not safe for concurrent use.
type Pairing struct {
	opts    Options
	tracker *parser.Tracker
	starts  map[Key]start
	// queue holds the starts in the order they came, oldest first; an
	// entry whose seq no longer matches starts[key] was paired or replaced.
	queue  []queued
	head   int
	seq    uint64
	newest time.Time // the newest log time seen
	swept  time.Time // newest at the last sweep
}

// New returns an empty Pairing.
func New(o Options) *Pairing {
	if o.Limit <= 0 {
		o.Limit = DefaultLimit
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	return &Pairing{opts: o, tracker: parser.NewTracker(o.RaceLimit), starts: map[Key]start{}}
}

// See advances the log clock with a line's time (every line's, so that
// the starts of a quiet transfer type expire too).
func (p *Pairing) See(t time.Time) {
	if t.After(p.newest) {
		p.newest = t
	}
}

func (p *Pairing) now() (time.Time, bool) {
	if p.opts.Now == nil {
		return time.Time{}, false
	}
	return p.opts.Now(), true
}

func isLive(logTime, now time.Time) bool {
	d := now.Sub(logTime)
	return !logTime.IsZero() && d < liveSkew && d > -liveSkew
}

// Start remembers a started line, to pair with its outcome. It reports
// whether the transfer is new (not a repeat of one waiting): one more in
// flight. Lines without a piece or a transfer action are not remembered.
func (p *Pairing) Start(ev *parser.Event) bool {
	p.See(ev.Time)
	if ev.PieceID == "" || ev.Action == parser.ActionNone || ev.Action == parser.ActionOther {
		return false
	}
	k := Key{ev.PieceID, ev.Action}
	_, dup := p.starts[k]
	if !dup && len(p.starts) >= p.opts.Limit {
		p.evictOldest()
	}
	s := start{logTime: ev.Time}
	if now, ok := p.now(); ok {
		s.received, s.live = now, isLive(ev.Time, now)
	}
	p.put(k, s)
	if p.newest.Sub(p.swept) > p.opts.MaxAge/4 {
		p.sweep()
	}
	return !dup
}

func (p *Pairing) put(k Key, s start) {
	p.seq++
	s.seq = p.seq
	p.starts[k] = s
	p.queue = append(p.queue, queued{k, s.seq})
	if len(p.queue)-p.head > 2*len(p.starts)+1024 {
		p.compact()
	}
}

// compact drops the entries of the queue whose start was paired, forgotten
// or repeated since: at most every len(starts)+1024 starts, so that the
// queue stays within three times the table.
func (p *Pairing) compact() {
	q := p.queue[:0]
	for _, e := range p.queue[p.head:] {
		if s, ok := p.starts[e.key]; ok && s.seq == e.seq {
			q = append(q, e)
		}
	}
	clear(p.queue[len(q):])
	p.queue, p.head = q, 0
}

// evictOldest forgets the start that came first and still waits.
func (p *Pairing) evictOldest() {
	for p.head < len(p.queue) {
		q := p.queue[p.head]
		p.queue[p.head] = queued{}
		p.head++
		if s, ok := p.starts[q.key]; ok && s.seq == q.seq {
			p.forget(q.key)
			return
		}
	}
}

func (p *Pairing) forget(k Key) {
	delete(p.starts, k)
	if p.opts.Forget != nil {
		p.opts.Forget(k.Action)
	}
}

// sweep forgets the starts older than MaxAge in log time.
func (p *Pairing) sweep() {
	p.swept = p.newest
	for k, s := range p.starts {
		if p.newest.Sub(s.logTime) > p.opts.MaxAge {
			p.forget(k)
		}
	}
}

// Outcome is what Pairing made of an outcome line.
type Outcome struct {
	Result  parser.Result
	Counted bool // false: the follow-up of a race-lost line (rule 5), nothing else is set
	// Paired: its start was waiting, and is no longer in flight.
	Paired bool
	// Duration, when Timed, is how long the transfer took.
	Duration time.Duration
	Timed    bool
}

// Outcome applies rule 5 to a transfer outcome and pairs it with its start.
func (p *Pairing) Outcome(ev *parser.Event) Outcome {
	p.See(ev.Time)
	res, counted := p.tracker.Count(ev)
	if !counted {
		return Outcome{}
	}
	o := Outcome{Result: res, Counted: true}
	k := Key{ev.PieceID, ev.Action}
	s, ok := p.starts[k]
	if !ok {
		return o
	}
	delete(p.starts, k)
	o.Paired = true
	now, clock := p.now()
	switch {
	case clock && s.live && isLive(ev.Time, now):
		o.Duration, o.Timed = now.Sub(s.received), true
	case s.logTime.Nanosecond() != 0 || ev.Time.Nanosecond() != 0:
		o.Duration, o.Timed = ev.Time.Sub(s.logTime), true
	}
	o.Duration = max(o.Duration, 0)
	return o
}

// Pending returns how many started transfers wait for their outcome.
func (p *Pairing) Pending() int { return len(p.starts) }

// InFlight returns how many started transfers of an action wait.
func (p *Pairing) InFlight(a parser.Action) int {
	n := 0
	for k := range p.starts {
		if k.Action == a {
			n++
		}
	}
	return n
}

// AppendState appends the state to b: the race-lost memory, the starts
// waiting (oldest first, with their log times; arrival times are not kept,
// so that a restored state times by log times only) and the log clock.
func (p *Pairing) AppendState(b []byte) []byte {
	entries := p.tracker.Entries()
	b = wire.AppendUvarint(b, uint64(len(entries)))
	for _, e := range entries {
		b = wire.AppendString(b, e.PieceID)
		flags := byte(0)
		if e.Pending {
			flags = 1
		}
		b = append(b, byte(e.Action), flags)
	}
	b = wire.AppendUvarint(b, uint64(len(p.starts)))
	for i := p.head; i < len(p.queue); i++ {
		q := p.queue[i]
		if s, ok := p.starts[q.key]; ok && s.seq == q.seq {
			b = wire.AppendString(b, q.key.Piece)
			b = append(b, byte(q.key.Action))
			b = wire.AppendTime(b, s.logTime)
		}
	}
	b = wire.AppendTime(b, p.newest)
	b = wire.AppendTime(b, p.swept)
	return b
}

// Load replaces the state of p by one AppendState wrote (all of b), keeping
// its options: a counting path that starts where a saved state ends.
func (p *Pairing) Load(b []byte) error {
	r, rest, err := Restore(b, p.opts)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errors.New("pairing state: trailing bytes")
	}
	opts := p.opts
	*p = *r
	p.opts = opts
	return nil
}

// Restore rebuilds a Pairing from a state AppendState wrote at the start
// of b, and returns what follows it in b.
func Restore(b []byte, o Options) (*Pairing, []byte, error) {
	p := New(o)
	d := wire.Decoder{B: b}
	n := d.Uvarint()
	var entries []parser.TrackerEntry
	for i := uint64(0); i < n && d.Err == nil; i++ {
		e := parser.TrackerEntry{PieceID: d.String(), Action: parser.Action(d.Byte())}
		e.Pending = d.Byte() == 1
		entries = append(entries, e)
	}
	p.tracker = parser.RestoreTracker(o.RaceLimit, entries)
	n = d.Uvarint()
	for i := uint64(0); i < n && d.Err == nil; i++ {
		k := Key{d.String(), parser.Action(d.Byte())}
		p.put(k, start{logTime: d.Time()})
	}
	p.newest = d.Time()
	p.swept = d.Time()
	if d.Err != nil {
		return nil, nil, fmt.Errorf("pairing state: %w", d.Err)
	}
	return p, d.B, nil
}
