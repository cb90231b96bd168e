package sink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// readState is what ingesting a node's log carries from one line to the
// next besides the position: the rule-5 tracker, the started transfers
// waiting for their outcome, and the compactions in progress. It is saved
// with every committed position, so that a resumed run counts exactly as
// an uninterrupted one.
type readState struct {
	tracker *parser.Tracker
	ring    raceRing // a mirror of the tracker's memory, which it does not expose
	starts  map[pairKey]time.Time
	newest  time.Time // the newest line time seen
	swept   time.Time // newest at the last sweep of starts
	comp    map[compKey]compAcc
}

type pairKey struct {
	piece  string
	action parser.Action
}

type compKey struct{ satellite, store string }

// compAcc is what a compaction's `hashtbl rewritten` line said, for its
// `finished compaction` line.
type compAcc struct {
	rewritten, reclaimed int64
	hasBytes             bool
}

const (
	// pairMaxAge is how long a started transfer waits for its outcome, in
	// log time, as in the exporter.
	pairMaxAge = time.Hour
	// pairLimit bounds the started transfers remembered.
	pairLimit = 100_000
)

func newReadState() *readState { return newReadStateLimit(parser.DefaultTrackerLimit) }

// newReadStateLimit is newReadState with a tracker of another limit, for
// tests.
func newReadStateLimit(limit int) *readState {
	return &readState{
		tracker: parser.NewTracker(limit),
		ring:    newRaceRing(limit),
		starts:  map[pairKey]time.Time{},
		comp:    map[compKey]compAcc{},
	}
}

// count applies rule 5 to a transfer outcome, keeping the mirror in step.
func (s *readState) count(ev *parser.Event) (parser.Result, bool) {
	res, counted := s.tracker.Count(ev)
	k := pairKey{ev.PieceID, ev.Action}
	switch {
	case ev.RaceLost && ev.PieceID != "":
		s.ring.remember(k)
	case !counted:
		s.ring.matched(k)
	}
	return res, counted
}

func (s *readState) see(t time.Time) {
	if t.After(s.newest) {
		s.newest = t
	}
}

// start remembers a `started` line for pairing with its outcome.
func (s *readState) start(ev *parser.Event) {
	if ev.PieceID == "" || ev.Action == parser.ActionNone || ev.Action == parser.ActionOther {
		return
	}
	k := pairKey{ev.PieceID, ev.Action}
	if _, dup := s.starts[k]; !dup && len(s.starts) >= pairLimit {
		s.sweep(true)
	}
	s.starts[k] = ev.Time
	if s.newest.Sub(s.swept) > pairMaxAge/4 {
		s.sweep(false)
	}
}

// finish pairs an outcome with its start. Durations come from the lines'
// own times when they carry milliseconds (nodes before v1.83): whole-second
// times of a log read after the fact time nothing, as in the exporter.
func (s *readState) finish(ev *parser.Event) (time.Duration, bool) {
	k := pairKey{ev.PieceID, ev.Action}
	t0, ok := s.starts[k]
	if !ok {
		return 0, false
	}
	delete(s.starts, k)
	if t0.Nanosecond() == 0 && ev.Time.Nanosecond() == 0 {
		return 0, false
	}
	return max(ev.Time.Sub(t0), 0), true
}

// sweep forgets the starts older than pairMaxAge; with full, also the
// oldest half when the table is still full.
func (s *readState) sweep(full bool) {
	s.swept = s.newest
	for k, t := range s.starts {
		if s.newest.Sub(t) > pairMaxAge {
			delete(s.starts, k)
		}
	}
	if full && len(s.starts) >= pairLimit {
		keys := s.sortedStarts()
		for _, k := range keys[:len(keys)/2] {
			delete(s.starts, k)
		}
	}
}

// sortedStarts returns the keys of starts, oldest first (ties by key), so
// that what is dropped and saved does not depend on map order.
func (s *readState) sortedStarts() []pairKey {
	keys := make([]pairKey, 0, len(s.starts))
	for k := range s.starts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ti, tj := s.starts[keys[i]], s.starts[keys[j]]
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		if keys[i].piece != keys[j].piece {
			return keys[i].piece < keys[j].piece
		}
		return keys[i].action < keys[j].action
	})
	return keys
}

// compaction follows a hashstore line and returns the history row of a
// finished compaction.
func (s *readState) compaction(node string, ev *parser.Event) (Compaction, bool) {
	c := ev.Compaction
	k := compKey{ev.Satellite, c.Store}
	switch ev.Message {
	case "beginning compaction":
		delete(s.comp, k)
	case "hashtbl rewritten":
		s.comp[k] = compAcc{rewritten: c.Rewritten, reclaimed: c.Reclaimed, hasBytes: true}
	case "finished compaction":
		acc := s.comp[k]
		delete(s.comp, k)
		row := Compaction{Time: ev.Time, Node: node, Satellite: ev.Satellite, Store: c.Store, Duration: c.Duration,
			Reclaimed: acc.reclaimed, Rewritten: acc.rewritten, HasBytes: acc.hasBytes}
		if c.HasStats {
			row.TrashPercent, row.HasTrash = 100*c.TrashFraction, true
		}
		return row, true
	}
	return Compaction{}, false
}

// raceRing mirrors parser.Tracker's memory of race-lost transfers: a FIFO
// ring of the keys remembered (matched ones stay in it until evicted) and
// the set of those still pending.
type raceRing struct {
	limit   int
	order   []pairKey
	head    int
	pending map[pairKey]struct{}
}

func newRaceRing(limit int) raceRing {
	return raceRing{limit: limit, pending: map[pairKey]struct{}{}}
}

func (r *raceRing) remember(k pairKey) {
	if _, ok := r.pending[k]; ok {
		return
	}
	if len(r.order) < r.limit {
		r.order = append(r.order, k)
	} else {
		delete(r.pending, r.order[r.head])
		r.order[r.head] = k
		r.head = (r.head + 1) % r.limit
	}
	r.pending[k] = struct{}{}
}

func (r *raceRing) matched(k pairKey) { delete(r.pending, k) }

// entries returns the ring oldest first, each with whether it is the
// pending occurrence of its key.
func (r *raceRing) entries() ([]pairKey, []bool) {
	keys := append(append([]pairKey(nil), r.order[r.head:]...), r.order[:r.head]...)
	pend := make([]bool, len(keys))
	seen := map[pairKey]bool{}
	for i := len(keys) - 1; i >= 0; i-- {
		if !seen[keys[i]] {
			seen[keys[i]] = true
			_, pend[i] = r.pending[keys[i]]
		}
	}
	return keys, pend
}

const stateVersion = 1

// encode serializes the state.
func (s *readState) encode() []byte {
	b := []byte{stateVersion}
	keys, pend := s.ring.entries()
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for i, k := range keys {
		b = appendString(b, k.piece)
		flags := byte(0)
		if pend[i] {
			flags = 1
		}
		b = append(b, byte(k.action), flags)
	}
	starts := s.sortedStarts()
	b = binary.AppendUvarint(b, uint64(len(starts)))
	for _, k := range starts {
		b = appendString(b, k.piece)
		b = append(b, byte(k.action))
		b = appendTime(b, s.starts[k])
	}
	b = appendTime(b, s.newest)
	b = appendTime(b, s.swept)
	comp := make([]compKey, 0, len(s.comp))
	for k := range s.comp {
		comp = append(comp, k)
	}
	sort.Slice(comp, func(i, j int) bool {
		if comp[i].satellite != comp[j].satellite {
			return comp[i].satellite < comp[j].satellite
		}
		return comp[i].store < comp[j].store
	})
	b = binary.AppendUvarint(b, uint64(len(comp)))
	for _, k := range comp {
		a := s.comp[k]
		b = appendString(b, k.satellite)
		b = appendString(b, k.store)
		b = binary.AppendVarint(b, a.rewritten)
		b = binary.AppendVarint(b, a.reclaimed)
		flags := byte(0)
		if a.hasBytes {
			flags = 1
		}
		b = append(b, flags)
	}
	return b
}

// decodeState restores a state saved by encode. The tracker is rebuilt by
// replaying the ring: a race-lost line for every entry, followed by its
// DEBUG follow-up for the entries no longer pending.
func decodeState(b []byte) (*readState, error) {
	return decodeStateLimit(b, parser.DefaultTrackerLimit)
}

func decodeStateLimit(b []byte, limit int) (*readState, error) {
	d := decoder{b: b}
	if v := d.byte(); v != stateVersion {
		return nil, fmt.Errorf("reader state version %d, want %d", v, stateVersion)
	}
	s := newReadStateLimit(limit)
	n := d.uvarint()
	for i := uint64(0); i < n && d.err == nil; i++ {
		k := pairKey{d.string(), parser.Action(d.byte())}
		pending := d.byte() == 1
		ev := parser.Event{Kind: parser.KindTransferOutcome, RaceLost: true, PieceID: k.piece, Action: k.action,
			Level: parser.Info, Result: parser.Canceled}
		s.count(&ev)
		if !pending {
			follow := parser.Event{Kind: parser.KindTransferOutcome, Level: parser.Debug, Message: "download canceled",
				PieceID: k.piece, Action: k.action, Result: parser.Canceled}
			if _, counted := s.count(&follow); counted {
				return nil, errors.New("reader state: the tracker did not take a follow-up line")
			}
		}
	}
	n = d.uvarint()
	for i := uint64(0); i < n && d.err == nil; i++ {
		k := pairKey{d.string(), parser.Action(d.byte())}
		s.starts[k] = d.time()
	}
	s.newest = d.time()
	s.swept = d.time()
	n = d.uvarint()
	for i := uint64(0); i < n && d.err == nil; i++ {
		k := compKey{d.string(), d.string()}
		a := compAcc{rewritten: d.varint(), reclaimed: d.varint()}
		a.hasBytes = d.byte() == 1
		s.comp[k] = a
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("trailing bytes")
	}
	if d.err != nil {
		return nil, fmt.Errorf("reader state: %w", d.err)
	}
	return s, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendTime stores a time as Unix nanoseconds, the zero time as MinInt64.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, math.MinInt64)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

type decoder struct {
	b   []byte
	err error
}

var errShort = errors.New("truncated")

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.err = errShort
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil || uint64(len(d.b)) < n {
		d.err = errShort
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) time() time.Time {
	v := d.varint()
	if v == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}
