package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// jsonReport is the --format json document. The first four keys are the
// interface scripts rely on; the others are extra detail.
type jsonReport struct {
	Lines           int64                     `json:"lines"`
	Unparsed        int64                     `json:"unparsed"`
	UploadsRejected int64                     `json:"uploads_rejected"`
	Transfers       map[string]Counts         `json:"transfers"`
	Blank           int64                     `json:"blank"`
	UnparsedBy      map[string]int64          `json:"unparsed_by_reason"`
	NoAction        Counts                    `json:"transfers_without_action"`
	Audits          jsonAudits                `json:"audits"`
	Satellites      map[string]map[string]any `json:"satellites"`
	Errors          []jsonError               `json:"errors"`
	Levels          map[string]int64          `json:"levels"`
	First           *time.Time                `json:"first,omitempty"`
	Last            *time.Time                `json:"last,omitempty"`
}

type jsonAudits struct {
	Success     int64 `json:"success"`
	Canceled    int64 `json:"canceled"`
	Critical    int64 `json:"failed_critical"`
	Recoverable int64 `json:"failed_recoverable"`
}

type jsonError struct {
	Action string `json:"action"`
	Class  string `json:"class"`
	Count  int64  `json:"count"`
}

// WriteJSON writes the summary as one JSON object. Every transfer action is
// present, with zeros where nothing was seen.
func WriteJSON(w io.Writer, s *Summary) error {
	out := jsonReport{
		Lines:           s.Lines,
		Unparsed:        s.Unparsed,
		UploadsRejected: s.UploadsRejected,
		Transfers:       map[string]Counts{},
		Blank:           s.Blank,
		UnparsedBy:      map[string]int64{},
		NoAction:        s.NoAction,
		Audits: jsonAudits{
			Success:     s.Transfers[parser.GETAudit].Success,
			Canceled:    s.Transfers[parser.GETAudit].Canceled,
			Critical:    s.AuditCritical,
			Recoverable: s.AuditRecoverable,
		},
		Satellites: map[string]map[string]any{},
		Errors:     []jsonError{},
		Levels:     map[string]int64{},
	}
	for _, a := range parser.TransferActions {
		out.Transfers[a.String()] = s.Transfers[a]
	}
	for _, r := range parser.Reasons {
		out.UnparsedBy[r.String()] = s.UnparsedBy[r]
	}
	for _, name := range s.SatelliteNames() {
		m := map[string]any{}
		for _, a := range parser.TransferActions {
			m[a.String()] = s.Satellites[name][a]
		}
		out.Satellites[name] = m
	}
	for _, e := range s.TopErrors(0) {
		out.Errors = append(out.Errors, jsonError{e.Action.String(), e.Class.String(), e.Count})
	}
	for _, l := range parser.Levels {
		out.Levels[l.String()] = s.Levels[l]
	}
	if !s.First.IsZero() {
		f, l := s.First, s.Last
		out.First, out.Last = &f, &l
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func rate(n, total int64) string {
	if total == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f%%", 100*float64(n)/float64(total))
}

// WriteText writes the report operators know from the success-rate script,
// followed by a per-satellite table, the top error classes and the line
// counts.
func WriteText(w io.Writer, s *Summary) error { return writeText(w, s, true) }

// WriteTransfersText writes WriteText's report without its LOG section, for
// a summary that counts no lines (the sink keeps none), and a blank line.
func WriteTransfersText(w io.Writer, s *Summary) error { return writeText(w, s, false) }

func writeText(w io.Writer, s *Summary, lines bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	section := func(title string) { p("========== %s %s\n", title, strings.Repeat("=", max(3, 28-len(title)))) }

	a := s.Transfers[parser.GETAudit]
	section("AUDIT")
	p("Critically failed:\t%d\n", s.AuditCritical)
	p("Critical fail rate:\t%s\n", rate(s.AuditCritical, a.Total()))
	p("Recoverable failed:\t%d\n", s.AuditRecoverable)
	p("Recoverable fail rate:\t%s\n", rate(s.AuditRecoverable, a.Total()))
	p("Canceled:\t%d\n", a.Canceled)
	p("Cancel rate:\t%s\n", rate(a.Canceled, a.Total()))
	p("Successful:\t%d\n", a.Success)
	p("Success rate:\t%s\n", rate(a.Success, a.Total()))

	outcomes := func(c Counts) {
		p("Failed:\t%d\n", c.Failed)
		p("Fail rate:\t%s\n", rate(c.Failed, c.Total()))
		p("Canceled:\t%d\n", c.Canceled)
		p("Cancel rate:\t%s\n", rate(c.Canceled, c.Total()))
		p("Successful:\t%d\n", c.Success)
		p("Success rate:\t%s\n", rate(c.Success, c.Total()))
	}
	block := func(title string, c Counts) {
		section(title)
		outcomes(c)
	}
	block("DOWNLOAD", s.Transfers[parser.GET])

	up := s.Transfers[parser.PUT]
	section("UPLOAD")
	p("Rejected:\t%d\n", s.UploadsRejected)
	p("Acceptance rate:\t%s\n", rate(up.Total(), up.Total()+s.UploadsRejected))
	p("---------- accepted ----------\n")
	outcomes(up)

	block("REPAIR DOWNLOAD", s.Transfers[parser.GETRepair])
	block("REPAIR UPLOAD", s.Transfers[parser.PUTRepair])
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\n========== PER SATELLITE (success / canceled / failed) ==========\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "satellite\t")
	for _, act := range parser.TransferActions {
		fmt.Fprintf(tw, "%s\t", act)
	}
	fmt.Fprint(tw, "\n")
	for _, name := range s.SatelliteNames() {
		fmt.Fprintf(tw, "%s\t", name)
		for _, act := range parser.TransferActions {
			c := s.Satellites[name][act]
			fmt.Fprintf(tw, "%d/%d/%d (%s)\t", c.Success, c.Canceled, c.Failed, rate(c.Success, c.Total()))
		}
		fmt.Fprint(tw, "\n")
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\n========== TOP ERRORS (failed transfers) ==========\n")
	top := s.TopErrors(10)
	if len(top) == 0 {
		fmt.Fprintln(w, "none")
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range top {
		fmt.Fprintf(tw, "%d\t%s\t%s\n", e.Count, e.Action, e.Class)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !lines {
		_, err := fmt.Fprintln(w) // the blank line before the next section, as report --db always printed
		return err
	}

	fmt.Fprintf(w, "\n========== LOG ==========\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Lines:\t%d\n", s.Lines)
	fmt.Fprintf(tw, "Blank:\t%d\n", s.Blank)
	fmt.Fprintf(tw, "Unparsed:\t%d", s.Unparsed)
	var parts []string
	for _, r := range parser.Reasons {
		if n := s.UnparsedBy[r]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", r, n))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(tw, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintln(tw)
	if s.NoAction.Total() > 0 {
		fmt.Fprintf(tw, "Transfers without action:\t%d\n", s.NoAction.Total())
	}
	if !s.First.IsZero() {
		fmt.Fprintf(tw, "From:\t%s\n", s.First.Format(time.RFC3339))
		fmt.Fprintf(tw, "To:\t%s\n", s.Last.Format(time.RFC3339))
	}
	return tw.Flush()
}
