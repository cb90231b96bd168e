package sink

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/parser"
	"github.com/storagenode-exporter/storagenode-exporter/report"
)

// AnalyzeOptions choose what Analyze looks at.
type AnalyzeOptions struct {
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
	MostDownloaded []PieceCount
	// TopErrors are the failed transfers by satellite, action and error
	// class, most frequent first.
	TopErrors []SatelliteError
	// Sizes is the distribution of transfer sizes (outcomes with a size).
	Sizes []SizeBucket
	// Hourly are the outcomes of each hour (UTC) of the window that had
	// any, oldest first.
	Hourly []HourCounts
}

// PieceCount is a piece and how often it was downloaded.
type PieceCount struct {
	PieceID   string `json:"piece_id"`
	Satellite string `json:"satellite"`
	Downloads int64  `json:"downloads"` // GET outcomes of any result
	Success   int64  `json:"success"`
	Bytes     int64  `json:"success_bytes"`
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
func Analyze(ctx context.Context, db *DB, opts AnalyzeOptions) (*Analysis, error) {
	a, err := analyze(ctx, db, opts)
	if err != nil {
		return nil, db.errf("analyze", err)
	}
	return a, nil
}

func analyze(ctx context.Context, db *DB, opts AnalyzeOptions) (*Analysis, error) {
	if opts.Top <= 0 {
		opts.Top = 10
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	a := &Analysis{Node: opts.Node, To: now().UTC()}
	// The window as a key range, and the node as a condition.
	lo := int64(0)
	if opts.Since > 0 {
		a.From = a.To.Add(-opts.Since)
		lo = idFloor(a.From)
	}
	where, args := "id >= ?", []any{lo}
	rejWhere, rejArgs := "minute >= ?", []any{(lo >> seqBits) / 60}
	if opts.Node != "" {
		var node int64
		err := db.sql.QueryRowContext(ctx, "SELECT id FROM nodes WHERE name = ?", opts.Node).Scan(&node)
		if err == sql.ErrNoRows {
			names, _ := queryStrings(ctx, db.sql, "SELECT name FROM nodes ORDER BY name")
			return nil, fmt.Errorf("no node %q in the sink (nodes: %s)", opts.Node, strings.Join(names, ", "))
		}
		if err != nil {
			return nil, err
		}
		where += " AND node = ?"
		args = append(args, node)
		rejWhere += " AND node = ?"
		rejArgs = append(rejArgs, node)
	}
	sats, err := satelliteNames(ctx, db.sql)
	if err != nil {
		return nil, err
	}
	s := &a.Summary

	// Transfers by satellite, action and result.
	err = eachRow(ctx, db.sql, `SELECT satellite, action, status, count(*),
		sum(CASE WHEN status = 1 AND size > 0 THEN size ELSE 0 END) FROM event_rows WHERE `+where+`
		GROUP BY satellite, action, status`, args, func(r *sql.Rows) error {
		var sat sql.NullInt64
		var act, st, n, bytes int64
		if err := r.Scan(&sat, &act, &st, &n, &bytes); err != nil {
			return err
		}
		a.Events += n
		addCounts(s, sats.name(sat), parser.Action(act), parser.Result(st), n, bytes)
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Failures by satellite, action and error text.
	type errKey struct {
		sat    string
		action parser.Action
		class  parser.ErrorClass
	}
	byKey := map[errKey]*SatelliteError{}
	exampleN := map[errKey]int64{}
	err = eachRow(ctx, db.sql, `SELECT satellite, action, error_reason, count(*) FROM event_rows WHERE `+where+` AND status = 3
		GROUP BY satellite, action, error_reason`, args, func(r *sql.Rows) error {
		var sat sql.NullInt64
		var act, n int64
		var text sql.NullString
		if err := r.Scan(&sat, &act, &text, &n); err != nil {
			return err
		}
		action := parser.Action(act)
		class := parser.ClassifyError(text.String)
		if class == parser.ErrNone {
			class = parser.ErrOther
		}
		if s.Errors == nil {
			s.Errors = map[report.ErrorKey]int64{}
		}
		s.Errors[report.ErrorKey{Action: action, Class: class}] += n
		if action == parser.GETAudit {
			if class == parser.ErrFileNotFound {
				s.AuditCritical += n
			} else {
				s.AuditRecoverable += n
			}
		}
		k := errKey{sats.name(sat), action, class}
		e := byKey[k]
		if e == nil {
			e = &SatelliteError{Satellite: k.sat, Action: action, Class: class}
			byKey[k] = e
		}
		e.Count += n
		if n > exampleN[k] {
			exampleN[k], e.Example = n, text.String
		}
		return nil
	})
	if err != nil {
		return nil, err
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
	var rejected sql.NullInt64
	if err := db.sql.QueryRowContext(ctx, "SELECT sum(count) FROM upload_rejections WHERE "+rejWhere, rejArgs...).Scan(&rejected); err != nil {
		return nil, err
	}
	s.UploadsRejected = rejected.Int64
	for _, q := range []struct {
		order string
		dst   *time.Time
	}{{"ASC", &s.First}, {"DESC", &s.Last}} {
		var id int64
		var ms sql.NullInt64
		err := db.sql.QueryRowContext(ctx, "SELECT id, ms FROM event_rows WHERE "+where+" ORDER BY id "+q.order+" LIMIT 1", args...).Scan(&id, &ms)
		if err == sql.ErrNoRows {
			break
		}
		if err != nil {
			return nil, err
		}
		*q.dst = timeOf(id, ms.Int64)
	}

	// The most downloaded pieces.
	err = eachRow(ctx, db.sql, `SELECT piece, satellite, count(*) AS n, sum(status = 1),
		sum(CASE WHEN status = 1 AND size > 0 THEN size ELSE 0 END) FROM event_rows WHERE `+where+`
		AND action = 1 AND piece IS NOT NULL GROUP BY piece, satellite ORDER BY n DESC, piece LIMIT ?`, append(args, opts.Top), func(r *sql.Rows) error {
		var piece any
		var sat sql.NullInt64
		var p PieceCount
		if err := r.Scan(&piece, &sat, &p.Downloads, &p.Success, &p.Bytes); err != nil {
			return err
		}
		switch x := piece.(type) {
		case []byte:
			p.PieceID = encodePiece(x)
		case string:
			p.PieceID = x
		}
		p.Satellite = sats.name(sat)
		a.MostDownloaded = append(a.MostDownloaded, p)
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Sizes.
	var bucket strings.Builder
	bucket.WriteString("CASE")
	for i := len(sizeBounds) - 1; i > 0; i-- {
		fmt.Fprintf(&bucket, " WHEN size >= %d THEN %d", sizeBounds[i].min, i)
	}
	bucket.WriteString(" ELSE 0 END")
	a.Sizes = make([]SizeBucket, len(sizeBounds))
	for i, b := range sizeBounds {
		a.Sizes[i] = SizeBucket{Label: b.label, Min: b.min}
		if i+1 < len(sizeBounds) {
			a.Sizes[i].Max = sizeBounds[i+1].min
		}
	}
	err = eachRow(ctx, db.sql, `SELECT `+bucket.String()+` AS b, action, status = 1, count(*) FROM event_rows WHERE `+where+`
		AND size IS NOT NULL AND action BETWEEN 1 AND 5 GROUP BY b, action, status = 1`, args, func(r *sql.Rows) error {
		var b, act, n int64
		var ok bool
		if err := r.Scan(&b, &act, &ok, &n); err != nil {
			return err
		}
		if b < 0 || b >= int64(len(a.Sizes)) {
			return nil
		}
		sb := &a.Sizes[b]
		switch up := parser.Action(act).IsUpload(); {
		case up && ok:
			sb.UploadSuccess += n
		case up:
			sb.UploadOther += n
		case ok:
			sb.DownloadSuccess += n
		default:
			sb.DownloadOther += n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Hourly.
	err = eachRow(ctx, db.sql, `SELECT (id >> 24) / 3600 AS h, action, status, count(*) FROM event_rows WHERE `+where+`
		AND action BETWEEN 1 AND 5 GROUP BY h, action, status ORDER BY h`, args, func(r *sql.Rows) error {
		var h, act, st, n int64
		if err := r.Scan(&h, &act, &st, &n); err != nil {
			return err
		}
		hour := time.Unix(h*3600, 0).UTC()
		if len(a.Hourly) == 0 || !a.Hourly[len(a.Hourly)-1].Hour.Equal(hour) {
			a.Hourly = append(a.Hourly, HourCounts{Hour: hour})
		}
		c := &a.Hourly[len(a.Hourly)-1].Transfers[act]
		switch parser.Result(st) {
		case parser.Success:
			c.Success += n
		case parser.Canceled:
			c.Canceled += n
		case parser.Failed:
			c.Failed += n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// addCounts adds n outcomes to the summary the way report counts them.
func addCounts(s *report.Summary, sat string, act parser.Action, res parser.Result, n, bytes int64) {
	transfer := act != parser.ActionNone && act != parser.ActionOther && act != parser.ActionDelete
	c := &s.NoAction
	if transfer {
		c = &s.Transfers[act]
	}
	var one report.Counts
	switch res {
	case parser.Success:
		one.Success, one.SuccessBytes = n, bytes
	case parser.Canceled:
		one.Canceled = n
	case parser.Failed:
		one.Failed = n
	}
	add := func(dst *report.Counts) {
		dst.Success += one.Success
		dst.Canceled += one.Canceled
		dst.Failed += one.Failed
		dst.SuccessBytes += one.SuccessBytes
	}
	add(c)
	if sat == "" && !transfer {
		return
	}
	if sat == "" {
		sat = "unknown"
	}
	if s.Satellites == nil {
		s.Satellites = map[string]*report.ByAction{}
	}
	b := s.Satellites[sat]
	if b == nil {
		b = new(report.ByAction)
		s.Satellites[sat] = b
	}
	if !transfer {
		act = parser.ActionNone
	}
	add(&b[act])
}

type satNames map[int64]string

func (m satNames) name(id sql.NullInt64) string {
	if !id.Valid {
		return ""
	}
	return m[id.Int64]
}

func satelliteNames(ctx context.Context, db *sql.DB) (satNames, error) {
	m := satNames{}
	err := eachRow(ctx, db, "SELECT id, name FROM satellites", nil, func(r *sql.Rows) error {
		var id int64
		var name string
		if err := r.Scan(&id, &name); err != nil {
			return err
		}
		m[id] = name
		return nil
	})
	return m, err
}

func eachRow(ctx context.Context, db *sql.DB, q string, args []any, f func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func queryStrings(ctx context.Context, db *sql.DB, q string) ([]string, error) {
	var out []string
	err := eachRow(ctx, db, q, nil, func(r *sql.Rows) error {
		var s string
		if err := r.Scan(&s); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// WriteText writes the analysis as text: the success-rate report of
// report.WriteText, then the piece-level sections.
func WriteText(w io.Writer, a *Analysis) error {
	var buf bytes.Buffer
	if err := report.WriteText(&buf, &a.Summary); err != nil {
		return err
	}
	text := buf.String()
	if i := strings.Index(text, "\n========== LOG =========="); i >= 0 {
		text = text[:i+1] // the sink keeps no line counts
	}
	if _, err := io.WriteString(w, text); err != nil {
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
	MostDownloaded []PieceCount     `json:"most_downloaded"`
	TopErrors      []jsonSatError   `json:"top_errors"`
	Sizes          []SizeBucket     `json:"sizes"`
	Hourly         []map[string]any `json:"hourly"`
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
		MostDownloaded: a.MostDownloaded, Sizes: a.Sizes, TopErrors: []jsonSatError{}, Hourly: []map[string]any{}}
	if !a.From.IsZero() {
		out.From = &a.From
	}
	if out.MostDownloaded == nil {
		out.MostDownloaded = []PieceCount{}
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
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
