package sink

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
)

// A log's identity is its fingerprint (the hash of its first bytes, see
// Fingerprint): a renamed, copied or compressed log is the same log. The
// sink holds ranges of it, one position row each: [Start, Offset), the
// reader's state at Offset, and the process extending it (Owner). Every
// reader of logs into the sink, serve's and ingest's, goes by these rows,
// so that whatever order they run in, each line is read into the sink
// once:
//
//   - ingest fills a log from its start: it extends the range at 0 (or
//     begins one) up to where the next range starts, then merges the two;
//     when the next one has no live owner it takes it over and goes on to
//     the end, else (serve follows it) it stops there.
//   - serve starts at the end of a log it has never seen (a range that
//     begins there), or continues the range the sink holds; a log that
//     appears while it runs (rotation) is read from its start.
//   - A write that would take in the start of another range fails with a
//     RangeError (another process began a range meanwhile): the reader
//     plans again from what is committed.
//
// Rows are claimed, merged and created in write transactions of their own,
// so two processes never extend the same range.

// RangeError fails the write of a position whose range would take in the
// start of another range of the same log.
type RangeError struct{ Start int64 }

func (e *RangeError) Error() string {
	return fmt.Sprintf("another range of the log begins at byte %d (another process began reading it)", e.Start)
}

// ownerError fails the write of a position another process owns now.
type ownerError struct{ id, owner, want int64 }

func (e *ownerError) Error() string {
	return fmt.Sprintf("position %d is owned by writer %d, not %d", e.id, e.owner, e.want)
}

// planMode is what a reader wants of a log.
type planMode int

const (
	// planIngest: the whole log, from its start.
	planIngest planMode = iota
	// planFollow: what follows the range the reader holds; a log it does
	// not know is new, read from its start.
	planFollow
	// planStart: as planFollow, but a log nobody holds is taken from its
	// end (serve at start), unless fromBeginning.
	planStart
)

// plan is where a reader goes on in a log.
type plan struct {
	pos *Position // the range to extend; ID 0: new, not written yet
	// state is the reader's state at pos.Offset; nil: the reader carries
	// its own (a new log after the one it read before).
	state []byte
	// limit is where the next range of the log begins (-1: none), limitID
	// its row.
	limit, limitID int64
	// heldBy: the log's start is followed by another live process, which
	// reads it to its end: nothing to do (planIngest).
	heldBy *Writer
}

// identityRows returns the rows of a node whose fingerprint matches the
// start of a log (prefix: its first FingerprintSize bytes, or all of a
// shorter one).
func identityRows(rows []Position, prefix []byte) []*Position {
	var out []*Position
	sums := map[int64][]byte{}
	for i := range rows {
		p := &rows[i]
		n := p.FingerprintLen
		if n <= 0 || n > int64(len(prefix)) || len(p.Fingerprint) == 0 {
			continue
		}
		sum, ok := sums[n]
		if !ok {
			_, sum = Fingerprint(prefix[:n])
			sums[n] = sum
		}
		if bytes.Equal(sum, p.Fingerprint) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Start != out[j].Start {
			return out[i].Start < out[j].Start
		}
		return out[i].Offset > out[j].Offset
	})
	return out
}

// planArgs is what plan needs besides the rows.
type planArgs struct {
	node   string
	lock   int64 // the reader's Lock; 0: none (its rows have no owner)
	mode   planMode
	prefix []byte
	path   string
	dev    uint64
	inode  uint64
	// atEnd returns where a log is taken from its end: its last line end,
	// and the reader's state there. It is called inside the transaction,
	// so that no other reader moves meanwhile.
	atEnd func() (int64, []byte, error)
	// fromBeginning: planStart takes a log nobody holds from its start.
	fromBeginning bool
}

// plan decides, in a write transaction, where a reader goes on in a log,
// claiming the range it extends.
func (db *DB) plan(ctx context.Context, a planArgs) (*plan, error) {
	var out *plan
	err := db.tx(ctx, "plan the reading of "+a.path+" into", func(tx *sql.Tx) error {
		live, err := db.reap(ctx, tx)
		if err != nil {
			return err
		}
		liveByID := map[int64]Writer{}
		for _, w := range live {
			liveByID[w.id] = Writer{ID: w.id, Role: w.role, PID: w.pid, Host: w.host}
		}
		nid, err := nodeID(ctx, tx, a.node)
		if err != nil {
			return err
		}
		all, err := txPositions(ctx, tx, nid, a.node)
		if err != nil {
			return err
		}
		rows := identityRows(all, a.prefix)
		free := func(p *Position) bool {
			_, other := liveByID[p.Owner]
			return p.Owner == 0 || p.Owner == a.lock || !other
		}
		if rows, err = normalize(ctx, tx, rows, free); err != nil {
			return err
		}
		claim := func(p *Position) error {
			if p.Owner == a.lock {
				return nil
			}
			p.Owner = a.lock
			_, err := tx.ExecContext(ctx, "UPDATE positions SET owner = ? WHERE id = ?", nilIfZero(a.lock), p.ID)
			return err
		}
		var pos *Position
		switch a.mode {
		case planIngest:
			for _, r := range rows {
				if r.Start == 0 {
					pos = r
					break
				}
			}
			if pos != nil && !free(pos) {
				w := liveByID[pos.Owner]
				out = &plan{heldBy: &w}
				return nil
			}
		default:
			for _, r := range rows { // ours, else a free one: the furthest
				if r.Owner == a.lock && a.lock != 0 && (pos == nil || r.Offset > pos.Offset) {
					pos = r
				}
			}
			if pos == nil {
				for _, r := range rows {
					if free(r) && (pos == nil || r.Offset > pos.Offset) {
						pos = r
					}
				}
			}
		}
		var state []byte
		switch {
		case pos != nil:
			if err := claim(pos); err != nil {
				return err
			}
			state = pos.State
		case a.mode == planIngest || a.mode == planFollow && len(rows) == 0 || a.mode == planStart && len(rows) == 0 && a.fromBeginning:
			pos = &Position{Node: a.node, Owner: a.lock}
		default: // serve: a log nobody holds is taken from its end; one a live ingest holds, from its end too
			end, st, err := a.atEnd()
			if err != nil {
				return err
			}
			for _, r := range rows {
				if r.Offset > end {
					return fmt.Errorf("a range of the log ends at byte %d, after its last line end %d", r.Offset, end)
				}
			}
			pos = &Position{Node: a.node, Start: end, Offset: end, State: st, Owner: a.lock}
			state = st
		}
		pos.Path, pos.Dev, pos.Inode = a.path, a.dev, a.inode
		if int64(len(a.prefix)) >= pos.FingerprintLen {
			pos.FingerprintLen, pos.Fingerprint = Fingerprint(a.prefix)
		}
		if pos.ID == 0 && (pos.Start > 0 || a.mode != planIngest) {
			// serve's new range is written at once, so that an ingest
			// running now stops where it begins
			res, err := tx.ExecContext(ctx, `INSERT INTO positions (node, path, dev, inode, fp_len, fp, byte_offset, state, updated, start_offset, owner)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, nid, pos.Path, int64(pos.Dev), int64(pos.Inode), pos.FingerprintLen,
				nilIfEmpty(pos.Fingerprint), pos.Offset, nilIfEmpty(pos.State), db.now().Unix(), pos.Start, nilIfZero(pos.Owner))
			if err != nil {
				return err
			}
			if pos.ID, err = res.LastInsertId(); err != nil {
				return err
			}
		}
		out = &plan{pos: pos, state: state, limit: -1}
		for _, r := range rows {
			if r.ID != pos.ID && r.Start >= pos.Offset && (out.limit < 0 || r.Start < out.limit) {
				out.limit, out.limitID = r.Start, r.ID
			}
		}
		return nil
	})
	return out, err
}

// normalize folds the free ranges that overlap another range into it:
// positions written before ranges existed (schema 2) all start at 0. The
// rows stay sorted by start.
func normalize(ctx context.Context, tx *sql.Tx, rows []*Position, free func(*Position) bool) ([]*Position, error) {
	for i := 0; i < len(rows); i++ {
		for j := i + 1; j < len(rows); j++ {
			a, b := rows[i], rows[j]
			if b.Start >= a.Offset && b.Start != a.Start {
				continue // disjoint
			}
			// b starts inside a: keep the one that reaches further
			keep, drop := a, b
			if b.Offset > a.Offset {
				keep, drop = b, a
			}
			if !free(drop) {
				continue // a live process extends it: leave both
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM positions WHERE id = ?", drop.ID); err != nil {
				return nil, err
			}
			if _, err := tx.ExecContext(ctx, "UPDATE positions SET start_offset = ? WHERE id = ?", a.Start, keep.ID); err != nil {
				return nil, err
			}
			keep.Start = a.Start
			rows[i] = keep
			rows = append(rows[:j], rows[j+1:]...)
			j = i
		}
	}
	return rows, nil
}

// merge joins a range that has reached the start of the next one (limitID)
// into it, in one transaction: the next one then starts where ours did.
// When the next one has no live owner, the reader takes it over (claimed)
// and goes on with it; else heldBy is its owner.
func (db *DB) merge(ctx context.Context, lock int64, ours *Position, limitID int64) (claimed bool, heldBy *Writer, err error) {
	err = db.tx(ctx, "merge the positions of "+ours.Path+" in", func(tx *sql.Tx) error {
		live, err := db.reap(ctx, tx)
		if err != nil {
			return err
		}
		var start int64
		var owner sql.NullInt64
		switch err := tx.QueryRowContext(ctx, "SELECT start_offset, owner FROM positions WHERE id = ?", limitID).Scan(&start, &owner); {
		case errors.Is(err, sql.ErrNoRows):
			return nil // merged or deleted meanwhile: plan again
		case err != nil:
			return err
		}
		if start != ours.Offset {
			return nil // moved: plan again
		}
		if ours.ID != 0 {
			if _, err := tx.ExecContext(ctx, "DELETE FROM positions WHERE id = ?", ours.ID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE positions SET start_offset = ? WHERE id = ?", ours.Start, limitID); err != nil {
			return err
		}
		for _, w := range live {
			if owner.Valid && w.id == owner.Int64 && w.id != lock {
				heldBy = &Writer{ID: w.id, Role: w.role, PID: w.pid, Host: w.host}
				return nil
			}
		}
		claimed = true
		_, err = tx.ExecContext(ctx, "UPDATE positions SET owner = ? WHERE id = ?", nilIfZero(lock), limitID)
		return err
	})
	return claimed, heldBy, err
}

// txPositions returns a node's positions inside a transaction.
func txPositions(ctx context.Context, tx *sql.Tx, nid int64, node string) ([]Position, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, path, dev, inode, fp_len, fp, start_offset, byte_offset, state, coalesce(owner, 0)
		FROM positions WHERE node = ?`, nid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Position
	for rows.Next() {
		p := Position{Node: node}
		var dev, inode int64
		if err := rows.Scan(&p.ID, &p.Path, &dev, &inode, &p.FingerprintLen, &p.Fingerprint, &p.Start, &p.Offset, &p.State, &p.Owner); err != nil {
			return nil, err
		}
		p.Dev, p.Inode = uint64(dev), uint64(inode)
		out = append(out, p)
	}
	return out, rows.Err()
}
