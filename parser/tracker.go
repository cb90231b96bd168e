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
	if len(t.pending) > 0 && pairedByRule5(ev) {
		k := raceKey{ev.PieceID, ev.Action}
		if _, ok := t.pending[k]; ok {
			delete(t.pending, k)
			return ResultNone, false
		}
	}
	return ev.Result, true
}

// pairedByRule5 tells an outcome that may be the follow-up line of a
// race-lost transfer.
func pairedByRule5(ev *Event) bool {
	return ev.Level == Debug && (ev.Message == "download canceled" || ev.Message == "upload failed")
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

// TrackerEntry is a race-lost transfer a Tracker remembers.
type TrackerEntry struct {
	PieceID string
	Action  Action
	// Pending: its follow-up line has not come yet (on the last entry of
	// its piece and action; a transfer lost twice is remembered twice).
	Pending bool
}

// Entries returns what the Tracker remembers, oldest first, so that it can
// be saved and rebuilt by RestoreTracker.
func (t *Tracker) Entries() []TrackerEntry {
	keys := append(append([]raceKey(nil), t.order[t.head:]...), t.order[:t.head]...)
	out := make([]TrackerEntry, len(keys))
	seen := make(map[raceKey]bool, len(keys))
	for i := len(keys) - 1; i >= 0; i-- {
		k := keys[i]
		out[i] = TrackerEntry{PieceID: k.piece, Action: k.action}
		if !seen[k] {
			seen[k] = true
			_, out[i].Pending = t.pending[k]
		}
	}
	return out
}

// RestoreTracker returns a Tracker of limit (DefaultTrackerLimit when
// limit <= 0) that remembers entries, as Entries returned them: it decides
// what follows as the Tracker they came from would. Beyond limit, the
// oldest entries are forgotten.
func RestoreTracker(limit int, entries []TrackerEntry) *Tracker {
	t := NewTracker(limit)
	if len(entries) > t.limit {
		entries = entries[len(entries)-t.limit:]
	}
	t.order = make([]raceKey, len(entries))
	for i, e := range entries {
		k := raceKey{e.PieceID, e.Action}
		t.order[i] = k
		if e.Pending {
			t.pending[k] = struct{}{}
		}
	}
	return t
}
