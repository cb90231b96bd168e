package sink

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/wire"
	"github.com/storagenode-exporter/storagenode-exporter/pairing"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// readState is what ingesting a node's log carries from one line to the
// next besides the position: the pairing of transfers (rule 5, started
// transfers waiting for their outcome; package pairing, the exporter's
// too) and the compactions in progress. It is saved with every committed
// position, so that a resumed run counts exactly as an uninterrupted one.
type readState struct {
	pair *pairing.Pairing
	comp map[compKey]compAcc
}

type compKey struct{ satellite, store string }

// compAcc is what a compaction's `hashtbl rewritten` line said, for its
// `finished compaction` line.
type compAcc struct {
	rewritten, reclaimed int64
	hasBytes             bool
}

func newReadState() *readState { return newReadStateLimit(parser.DefaultTrackerLimit) }

// newReadStateLimit is newReadState with a tracker of another limit, for
// tests.
func newReadStateLimit(limit int) *readState {
	return &readState{pair: pairing.New(pairing.Options{RaceLimit: limit}), comp: map[compKey]compAcc{}}
}

// outcome applies rule 5 to a transfer outcome and pairs it with its
// start.
func (s *readState) outcome(ev *parser.Event) pairing.Outcome { return s.pair.Outcome(ev) }

// count is outcome's rule 5 alone.
func (s *readState) count(ev *parser.Event) (parser.Result, bool) {
	o := s.pair.Outcome(ev)
	return o.Result, o.Counted
}

func (s *readState) see(t time.Time) { s.pair.See(t) }

// start remembers a `started` line for pairing with its outcome.
func (s *readState) start(ev *parser.Event) { s.pair.Start(ev) }

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

const stateVersion = 1

// encode serializes the state: the pairing's, then the compactions in
// progress.
func (s *readState) encode() []byte {
	b := s.pair.AppendState([]byte{stateVersion})
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
	b = wire.AppendUvarint(b, uint64(len(comp)))
	for _, k := range comp {
		a := s.comp[k]
		b = wire.AppendString(b, k.satellite)
		b = wire.AppendString(b, k.store)
		b = wire.AppendVarint(b, a.rewritten)
		b = wire.AppendVarint(b, a.reclaimed)
		flags := byte(0)
		if a.hasBytes {
			flags = 1
		}
		b = append(b, flags)
	}
	return b
}

// decodeState restores a state saved by encode (or by the sink before
// package pairing: the same bytes, its starts in time order).
func decodeState(b []byte) (*readState, error) {
	return decodeStateLimit(b, parser.DefaultTrackerLimit)
}

func decodeStateLimit(b []byte, limit int) (*readState, error) {
	if len(b) == 0 || b[0] != stateVersion {
		v := -1
		if len(b) > 0 {
			v = int(b[0])
		}
		return nil, fmt.Errorf("reader state version %d, want %d", v, stateVersion)
	}
	pair, rest, err := pairing.Restore(b[1:], pairing.Options{RaceLimit: limit})
	if err != nil {
		return nil, fmt.Errorf("reader state: %w", err)
	}
	s := &readState{pair: pair, comp: map[compKey]compAcc{}}
	d := wire.Decoder{B: rest}
	n := d.Uvarint()
	for i := uint64(0); i < n && d.Err == nil; i++ {
		k := compKey{d.String(), d.String()}
		a := compAcc{rewritten: d.Varint(), reclaimed: d.Varint()}
		a.hasBytes = d.Byte() == 1
		s.comp[k] = a
	}
	if d.Err == nil && len(d.B) != 0 {
		d.Err = errors.New("trailing bytes")
	}
	if d.Err != nil {
		return nil, fmt.Errorf("reader state: %w", d.Err)
	}
	return s, nil
}
