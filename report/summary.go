// Package report counts what operators ask a success-rate script for:
// transfers by action and outcome, audits with recoverable and critical
// failures, uploads rejected, per-satellite figures and the top error
// classes, from log lines read under the parser's outcome rules.
package report

import (
	"sort"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/satellites"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// Counts are the outcomes of one action.
type Counts struct {
	Success      int64 `json:"success"`
	Canceled     int64 `json:"canceled"`
	Failed       int64 `json:"failed"`
	SuccessBytes int64 `json:"success_bytes"`
}

// Total is every outcome counted.
func (c Counts) Total() int64 { return c.Success + c.Canceled + c.Failed }

func (c *Counts) add(o Counts) {
	c.Success += o.Success
	c.Canceled += o.Canceled
	c.Failed += o.Failed
	c.SuccessBytes += o.SuccessBytes
}

const nActions = int(parser.ActionOther) + 1

// ByAction holds Counts indexed by parser.Action.
type ByAction [nActions]Counts

// ErrorKey is an action and an error class.
type ErrorKey struct {
	Action parser.Action
	Class  parser.ErrorClass
}

// Summary is what a report shows. The zero value is empty and ready.
type Summary struct {
	Lines           int64 // every line read, blank and unparsed ones included
	Blank           int64
	Unparsed        int64
	UnparsedBy      [len(reasonSlots)]int64 // indexed by parser.Reason
	UploadsRejected int64
	Transfers       ByAction
	// Transfers whose line names no action, or one that is not a transfer action.
	NoAction Counts
	// Audits (GET_AUDIT) that failed with `file does not exist` are
	// critical: they lower the audit score. Other failures are recoverable.
	AuditCritical    int64
	AuditRecoverable int64
	// By satellite: the public satellites' names, up to
	// satellites.MaxOwnLabels other valid IDs, then other, invalid and
	// unknown (satellites.Labels), so that a log full of made-up IDs keeps
	// the table (and the memory) small.
	Satellites  map[string]*ByAction
	Errors      map[ErrorKey]int64
	Levels      [int(parser.Fatal) + 1]int64
	First, Last time.Time

	labels *satellites.Labels // chooses Satellites' keys
	// part: a chunk's summary, read in parallel, keeps the names it saw;
	// the Summary it is merged into, in line order, bounds them.
	part bool
	// the satellites counted last (bySatelliteID)
	memo     [4]satMemo
	memoNext int
}

// satellite returns the key of a satellite name in Satellites.
func (s *Summary) satellite(name string) string {
	if s.part {
		return name
	}
	if s.labels == nil {
		s.labels = new(satellites.Labels)
	}
	return s.labels.LabelName(name)
}

var reasonSlots = [int(parser.ReasonTooLong) + 1]struct{}{}

// addLine counts a parsed line that is not a transfer outcome, or that is
// one whose rule-5 verdict is already known (res, counted).
func (s *Summary) addEvent(ev *parser.Event) {
	if int(ev.Level) < len(s.Levels) {
		s.Levels[ev.Level]++
	}
	if !ev.Time.IsZero() {
		if s.First.IsZero() || ev.Time.Before(s.First) {
			s.First = ev.Time
		}
		if ev.Time.After(s.Last) {
			s.Last = ev.Time
		}
	}
	if ev.Kind == parser.KindUploadRejected {
		s.UploadsRejected++
	}
}

// addOutcome counts one transfer outcome that counts under the rules.
func (s *Summary) addOutcome(ev *parser.Event, res parser.Result) {
	var bytes int64
	if res == parser.Success && ev.HasSize && ev.Size > 0 {
		bytes = ev.Size
	}
	one, transfer := s.addTotals(ev.Action, res, 1, bytes)
	if ev.Satellite != "" || transfer {
		s.addSatellite(s.bySatelliteID(ev.Satellite), ev.Action, transfer, one)
	}
	if res == parser.Failed {
		s.AddFailures(ev.Action, ev.Error, 1)
	}
}

// AddOutcomes counts n outcomes of one satellite, action and result, as
// reading their lines would: satellite is the satellite's name ("" when the
// lines named none), successBytes the sum of the successes' sizes. The
// error classes of failures are AddFailures' to count. It serves counts
// that come in bulk, such as the rows of the sink.
func (s *Summary) AddOutcomes(satellite string, act parser.Action, res parser.Result, n, successBytes int64) {
	one, transfer := s.addTotals(act, res, n, successBytes)
	if satellite == "" && !transfer {
		return
	}
	s.addSatellite(s.byAction(satellite), act, transfer, one)
}

// addTotals adds n outcomes to the totals by action and returns them as
// Counts, with whether act is a transfer action.
func (s *Summary) addTotals(act parser.Action, res parser.Result, n, successBytes int64) (Counts, bool) {
	transfer := act != parser.ActionNone && act != parser.ActionOther && act != parser.ActionDelete
	c := &s.NoAction
	if transfer {
		c = &s.Transfers[act]
	}
	var one Counts
	switch res {
	case parser.Success:
		one.Success, one.SuccessBytes = n, successBytes
	case parser.Canceled:
		one.Canceled = n
	case parser.Failed:
		one.Failed = n
	}
	c.add(one)
	return one, transfer
}

func (s *Summary) addSatellite(sat *ByAction, act parser.Action, transfer bool, one Counts) {
	if !transfer {
		act = parser.ActionNone
	}
	sat[act].add(one)
}

// byAction returns the counts of a satellite's label ("" is unknown).
func (s *Summary) byAction(satellite string) *ByAction {
	if satellite == "" {
		satellite = "unknown"
	}
	satellite = s.satellite(satellite)
	if s.Satellites == nil {
		s.Satellites = map[string]*ByAction{}
	}
	sat := s.Satellites[satellite]
	if sat == nil {
		sat = new(ByAction)
		s.Satellites[satellite] = sat
	}
	return sat
}

// bySatelliteID is byAction for a satellite ID as logged, remembering the
// last few IDs: a log names a handful of satellites, so most outcomes cost
// no map lookup. An ID's label never changes once given, which keeps the
// memo right.
func (s *Summary) bySatelliteID(id string) *ByAction {
	for i := range s.memo {
		if m := &s.memo[i]; m.sat != nil && m.id == id {
			return m.sat
		}
	}
	sat := s.byAction(parser.SatelliteName(id))
	s.memo[s.memoNext] = satMemo{id, sat}
	s.memoNext = (s.memoNext + 1) % len(s.memo)
	return sat
}

type satMemo struct {
	id  string
	sat *ByAction
}

// AddFailures counts the error class of n failed outcomes of one action
// whose error text is errText (the top errors, and audits failed critically
// or recoverably), and returns the class.
func (s *Summary) AddFailures(act parser.Action, errText string, n int64) parser.ErrorClass {
	class := parser.ClassifyError(errText)
	if class == parser.ErrNone {
		class = parser.ErrOther
	}
	if s.Errors == nil {
		s.Errors = map[ErrorKey]int64{}
	}
	s.Errors[ErrorKey{act, class}] += n
	if act == parser.GETAudit {
		if class == parser.ErrFileNotFound {
			s.AuditCritical += n
		} else {
			s.AuditRecoverable += n
		}
	}
	return class
}

// Merge adds o into s.
func (s *Summary) Merge(o *Summary) {
	s.Lines += o.Lines
	s.Blank += o.Blank
	s.Unparsed += o.Unparsed
	for i := range s.UnparsedBy {
		s.UnparsedBy[i] += o.UnparsedBy[i]
	}
	s.UploadsRejected += o.UploadsRejected
	for i := range s.Transfers {
		s.Transfers[i].add(o.Transfers[i])
	}
	s.NoAction.add(o.NoAction)
	s.AuditCritical += o.AuditCritical
	s.AuditRecoverable += o.AuditRecoverable
	for _, name := range o.SatelliteNames() { // in name order: the same keys every run
		b := o.Satellites[name]
		name = s.satellite(name)
		if s.Satellites == nil {
			s.Satellites = map[string]*ByAction{}
		}
		t := s.Satellites[name]
		if t == nil {
			t = new(ByAction)
			s.Satellites[name] = t
		}
		for i := range b {
			t[i].add(b[i])
		}
	}
	for k, n := range o.Errors {
		if s.Errors == nil {
			s.Errors = map[ErrorKey]int64{}
		}
		s.Errors[k] += n
	}
	for i := range s.Levels {
		s.Levels[i] += o.Levels[i]
	}
	if !o.First.IsZero() && (s.First.IsZero() || o.First.Before(s.First)) {
		s.First = o.First
	}
	if o.Last.After(s.Last) {
		s.Last = o.Last
	}
}

// ErrorCount is one row of the top errors.
type ErrorCount struct {
	Action parser.Action
	Class  parser.ErrorClass
	Count  int64
}

// TopErrors returns the failure classes by action, most frequent first.
func (s *Summary) TopErrors(n int) []ErrorCount {
	out := make([]ErrorCount, 0, len(s.Errors))
	for k, c := range s.Errors {
		out = append(out, ErrorCount{k.Action, k.Class, c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if out[i].Action != out[j].Action {
			return out[i].Action < out[j].Action
		}
		return out[i].Class < out[j].Class
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// SatelliteNames returns the satellites seen, in name order.
func (s *Summary) SatelliteNames() []string {
	names := make([]string, 0, len(s.Satellites))
	for n := range s.Satellites {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
