package pairing

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

var t0 = time.Date(2026, 9, 5, 14, 0, 0, 0, time.UTC)

func started(piece string, a parser.Action, t time.Time) *parser.Event {
	return &parser.Event{Kind: parser.KindTransferStarted, Level: parser.Debug, PieceID: piece, Action: a, Time: t}
}

func outcome(piece string, a parser.Action, t time.Time) *parser.Event {
	return &parser.Event{Kind: parser.KindTransferOutcome, Level: parser.Info, PieceID: piece, Action: a, Time: t, Result: parser.Success}
}

// When the table is full, the start that came first is forgotten first,
// one at a time, and reported.
func TestEvictsOldestFirst(t *testing.T) {
	t.Parallel()
	var forgot []parser.Action
	p := New(Options{Limit: 3, Forget: func(a parser.Action) { forgot = append(forgot, a) }})
	ms := time.Millisecond
	for i, piece := range []string{"A", "B", "C"} {
		if !p.Start(started(piece, parser.Action(1+i), t0.Add(time.Duration(i)*ms))) {
			t.Fatalf("%s not new", piece)
		}
	}
	if p.Start(started("B", parser.Action(2), t0.Add(3*ms))) { // a repeat: B is now the newest
		t.Error("a repeated start counted as new")
	}
	p.Start(started("D", parser.GET, t0.Add(4*ms)))
	p.Start(started("E", parser.GET, t0.Add(5*ms)))
	if len(forgot) != 2 || forgot[0] != parser.Action(1) || forgot[1] != parser.Action(3) || p.Pending() != 3 {
		t.Fatalf("forgot %v, %d pending; want A's and C's actions, 3", forgot, p.Pending())
	}
	for piece, a := range map[string]parser.Action{"A": 1, "C": 3} {
		if o := p.Outcome(outcome(piece, a, t0.Add(6*ms))); !o.Counted || o.Paired {
			t.Errorf("%s: %+v, want counted, not paired", piece, o)
		}
	}
	if o := p.Outcome(outcome("B", 2, t0.Add(10*ms))); !o.Paired || !o.Timed || o.Duration != 7*ms {
		t.Errorf("B: %+v, want paired in 7 ms", o)
	}
	if p.InFlight(parser.GET) != 2 {
		t.Errorf("GET in flight: %d", p.InFlight(parser.GET))
	}
}

// A start waits MaxAge of log time, then is forgotten and reported.
func TestExpires(t *testing.T) {
	t.Parallel()
	n := 0
	p := New(Options{Forget: func(parser.Action) { n++ }})
	p.Start(started("A", parser.GET, t0))
	p.See(t0.Add(2 * time.Hour))
	p.Start(started("B", parser.GET, t0.Add(2*time.Hour)))
	if n != 1 || p.Pending() != 1 {
		t.Errorf("forgot %d, %d pending", n, p.Pending())
	}
	if o := p.Outcome(outcome("A", parser.GET, t0.Add(2*time.Hour))); o.Paired {
		t.Error("an expired start paired")
	}
}

// Durations come from arrivals when both lines are followed live, from
// the lines' milliseconds otherwise; whole seconds after the fact time
// nothing. Lines without a piece or transfer action are not remembered.
func TestDurations(t *testing.T) {
	t.Parallel()
	now := t0
	p := New(Options{Now: func() time.Time { return now }})
	p.Start(started("live", parser.PUT, t0))
	now = now.Add(1500 * time.Millisecond)
	if o := p.Outcome(outcome("live", parser.PUT, t0.Add(time.Second))); !o.Timed || o.Duration != 1500*time.Millisecond {
		t.Errorf("live: %+v", o)
	}
	old := time.Date(2020, 1, 21, 10, 31, 18, 10e6, time.UTC)
	p.Start(started("ms", parser.GET, old))
	if o := p.Outcome(outcome("ms", parser.GET, old.Add(250*time.Millisecond))); !o.Timed || o.Duration != 250*time.Millisecond {
		t.Errorf("milliseconds: %+v", o)
	}
	sec := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	p.Start(started("s", parser.GET, sec))
	if o := p.Outcome(outcome("s", parser.GET, sec.Add(3*time.Second))); !o.Paired || o.Timed {
		t.Errorf("whole seconds: %+v", o)
	}
	for _, ev := range []*parser.Event{started("", parser.GET, t0), started("x", parser.ActionNone, t0), started("x", parser.ActionOther, t0)} {
		if p.Start(ev) {
			t.Errorf("remembered %+v", ev)
		}
	}
	// without a clock (ingest), nothing is live
	q := New(Options{})
	q.Start(started("A", parser.PUT, t0))
	if o := q.Outcome(outcome("A", parser.PUT, t0.Add(time.Second))); !o.Paired || o.Timed {
		t.Errorf("no clock: %+v", o)
	}
}

// Rule 5: the DEBUG follow-up of a race-lost line is not counted.
func TestRaceLost(t *testing.T) {
	t.Parallel()
	p := New(Options{})
	lost := outcome("A", parser.GET, t0)
	lost.RaceLost, lost.Result = true, parser.Canceled
	follow := &parser.Event{Kind: parser.KindTransferOutcome, Level: parser.Debug, Message: "download canceled", PieceID: "A",
		Action: parser.GET, Result: parser.Canceled, Time: t0}
	if o := p.Outcome(lost); !o.Counted || o.Result != parser.Canceled {
		t.Errorf("race lost: %+v", o)
	}
	if o := p.Outcome(follow); o.Counted {
		t.Errorf("follow-up counted: %+v", o)
	}
	if o := p.Outcome(follow); !o.Counted {
		t.Errorf("a second follow-up is another transfer: %+v", o)
	}
}

// A state saved and restored decides as the original on what follows,
// evictions, expiry and rule 5 included, and saves the same bytes.
func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	pieces := make([]string, 30)
	for i := range pieces {
		pieces[i] = fmt.Sprintf("P%02d", i)
	}
	clock := t0
	random := func() *parser.Event {
		clock = clock.Add(time.Duration(rng.IntN(int(20 * time.Minute))))
		if rng.IntN(50) == 0 {
			clock = clock.Add(-time.Duration(rng.IntN(int(time.Hour)))) // out of order
		}
		ev := outcome(pieces[rng.IntN(len(pieces))], []parser.Action{parser.GET, parser.PUT}[rng.IntN(2)], clock)
		switch rng.IntN(5) {
		case 0, 1:
			ev.Kind = parser.KindTransferStarted
		case 2:
			ev.RaceLost, ev.Result = true, parser.Canceled
		case 3:
			ev.Level, ev.Message, ev.Result = parser.Debug, "download canceled", parser.Canceled
		}
		return ev
	}
	apply := func(p *Pairing, ev *parser.Event) string {
		if ev.Kind == parser.KindTransferStarted {
			return fmt.Sprint(p.Start(ev))
		}
		return fmt.Sprintf("%+v", p.Outcome(ev))
	}
	for _, limit := range []int{1, 4, 16} {
		opts := Options{Limit: limit, RaceLimit: limit, MaxAge: time.Hour}
		p := New(opts)
		for step := 0; step < 400; step++ {
			apply(p, random())
			if step%9 != 0 {
				continue
			}
			b := p.AppendState(nil)
			r, rest, err := Restore(append(b, 42), opts)
			if err != nil || !bytes.Equal(rest, []byte{42}) {
				t.Fatalf("restore: %v, rest %v", err, rest)
			}
			if !bytes.Equal(r.AppendState(nil), b) {
				t.Fatalf("limit %d step %d: the state does not round-trip", limit, step)
			}
			for i := 0; i < 3*limit+10; i++ {
				ev := random()
				e2 := *ev
				if a, b := apply(p, ev), apply(r, &e2); a != b {
					t.Fatalf("limit %d step %d event %d: %s by the original, %s by the restored", limit, step, i, a, b)
				}
			}
		}
	}
	if _, _, err := Restore([]byte{5}, Options{}); err == nil {
		t.Error("a truncated state restored")
	}
}

func BenchmarkStartOutcome(b *testing.B) {
	p := New(Options{Now: time.Now})
	pieces := make([]string, 1024)
	for i := range pieces {
		pieces[i] = fmt.Sprintf("%052d", i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := pieces[i%len(pieces)]
		p.Start(started(k, parser.GET, t0))
		p.Outcome(outcome(k, parser.GET, t0))
	}
}

// The queue of starts stays bounded by the table, whatever waits at its
// head.
func TestQueueBounded(t *testing.T) {
	t.Parallel()
	p := New(Options{})
	p.Start(started("waits", parser.GET, t0))
	for i := range 100_000 {
		k := fmt.Sprint(i)
		p.Start(started(k, parser.PUT, t0))
		p.Outcome(outcome(k, parser.PUT, t0))
	}
	if n := len(p.queue) - p.head; n > 2*p.Pending()+1025 {
		t.Errorf("queue of %d for %d starts", n, p.Pending())
	}
	if o := p.Outcome(outcome("waits", parser.GET, t0)); !o.Paired {
		t.Error("the first start was lost")
	}
}
