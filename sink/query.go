package sink

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// Selection is a window of the sink's events: every node's or one node's,
// from a time on. Its methods answer queries with typed rows; rendering
// them is the caller's business (package report/dbreport). A Selection
// holds no connection, and its queries may run concurrently with writes.
type Selection struct {
	db              *DB
	where, rejWhere string
	args, rejArgs   []any
	sats            map[int64]string // satellite names by row id
	node            string
	from            time.Time
}

// Select returns the window of node's events (every node's if node is "")
// from from on (from the first event if from is zero). It is an error
// naming the nodes the sink holds when node is not one of them.
func (db *DB) Select(ctx context.Context, node string, from time.Time) (*Selection, error) {
	s, err := db.selection(ctx, node, from)
	if err != nil {
		return nil, db.errf("query", err)
	}
	return s, nil
}

func (db *DB) selection(ctx context.Context, node string, from time.Time) (*Selection, error) {
	lo := idFloor(from)
	s := &Selection{db: db, node: node, from: from,
		where: "id >= ?", args: []any{lo},
		rejWhere: "minute >= ?", rejArgs: []any{(lo >> seqBits) / 60},
		sats: map[int64]string{},
	}
	if node != "" {
		var id int64
		err := db.sql.QueryRowContext(ctx, "SELECT id FROM nodes WHERE name = ?", node).Scan(&id)
		if err == sql.ErrNoRows {
			names, _ := queryStrings(ctx, db.sql, "SELECT name FROM nodes ORDER BY name")
			return nil, fmt.Errorf("no node %q in the sink (nodes: %s)", node, strings.Join(names, ", "))
		}
		if err != nil {
			return nil, err
		}
		s.where += " AND node = ?"
		s.args = append(s.args, id)
		s.rejWhere += " AND node = ?"
		s.rejArgs = append(s.rejArgs, id)
	}
	err := eachRow(ctx, db.sql, "SELECT id, name FROM satellites", nil, func(r *sql.Rows) error {
		var id int64
		var name string
		if err := r.Scan(&id, &name); err != nil {
			return err
		}
		s.sats[id] = name
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Node returns the selected node, "" for every node.
func (s *Selection) Node() string { return s.node }

// From returns the start of the window, zero for the first event.
func (s *Selection) From() time.Time { return s.from }

// satellite is the name of a satellite row; "" when the event named none.
func (s *Selection) satellite(id sql.NullInt64) string {
	if !id.Valid {
		return ""
	}
	return s.sats[id.Int64]
}

// query runs q (a query on event_rows whose condition ends in WHERE) with
// the window's condition and extra, and hands f every row.
func (s *Selection) query(ctx context.Context, what, q, extra string, args []any, f func(*sql.Rows) error) error {
	if err := eachRow(ctx, s.db.sql, fmt.Sprintf(q, s.where+extra), append(append([]any(nil), s.args...), args...), f); err != nil {
		return s.db.errf("query "+what+" in", err)
	}
	return nil
}

// TransferCount is how many outcomes one satellite, action and result had.
type TransferCount struct {
	Satellite    string // the satellite's name (us1) or ID; "" when the line named none
	Action       parser.Action
	Result       parser.Result
	Count        int64
	SuccessBytes int64 // the sizes of successes
}

// Transfers counts the window's outcomes by satellite, action and result.
func (s *Selection) Transfers(ctx context.Context) ([]TransferCount, error) {
	var out []TransferCount
	err := s.query(ctx, "transfers", `SELECT satellite, action, status, count(*),
		sum(CASE WHEN status = 1 AND size > 0 THEN size ELSE 0 END) FROM event_rows WHERE %s
		GROUP BY satellite, action, status`, "", nil, func(r *sql.Rows) error {
		var sat sql.NullInt64
		var act, st int64
		var c TransferCount
		if err := r.Scan(&sat, &act, &st, &c.Count, &c.SuccessBytes); err != nil {
			return err
		}
		c.Satellite, c.Action, c.Result = s.satellite(sat), parser.Action(act), parser.Result(st)
		out = append(out, c)
		return nil
	})
	return out, err
}

// FailureCount is how many failed outcomes of one satellite and action
// had one error text.
type FailureCount struct {
	Satellite string // as in TransferCount
	Action    parser.Action
	Error     string // as logged; "" when the line had none
	Count     int64
}

// Failures counts the window's failed outcomes by satellite, action and
// error text.
func (s *Selection) Failures(ctx context.Context) ([]FailureCount, error) {
	var out []FailureCount
	err := s.query(ctx, "failures", `SELECT satellite, action, error_reason, count(*) FROM event_rows WHERE %s
		GROUP BY satellite, action, error_reason`, " AND status = 3", nil, func(r *sql.Rows) error {
		var sat sql.NullInt64
		var act int64
		var text sql.NullString
		var c FailureCount
		if err := r.Scan(&sat, &act, &text, &c.Count); err != nil {
			return err
		}
		c.Satellite, c.Action, c.Error = s.satellite(sat), parser.Action(act), text.String
		out = append(out, c)
		return nil
	})
	return out, err
}

// UploadsRejected counts the window's upload rejections (by the minute:
// the window starts at the minute of its start).
func (s *Selection) UploadsRejected(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	if err := s.db.sql.QueryRowContext(ctx, "SELECT sum(count) FROM upload_rejections WHERE "+s.rejWhere, s.rejArgs...).Scan(&n); err != nil {
		return 0, s.db.errf("query rejections in", err)
	}
	return n.Int64, nil
}

// Span returns the times of the window's first and last event; both are
// zero when it has none.
func (s *Selection) Span(ctx context.Context) (first, last time.Time, err error) {
	for _, q := range []struct {
		order string
		dst   *time.Time
	}{{"ASC", &first}, {"DESC", &last}} {
		var id int64
		var ms sql.NullInt64
		err := s.db.sql.QueryRowContext(ctx, "SELECT id, ms FROM event_rows WHERE "+s.where+" ORDER BY id "+q.order+" LIMIT 1", s.args...).Scan(&id, &ms)
		if err == sql.ErrNoRows {
			break
		}
		if err != nil {
			return time.Time{}, time.Time{}, s.db.errf("query the span in", err)
		}
		*q.dst = timeOf(id, ms.Int64)
	}
	return first, last, nil
}

// PieceCount is a piece and how often it was downloaded.
type PieceCount struct {
	PieceID   string
	Satellite string
	Downloads int64 // GET outcomes of any result
	Success   int64
	Bytes     int64 // the sizes of successes
}

// MostDownloaded returns the limit pieces with the most GET outcomes in the
// window, the most first (ties by piece ID).
func (s *Selection) MostDownloaded(ctx context.Context, limit int) ([]PieceCount, error) {
	var out []PieceCount
	err := s.query(ctx, "pieces", `SELECT piece, satellite, count(*) AS n, sum(status = 1),
		sum(CASE WHEN status = 1 AND size > 0 THEN size ELSE 0 END) FROM event_rows WHERE %s
		GROUP BY piece, satellite ORDER BY n DESC, piece LIMIT ?`, " AND action = 1 AND piece IS NOT NULL", []any{limit}, func(r *sql.Rows) error {
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
		p.Satellite = s.satellite(sat)
		out = append(out, p)
		return nil
	})
	return out, err
}

// SizeCount is how many transfer outcomes with a size in one bucket one
// action had, successful or not.
type SizeCount struct {
	Bucket  int // index into the bounds given to Sizes
	Action  parser.Action
	Success bool
	Count   int64
}

// Sizes counts the window's transfer outcomes that have a size by bucket:
// bucket i holds the sizes from bounds[i] up to bounds[i+1] (the last one
// has no upper bound; sizes below bounds[0] go to bucket 0). bounds must
// ascend.
func (s *Selection) Sizes(ctx context.Context, bounds []int64) ([]SizeCount, error) {
	var bucket strings.Builder
	bucket.WriteString("CASE")
	for i := len(bounds) - 1; i > 0; i-- {
		fmt.Fprintf(&bucket, " WHEN size >= %d THEN %d", bounds[i], i)
	}
	bucket.WriteString(" ELSE 0 END")
	var out []SizeCount
	err := s.query(ctx, "sizes", `SELECT `+bucket.String()+` AS b, action, status = 1, count(*) FROM event_rows WHERE %s
		GROUP BY b, action, status = 1`, " AND size IS NOT NULL AND action BETWEEN 1 AND 5", nil, func(r *sql.Rows) error {
		var b, act int64
		var c SizeCount
		if err := r.Scan(&b, &act, &c.Success, &c.Count); err != nil {
			return err
		}
		c.Bucket, c.Action = int(b), parser.Action(act)
		out = append(out, c)
		return nil
	})
	return out, err
}

// HourCount is how many transfer outcomes of one action and result one
// hour had.
type HourCount struct {
	Hour   time.Time // UTC, on the hour
	Action parser.Action
	Result parser.Result
	Count  int64
}

// Hourly counts the window's transfer outcomes by hour (UTC), action and
// result, oldest first.
func (s *Selection) Hourly(ctx context.Context) ([]HourCount, error) {
	var out []HourCount
	err := s.query(ctx, "hours", `SELECT (id >> 24) / 3600 AS h, action, status, count(*) FROM event_rows WHERE %s
		GROUP BY h, action, status ORDER BY h`, " AND action BETWEEN 1 AND 5", nil, func(r *sql.Rows) error {
		var h, act, st int64
		var c HourCount
		if err := r.Scan(&h, &act, &st, &c.Count); err != nil {
			return err
		}
		c.Hour, c.Action, c.Result = time.Unix(h*3600, 0).UTC(), parser.Action(act), parser.Result(st)
		out = append(out, c)
		return nil
	})
	return out, err
}

// Paystubs returns the paystubs the sink holds of the selected node (of
// every node when none is), by node name, node ID, satellite ID and
// period. They are not
// windowed: a paystub is a month's statement, kept whole and never pruned.
func (s *Selection) Paystubs(ctx context.Context) ([]Paystub, error) {
	q := `SELECT node_name, node_id, satellite_id, period, created, codes, ` + paystubFigures + `, revisions FROM paystubs`
	var args []any
	if s.node != "" {
		q += " WHERE node_name = ?"
		args = append(args, s.node)
	}
	var out []Paystub
	err := eachRow(ctx, s.db.sql, q+" ORDER BY node_name, node_id, satellite_id, period", args, func(r *sql.Rows) error {
		var p Paystub
		var created sql.NullString
		if err := r.Scan(&p.Node, &p.NodeID, &p.SatelliteID, &p.Period, &created, &p.Codes, &p.CompAtRest, &p.CompGet, &p.CompPut,
			&p.CompGetRepair, &p.CompPutRepair, &p.CompGetAudit, &p.Held, &p.Owed, &p.Disposed, &p.Paid, &p.Distributed,
			&p.Revisions); err != nil {
			return err
		}
		if created.Valid {
			t, err := time.Parse(TimeFormat, created.String)
			if err != nil {
				return fmt.Errorf("paystub %s %s %s: created %q: %w", p.Node, p.SatelliteID, p.Period, created.String, err)
			}
			p.Created = t
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, s.db.errf("query paystubs in", err)
	}
	return out, nil
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
