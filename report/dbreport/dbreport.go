// Package dbreport is report --db: the success-rate report and the
// piece-level analysis (most-downloaded pieces, top errors by satellite and
// action, transfer sizes, hourly success rates) of the events the sink
// holds, and the node API's paystubs it stored per satellite with their
// totals (in dollars through nodeapi's conversion), as text or JSON. It asks the sink for rows (sink.Selection) and
// counts them into a report.Summary under report's rules; the sink prints
// nothing.
package dbreport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
	"github.com/storagenode-exporter/storagenode-exporter/report"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

// Options choose what Analyze looks at.
type Options struct {
	Node  string        // "": every node
	Since time.Duration // only events of the last Since; 0: all
	Top   int           // rows of the top lists; 0: 10
	Now   func() time.Time
}

// Analysis answers the success-rate report and the piece-level questions
// from the sink.
type Analysis struct {
	Node string // "" for every node
	// From and To bound the window (From is zero without Since).
	From, To time.Time
	Events   int64
	// Summary is the success-rate report of the window: transfers by action
	// and result, success bytes, audits, uploads rejected, per satellite,
	// top error classes, and the times of the first and last event. The
	// sink keeps no line counts: Lines, Blank, Unparsed and Levels are 0.
	Summary report.Summary
	// MostDownloaded are the pieces with the most GET outcomes.
	MostDownloaded []sink.PieceCount
	// TopErrors are the failed transfers by satellite, action and error
	// class, most frequent first.
	TopErrors []SatelliteError
	// Sizes is the distribution of transfer sizes (outcomes with a size).
	Sizes []SizeBucket
	// Hourly are the outcomes of each hour (UTC) of the window that had
	// any, oldest first.
	Hourly []HourCounts
	// Paystubs are the node API's paystubs the sink holds (serve --db),
	// by node and satellite, whatever the window: a paystub is a month's
	// statement, kept whole.
	Paystubs []SatellitePaystubs
}

// SatellitePaystubs are the stored paystubs of one node and satellite,
// oldest first, and their totals as the node's dashboard sums them
// (nodeapi.PaystubTotals, micro-dollars).
type SatellitePaystubs struct {
	Node        string
	NodeID      string // the node's identity; a name given to two nodes shows each apart
	Satellite   string // the satellite's name (us1) or ID
	SatelliteID string
	Periods     []sink.Paystub
	Totals      nodeapi.PaystubTotals
}

// SatelliteError counts the failures of one satellite, action and error
// class.
type SatelliteError struct {
	Satellite string            `json:"satellite"`
	Action    parser.Action     `json:"-"`
	Class     parser.ErrorClass `json:"-"`
	Count     int64             `json:"count"`
	Example   string            `json:"example"` // the most frequent error text of the class
}

// SizeBucket counts the outcomes whose size falls in [Min, Max) (Max 0: no
// upper bound), by direction and whether they succeeded.
type SizeBucket struct {
	Label           string `json:"bucket"`
	Min             int64  `json:"min"`
	Max             int64  `json:"max,omitempty"`
	DownloadSuccess int64  `json:"downloads_success"`
	DownloadOther   int64  `json:"downloads_canceled_or_failed"`
	UploadSuccess   int64  `json:"uploads_success"`
	UploadOther     int64  `json:"uploads_canceled_or_failed"`
}

// HourCounts are the outcomes of one hour by action.
type HourCounts struct {
	Hour      time.Time
	Transfers report.ByAction
}

// sizeBounds are the lower bounds of the size buckets, the predecessor's.
var sizeBounds = []struct {
	label string
	min   int64
}{
	{"< 1 KiB", 0}, {"1-4 KiB", 1 << 10}, {"4-16 KiB", 4 << 10}, {"16-64 KiB", 16 << 10},
	{"64-256 KiB", 64 << 10}, {"256 KiB-1 MiB", 256 << 10}, {">= 1 MiB", 1 << 20},
}

// Analyze reads the events of the window from the sink.
func Analyze(ctx context.Context, db *sink.DB, opts Options) (*Analysis, error) {
	if opts.Top <= 0 {
		opts.Top = 10
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	a := &Analysis{Node: opts.Node, To: now().UTC()}
	if opts.Since > 0 {
		a.From = a.To.Add(-opts.Since)
	}
	sel, err := db.Select(ctx, opts.Node, a.From)
	if err != nil {
		return nil, err
	}
	s := &a.Summary

	// Transfers by satellite, action and result.
	transfers, err := sel.Transfers(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range transfers {
		a.Events += c.Count
		s.AddOutcomes(c.Satellite, c.Action, c.Result, c.Count, c.SuccessBytes)
	}

	// Failures by satellite, action and error class.
	failures, err := sel.Failures(ctx)
	if err != nil {
		return nil, err
	}
	type errKey struct {
		sat    string
		action parser.Action
		class  parser.ErrorClass
	}
	byKey := map[errKey]*SatelliteError{}
	exampleN := map[errKey]int64{}
	for _, f := range failures {
		class := s.AddFailures(f.Action, f.Error, f.Count)
		k := errKey{f.Satellite, f.Action, class}
		e := byKey[k]
		if e == nil {
			e = &SatelliteError{Satellite: k.sat, Action: f.Action, Class: class}
			byKey[k] = e
		}
		e.Count += f.Count
		if f.Count > exampleN[k] {
			exampleN[k], e.Example = f.Count, f.Error
		}
	}
	for _, e := range byKey {
		a.TopErrors = append(a.TopErrors, *e)
	}
	sort.Slice(a.TopErrors, func(i, j int) bool {
		x, y := a.TopErrors[i], a.TopErrors[j]
		if x.Count != y.Count {
			return x.Count > y.Count
		}
		if x.Satellite != y.Satellite {
			return x.Satellite < y.Satellite
		}
		if x.Action != y.Action {
			return x.Action < y.Action
		}
		return x.Class < y.Class
	})
	if len(a.TopErrors) > opts.Top {
		a.TopErrors = a.TopErrors[:opts.Top]
	}

	// Uploads rejected, and the first and last event.
	if s.UploadsRejected, err = sel.UploadsRejected(ctx); err != nil {
		return nil, err
	}
	if s.First, s.Last, err = sel.Span(ctx); err != nil {
		return nil, err
	}

	// The most downloaded pieces.
	if a.MostDownloaded, err = sel.MostDownloaded(ctx, opts.Top); err != nil {
		return nil, err
	}

	// Sizes.
	bounds := make([]int64, len(sizeBounds))
	a.Sizes = make([]SizeBucket, len(sizeBounds))
	for i, b := range sizeBounds {
		bounds[i] = b.min
		a.Sizes[i] = SizeBucket{Label: b.label, Min: b.min}
		if i+1 < len(sizeBounds) {
			a.Sizes[i].Max = sizeBounds[i+1].min
		}
	}
	sizes, err := sel.Sizes(ctx, bounds)
	if err != nil {
		return nil, err
	}
	for _, c := range sizes {
		if c.Bucket < 0 || c.Bucket >= len(a.Sizes) {
			continue
		}
		sb := &a.Sizes[c.Bucket]
		switch up := c.Action.IsUpload(); {
		case up && c.Success:
			sb.UploadSuccess += c.Count
		case up:
			sb.UploadOther += c.Count
		case c.Success:
			sb.DownloadSuccess += c.Count
		default:
			sb.DownloadOther += c.Count
		}
	}

	// Paystubs, by node and satellite.
	stubs, err := sel.Paystubs(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range stubs {
		n := len(a.Paystubs)
		if n == 0 || a.Paystubs[n-1].Node != p.Node || a.Paystubs[n-1].NodeID != p.NodeID || a.Paystubs[n-1].SatelliteID != p.SatelliteID {
			a.Paystubs = append(a.Paystubs, SatellitePaystubs{Node: p.Node, NodeID: p.NodeID,
				Satellite: parser.SatelliteName(p.SatelliteID), SatelliteID: p.SatelliteID})
			n++
		}
		sp := &a.Paystubs[n-1]
		sp.Periods = append(sp.Periods, p)
		sp.Totals.Add(&p.Paystub)
	}
	sort.SliceStable(a.Paystubs, func(i, j int) bool {
		x, y := &a.Paystubs[i], &a.Paystubs[j]
		if x.Node != y.Node {
			return x.Node < y.Node
		}
		if x.NodeID != y.NodeID {
			return x.NodeID < y.NodeID
		}
		return x.Satellite < y.Satellite
	})

	// Hourly.
	hours, err := sel.Hourly(ctx)
	if err != nil {
		return nil, err
	}
	for _, h := range hours {
		if len(a.Hourly) == 0 || !a.Hourly[len(a.Hourly)-1].Hour.Equal(h.Hour) {
			a.Hourly = append(a.Hourly, HourCounts{Hour: h.Hour})
		}
		c := &a.Hourly[len(a.Hourly)-1].Transfers[h.Action]
		switch h.Result {
		case parser.Success:
			c.Success += h.Count
		case parser.Canceled:
			c.Canceled += h.Count
		case parser.Failed:
			c.Failed += h.Count
		}
	}
	return a, nil
}

// WriteText writes the analysis as text: the success-rate report of
// report.WriteText, then the piece-level sections.
func WriteText(w io.Writer, a *Analysis) error {
	if err := report.WriteTransfersText(w, &a.Summary); err != nil { // the sink keeps no line counts
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	flush := func() {
		tw.Flush()
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	}
	rate := func(n, total int64) string {
		if total == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f%%", 100*float64(n)/float64(total))
	}

	p("\n========== MOST DOWNLOADED PIECES (GET) ==========\n")
	if len(a.MostDownloaded) == 0 {
		p("none\n")
	} else {
		p("piece\tsatellite\tdownloads\tsuccess\tbytes\n")
	}
	for _, pc := range a.MostDownloaded {
		p("%s\t%s\t%d\t%d\t%d\n", pc.PieceID, orUnknown(pc.Satellite), pc.Downloads, pc.Success, pc.Bytes)
	}
	flush()

	p("\n========== TOP ERRORS BY SATELLITE AND ACTION ==========\n")
	if len(a.TopErrors) == 0 {
		p("none\n")
	}
	for _, e := range a.TopErrors {
		p("%d\t%s\t%s\t%s\t%s\n", e.Count, orUnknown(e.Satellite), e.Action, e.Class, clip(e.Example, 100))
	}
	flush()

	p("\n========== TRANSFER SIZES ==========\n")
	p("size\tdownloads ok\tnot ok\tuploads ok\tnot ok\n")
	for _, b := range a.Sizes {
		p("%s\t%d\t%d\t%d\t%d\n", b.Label, b.DownloadSuccess, b.DownloadOther, b.UploadSuccess, b.UploadOther)
	}
	flush()

	p("\n========== HOURLY SUCCESS RATES (UTC) ==========\n")
	if len(a.Hourly) == 0 {
		p("none\n")
	} else {
		p("hour\tdownload\tupload\taudit\trepair down\trepair up\n")
	}
	for _, h := range a.Hourly {
		p("%s", h.Hour.Format("2006-01-02 15:00"))
		for _, act := range []parser.Action{parser.GET, parser.PUT, parser.GETAudit, parser.GETRepair, parser.PUTRepair} {
			c := h.Transfers[act]
			p("\t%s of %d", rate(c.Success, c.Total()), c.Total())
		}
		p("\n")
	}
	flush()

	if len(a.Paystubs) > 0 {
		writePaystubsText(p, flush, a.Paystubs)
	}

	p("\n========== SINK ==========\n")
	if a.Node != "" {
		p("Node:\t%s\n", a.Node)
	}
	p("Events:\t%d\n", a.Events)
	if !a.From.IsZero() {
		p("Window:\t%s to %s\n", a.From.Format(time.RFC3339), a.To.Format(time.RFC3339))
	}
	if !a.Summary.First.IsZero() {
		p("First:\t%s\n", a.Summary.First.Format(time.RFC3339))
		p("Last:\t%s\n", a.Summary.Last.Format(time.RFC3339))
	}
	return tw.Flush()
}

// writePaystubsText writes the PAYSTUBS section: each satellite's months
// and totals, in US dollars.
func writePaystubsText(p func(string, ...any), flush func(), sats []SatellitePaystubs) {
	usd := func(micro int64) string { return fmt.Sprintf("%.2f", nodeapi.Dollars(micro)) }
	p("\n========== PAYSTUBS (US DOLLARS) ==========\n")
	for _, s := range sats {
		first, last := s.Periods[0].Period, s.Periods[len(s.Periods)-1].Period
		p("\n%s, %s: %d months, %s to %s (node ID %s)\n", s.Node, s.Satellite, len(s.Periods), first, last, orUnknown(s.NodeID))
		p("period\tearned\theld\treturned\tpaid\tdistributed\tcodes\n")
		for _, m := range s.Periods {
			codes := m.Codes
			if m.Revisions > 0 {
				codes += fmt.Sprintf(" (revised %d×)", m.Revisions)
			}
			p("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Period, usd(m.Earned()), usd(m.Held), usd(m.Disposed), usd(m.Paid), usd(m.Distributed), codes)
		}
		flush()
		t := s.Totals
		p("total: paid %s, held now %s, returned %s, undistributed %s\n", usd(t.Paid), usd(t.Held), usd(t.Returned), usd(t.Undistributed))
	}
	flush()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

type jsonAnalysis struct {
	Node           string           `json:"node,omitempty"`
	From           *time.Time       `json:"from,omitempty"`
	To             time.Time        `json:"to"`
	Events         int64            `json:"events"`
	Summary        json.RawMessage  `json:"summary"`
	MostDownloaded []jsonPiece      `json:"most_downloaded"`
	TopErrors      []jsonSatError   `json:"top_errors"`
	Sizes          []SizeBucket     `json:"sizes"`
	Hourly         []map[string]any `json:"hourly"`
	Paystubs       []jsonPaystubs   `json:"paystubs,omitempty"`
}

type jsonPaystubs struct {
	Node        string        `json:"node"`
	NodeID      string        `json:"node_id"`
	Satellite   string        `json:"satellite"`
	SatelliteID string        `json:"satellite_id"`
	Months      int           `json:"months"`
	Totals      jsonTotals    `json:"totals"`
	Periods     []jsonPaystub `json:"periods"`
}

type jsonTotals struct {
	Paid          float64 `json:"paid_dollars"`
	Held          float64 `json:"held_dollars"`
	Returned      float64 `json:"returned_dollars"`
	Undistributed float64 `json:"undistributed_dollars"`
}

type jsonPaystub struct {
	Period      string  `json:"period"`
	Earned      float64 `json:"earned_dollars"`
	Held        float64 `json:"held_dollars"`
	Returned    float64 `json:"returned_dollars"`
	Paid        float64 `json:"paid_dollars"`
	Distributed float64 `json:"distributed_dollars"`
	Codes       string  `json:"codes"`
	Revisions   int64   `json:"revisions"`
}

type jsonPiece struct {
	PieceID   string `json:"piece_id"`
	Satellite string `json:"satellite"`
	Downloads int64  `json:"downloads"`
	Success   int64  `json:"success"`
	Bytes     int64  `json:"success_bytes"`
}

type jsonSatError struct {
	SatelliteError
	Action string `json:"action"`
	Class  string `json:"class"`
}

// WriteJSON writes the analysis as one JSON object. Its summary is the
// document of `report --format json` (with lines, blank and unparsed 0).
func WriteJSON(w io.Writer, a *Analysis) error {
	var sum bytes.Buffer
	if err := report.WriteJSON(&sum, &a.Summary); err != nil {
		return err
	}
	out := jsonAnalysis{Node: a.Node, To: a.To, Events: a.Events, Summary: bytes.TrimSpace(sum.Bytes()),
		MostDownloaded: []jsonPiece{}, Sizes: a.Sizes, TopErrors: []jsonSatError{}, Hourly: []map[string]any{}}
	if !a.From.IsZero() {
		out.From = &a.From
	}
	for _, p := range a.MostDownloaded {
		out.MostDownloaded = append(out.MostDownloaded, jsonPiece(p))
	}
	for _, e := range a.TopErrors {
		out.TopErrors = append(out.TopErrors, jsonSatError{SatelliteError: e, Action: e.Action.String(), Class: e.Class.String()})
	}
	for _, h := range a.Hourly {
		m := map[string]any{"hour": h.Hour}
		for _, act := range parser.TransferActions {
			m[act.String()] = h.Transfers[act]
		}
		out.Hourly = append(out.Hourly, m)
	}
	for _, s := range a.Paystubs {
		t := s.Totals
		js := jsonPaystubs{Node: s.Node, NodeID: s.NodeID, Satellite: s.Satellite, SatelliteID: s.SatelliteID, Months: len(s.Periods),
			Totals: jsonTotals{Paid: nodeapi.Dollars(t.Paid), Held: nodeapi.Dollars(t.Held), Returned: nodeapi.Dollars(t.Returned),
				Undistributed: nodeapi.Dollars(t.Undistributed)}}
		for _, m := range s.Periods {
			js.Periods = append(js.Periods, jsonPaystub{Period: m.Period, Earned: nodeapi.Dollars(m.Earned()), Held: nodeapi.Dollars(m.Held),
				Returned: nodeapi.Dollars(m.Disposed), Paid: nodeapi.Dollars(m.Paid), Distributed: nodeapi.Dollars(m.Distributed),
				Codes: m.Codes, Revisions: m.Revisions})
		}
		out.Paystubs = append(out.Paystubs, js)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
