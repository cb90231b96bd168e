package parser

// Tracker applies the outcome rule that needs the lines before: a DEBUG
// `download canceled` or DEBUG `upload failed` that follows a "(race lost or
// node shutdown)" line for the same piece and action is the same transfer,
// and is not counted again (rule 5 of docs/log-formats.md §3.7). It
// remembers at most Limit race-lost transfers; the oldest are forgotten
// first. A Tracker is not safe for concurrent use: give each log source its
// own.
type Tracker struct {
	limit   int
	pending map[raceKey]struct{}
	order   []raceKey // FIFO of the keys in pending, as a ring
	head    int
}

type raceKey struct {
	piece  string
	action Action
}

// DefaultTrackerLimit bounds the race-lost transfers a Tracker remembers.
// Their follow-up line comes within milliseconds, so a few thousand are
// plenty even on the busiest node.
const DefaultTrackerLimit = 4096

// NewTracker returns a Tracker that remembers up to limit race-lost
// transfers (DefaultTrackerLimit when limit <= 0).
func NewTracker(limit int) *Tracker {
	if limit <= 0 {
		limit = DefaultTrackerLimit
	}
	return &Tracker{limit: limit, pending: make(map[raceKey]struct{})}
}

// Count reports whether ev is a transfer outcome that counts, and its
// result. Events that are not outcomes return false.
func (t *Tracker) Count(ev *Event) (Result, bool) {
	if ev.Kind != KindTransferOutcome {
		return ResultNone, false
	}
	if ev.RaceLost {
		if ev.PieceID != "" {
			t.remember(raceKey{ev.PieceID, ev.Action})
		}
		return ev.Result, true
	}
	if ev.Level == Debug && (ev.Message == "download canceled" || ev.Message == "upload failed") && len(t.pending) > 0 {
		k := raceKey{ev.PieceID, ev.Action}
		if _, ok := t.pending[k]; ok {
			delete(t.pending, k)
			return ResultNone, false
		}
	}
	return ev.Result, true
}

func (t *Tracker) remember(k raceKey) {
	if _, ok := t.pending[k]; ok {
		return
	}
	if len(t.order) < t.limit {
		t.order = append(t.order, k)
	} else {
		delete(t.pending, t.order[t.head]) // a no-op if it was matched already
		t.order[t.head] = k
		t.head = (t.head + 1) % t.limit
	}
	t.pending[k] = struct{}{}
}

// Pending returns how many race-lost transfers wait for their follow-up line.
func (t *Tracker) Pending() int { return len(t.pending) }
