package sink

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// Position is where a source was read up to, committed with the events
// read before it.
type Position struct {
	// ID identifies the row; 0 for a position not written yet. Write sets
	// it when it inserts the row.
	ID   int64
	Node string
	Path string
	// Dev and Inode identify the file (os.SameFile's view of it).
	Dev, Inode uint64
	// Start and Offset are the range of the log the sink holds: bytes
	// [Start, Offset) of its content (uncompressed), both at line ends.
	// Start is 0 for a log read from its beginning; serve, starting at the
	// end of a log it has never seen, holds it from there, and an ingest
	// of the log later fills [0, Start).
	Start  int64
	Offset int64
	// Fingerprint is the SHA-256 of the first FingerprintLen bytes of the
	// (uncompressed) content: it recognizes the same log after a rename,
	// a copy or compression. See Fingerprint.
	FingerprintLen int64
	Fingerprint    []byte
	// State is the reader's own state at Offset (ingest keeps its rule-5
	// and pairing state here), opaque to the DB.
	State []byte
	// Owner is the Lock of the process that extends the range (0: none).
	// A write of a position with an owner fails unless the row is still
	// that owner's, and unless the lock is still held.
	Owner   int64
	Updated time.Time // set by Write
}

// Batch is what one Write commits, all or nothing.
type Batch struct {
	Events      []Event
	Rejections  []Rejection
	Reputation  []Reputation
	Snapshots   []StorageSnapshot
	Compactions []Compaction
	// Paystubs are stored once per node, satellite and period (see
	// Paystub). Write tells in PaystubsAdded how many were new, and in
	// PaystubsRevised those whose figures differed from the stored ones
	// (which they replaced).
	Paystubs        []Paystub
	PaystubsAdded   int
	PaystubsRevised []Paystub
	// Position, when not nil, is inserted or updated in the same
	// transaction (nil for sources that cannot be re-read: TCP, stdin).
	Position *Position

	rows []row // events prepared by ingest, written after Events
}

// WriteBatch writes events and the position of their source in one
// transaction; pos may be nil.
func (db *DB) WriteBatch(ctx context.Context, events []Event, pos *Position) error {
	return db.Write(ctx, &Batch{Events: events, Position: pos})
}

// Write commits a batch in one transaction: on any error nothing of it is
// written. Errors name the file: "sink: write /x.db: database or disk is
// full (13)". A canceled ctx rolls the batch back.
func (db *DB) Write(ctx context.Context, b *Batch) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.wconn == nil {
		if db.ro {
			return db.errf("write", errors.New("opened read-only"))
		}
		return db.errf("write", errors.New("database is closed"))
	}
	var newID int64
	err := db.wconn.Raw(func(dc any) error {
		var err error
		newID, err = db.w.write(ctx, dc.(driverConn), &db.ids, b, db.beforeCommit)
		return err
	})
	if err != nil {
		return db.errf("write", err)
	}
	if b.Position != nil {
		if newID != 0 {
			b.Position.ID = newID
		}
		b.Position.Updated = time.Unix(time.Now().Unix(), 0)
	}
	return nil
}

// rowsPerInsert is how many events one INSERT statement carries: binding
// many rows per statement halves the cost of an event.
const rowsPerInsert = 16

// Columns of event_rows written for every event, and those written only
// when one of them is set.
const (
	shortCols = "id, node, satellite, action, status, size, piece, ip, country"
	fullCols  = shortCols + ", ms, error_reason, duration_ms"
	nShort    = 9
	nFull     = 12
)

// writer holds the prepared statements of the write connection.
type writer struct {
	stmts []driver.Stmt

	short, full                *eventInsert // event rows (cinsert.go)
	maxID, maxAll, dataVersion driver.StmtQueryContext
	nodeIns, satIns            driver.StmtExecContext
	nodeGet, satGet            driver.StmtQueryContext
	posIns, posUpd, rejIns     driver.StmtExecContext
	posOwner, writerGet        driver.StmtQueryContext
	posConflict                driver.StmtQueryContext
	repIns, snapIns, compIns   driver.StmtExecContext
	payIns, payUpd             driver.StmtExecContext

	// nextSeq is the next free sequence number of the seconds written to
	// (see eventID). It stays valid across transactions as long as no
	// other connection commits: lastVersion is the data_version it is
	// valid for.
	nextSeq     seqs
	lastVersion int64
	// top is the highest event ID in the table or assigned by this writer,
	// valid with nextSeq (-1: unknown): a second above it has no events
	// yet, so its first ID needs no query. A log in time order asks the
	// database once per transaction instead of once per second.
	top int64
}

// seqs maps seconds to their next free sequence number. The second written
// last is kept aside: a log in time order writes many events a second, and
// asks the map once per second instead of once per event.
type seqs struct {
	m          map[int64]int64
	last, next int64 // the second written last and its next number
	held       bool  // last and next are set, and not in m
}

func (q *seqs) get(sec int64) (int64, bool) {
	if q.held && sec == q.last {
		return q.next, true
	}
	n, ok := q.m[sec]
	return n, ok
}

func (q *seqs) set(sec, next int64) {
	if q.held && sec != q.last {
		q.m[q.last] = q.next
	}
	q.last, q.next, q.held = sec, next, true
}

func (q *seqs) len() int { return len(q.m) + 1 }

func (q *seqs) reset() {
	clear(q.m)
	q.held = false
}

func insertSQL(cols string, n, rows int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", n), ",") + ")"
	return "INSERT INTO event_rows (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
}

func prepareWriter(ctx context.Context, conn interface {
	Raw(func(any) error) error
}) (*writer, error) {
	w := &writer{
		nextSeq: seqs{m: map[int64]int64{}},
		top:     -1,
	}
	err := conn.Raw(func(dc any) error {
		c := dc.(driverConn)
		h, err := handleOf(dc)
		if err != nil {
			return err
		}
		if w.short, err = newEventInsert(h, false); err != nil {
			return err
		}
		if w.full, err = newEventInsert(h, true); err != nil {
			return err
		}
		prep := func(q string) (driver.Stmt, error) {
			s, err := c.PrepareContext(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("prepare %.40q: %w", q, err)
			}
			w.stmts = append(w.stmts, s)
			return s, nil
		}
		ex := func(dst *driver.StmtExecContext, q string) error {
			s, err := prep(q)
			if err == nil {
				*dst = s.(driver.StmtExecContext)
			}
			return err
		}
		qu := func(dst *driver.StmtQueryContext, q string) error {
			s, err := prep(q)
			if err == nil {
				*dst = s.(driver.StmtQueryContext)
			}
			return err
		}
		return errors.Join(
			qu(&w.maxID, "SELECT max(id) FROM event_rows WHERE id >= ? AND id < ?"),
			qu(&w.maxAll, "SELECT max(id) FROM event_rows"),
			qu(&w.dataVersion, "PRAGMA data_version"),
			ex(&w.nodeIns, "INSERT INTO nodes (name) VALUES (?) ON CONFLICT (name) DO NOTHING"),
			qu(&w.nodeGet, "SELECT id FROM nodes WHERE name = ?"),
			ex(&w.satIns, "INSERT INTO satellites (satellite_id, name) VALUES (?, ?) ON CONFLICT (satellite_id) DO NOTHING"),
			qu(&w.satGet, "SELECT id FROM satellites WHERE satellite_id = ?"),
			ex(&w.posIns, "INSERT INTO positions (node, path, dev, inode, fp_len, fp, byte_offset, state, updated, start_offset, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			// the range's start and owner change only by merging and claiming (ranges.go)
			ex(&w.posUpd, "UPDATE positions SET node = ?, path = ?, dev = ?, inode = ?, fp_len = ?, fp = ?, byte_offset = ?, state = ?, updated = ? WHERE id = ? AND owner IS ?"),
			qu(&w.posOwner, "SELECT coalesce(owner, 0) FROM positions WHERE id = ?"),
			qu(&w.writerGet, "SELECT count(*) FROM writers WHERE id = ?"),
			qu(&w.posConflict, `SELECT start_offset FROM positions WHERE node = ? AND fp_len = ? AND fp = ? AND id != ?
				AND start_offset >= ? AND start_offset < ? ORDER BY start_offset LIMIT 1`),
			ex(&w.rejIns, "INSERT INTO upload_rejections (node, minute, count) VALUES (?, ?, ?) ON CONFLICT (node, minute) DO UPDATE SET count = count + excluded.count"),
			ex(&w.repIns, `INSERT INTO reputation_history (timestamp, node_name, satellite, audit_score, suspension_score, online_score,
				audit_success_count, audit_total_count, is_disqualified, is_suspended, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			ex(&w.snapIns, `INSERT INTO storage_snapshots (timestamp, node_name, total_bytes, used_bytes, available_bytes, trash_bytes,
				used_percent, trash_percent, available_percent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			ex(&w.compIns, `INSERT OR IGNORE INTO hashstore_compaction_history (node_name, satellite, store, last_run_iso, duration,
				data_reclaimed_bytes, data_rewritten_bytes, table_load, trash_percent) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)`),
			ex(&w.payIns, `INSERT INTO paystubs (node_name, node_id, satellite_id, period, created, codes, `+paystubFigures+`, stored)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
			ex(&w.payUpd, paystubUpdate()),
		)
	})
	if err != nil {
		conn.Raw(func(any) error { return w.close() })
		return nil, err
	}
	return w, nil
}

func (w *writer) close() error {
	for _, e := range []*eventInsert{w.short, w.full} {
		if e != nil {
			e.close()
		}
	}
	w.short, w.full = nil, nil
	var errs []error
	for _, s := range w.stmts {
		errs = append(errs, s.Close())
	}
	w.stmts = nil
	return errors.Join(errs...)
}

// bg is the context of the driver calls: a batch is not interrupted half
// way by the caller's context (it is checked between rows instead), and a
// context without Done spares the driver a goroutine per statement.
var bg = context.Background()

func execStmt(s driver.StmtExecContext, args ...any) (driver.Result, error) {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return s.ExecContext(bg, nv)
}

// queryInt runs a query of one integer column and returns its first row;
// ok is false when there is none or it is NULL.
func queryInt(s driver.StmtQueryContext, args ...any) (v int64, ok bool, err error) {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	rows, err := s.QueryContext(bg, nv)
	if err != nil {
		return 0, false, err
	}
	defer rows.Close()
	dest := make([]driver.Value, 1)
	if err := rows.Next(dest); err != nil {
		if err == io.EOF {
			return 0, false, nil
		}
		return 0, false, err
	}
	v, ok = dest[0].(int64)
	return v, ok, nil
}

// write runs one batch in a transaction and returns the ID of the position
// row when it inserted one.
func (w *writer) write(ctx context.Context, c driverConn, ids *idCache, b *Batch, beforeCommit func() error) (posID int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	tx, err := c.BeginTx(bg, driver.TxOptions{})
	if err != nil {
		return 0, err
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
			ids.rollback()
			w.nextSeq.reset()
			w.top = -1
		}
		w.short.discard()
		w.full.discard()
	}()
	if v, _, err := queryInt(w.dataVersion); err != nil {
		return 0, err
	} else if v != w.lastVersion {
		w.nextSeq.reset() // another connection wrote
		w.top = -1
		w.lastVersion = v
	} else if w.nextSeq.len() > 1<<16 {
		// Between transactions nothing is bound and not yet inserted, so
		// the seconds can be asked again: the map stays small in a long
		// ingest.
		w.nextSeq.reset()
	}
	for i := range b.Events {
		if i&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		r := b.Events[i].row()
		if err := w.bind(ids, &r); err != nil {
			return 0, err
		}
	}
	for i := range b.rows {
		if err := w.bind(ids, &b.rows[i]); err != nil {
			return 0, err
		}
	}
	if err := w.flushEvents(); err != nil {
		return 0, err
	}
	if err := w.others(ids, b); err != nil {
		return 0, err
	}
	if p := b.Position; p != nil {
		node, err := ids.node(w, p.Node)
		if err != nil {
			return 0, err
		}
		if err := w.checkRange(node, p); err != nil {
			return 0, err
		}
		args := []any{node, p.Path, int64(p.Dev), int64(p.Inode), p.FingerprintLen, nilIfEmpty(p.Fingerprint),
			p.Offset, nilIfEmpty(p.State), time.Now().Unix()}
		var res driver.Result
		if p.ID != 0 {
			if res, err = execStmt(w.posUpd, append(args, p.ID, nilIfZero(p.Owner))...); err != nil {
				return 0, err
			}
			if n, _ := rowsAffected(res); n == 0 {
				if owner, found, err := queryInt(w.posOwner, p.ID); err != nil {
					return 0, err
				} else if found {
					return 0, &ownerError{id: p.ID, owner: owner, want: p.Owner}
				}
			}
		}
		if n, _ := rowsAffected(res); n == 0 { // new, or deleted meanwhile
			if res, err = execStmt(w.posIns, append(args, p.Start, nilIfZero(p.Owner))...); err != nil {
				return 0, err
			}
			if posID, err = res.LastInsertId(); err != nil {
				return 0, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if beforeCommit != nil {
		if err := beforeCommit(); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	committed = true
	ids.commit()
	return posID, nil
}

func rowsAffected(r driver.Result) (int64, error) {
	if r == nil {
		return 0, nil
	}
	return r.RowsAffected()
}

func nilIfZero(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// checkRange fails the write of a position whose range would take in the
// start of another range of the same log (another process began holding
// it meanwhile: see RangeError), or whose owner lost its lock.
func (w *writer) checkRange(node int64, p *Position) error {
	if p.Owner != 0 {
		n, _, err := queryInt(w.writerGet, p.Owner)
		if err != nil {
			return err
		}
		if n == 0 {
			return errLockLost
		}
	}
	if p.FingerprintLen <= 0 || len(p.Fingerprint) == 0 {
		return nil
	}
	start, found, err := queryInt(w.posConflict, node, p.FingerprintLen, p.Fingerprint, p.ID, p.Start, p.Offset)
	if err != nil {
		return err
	}
	if found {
		return &RangeError{Start: start}
	}
	return nil
}

func nilIfEmpty(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// row is an event in the form it is stored, but for what the writer
// assigns: its key and the IDs of its node and satellite. Ingest builds
// rows on its parsing goroutines, sparing the writer the conversions.
type row struct {
	time           time.Time
	ms             int64
	node, sat      string
	action, status int64
	size           int64
	hasSize        bool
	pieceKind      uint8 // 0 none, 1 decoded into piece, 2 text in pieceText
	piece          [32]byte
	pieceText      string
	ip             netip.Addr
	country        string
	errorReason    string
	durationMS     int64
	timed          bool
}

func (e *Event) row() row {
	r := row{time: e.Time, node: e.Node, sat: e.Satellite, action: int64(e.Action), status: int64(e.Status),
		size: e.Size, hasSize: e.HasSize, ip: e.Remote, country: e.Country, errorReason: e.ErrorReason,
		durationMS: e.Duration.Milliseconds(), timed: e.Timed}
	if !e.Time.IsZero() && e.Time.Unix() >= 0 {
		r.ms = int64(e.Time.Nanosecond()) / int64(time.Millisecond)
	}
	switch {
	case e.PieceID == "":
	case decodePiece(&r.piece, e.PieceID):
		r.pieceKind = 1
	default:
		r.pieceKind, r.pieceText = 2, e.PieceID
	}
	return r
}

// bind assigns a row its IDs and queues it for a multi-row INSERT, which
// runs when it is full.
func (w *writer) bind(ids *idCache, r *row) error {
	node, err := ids.node(w, r.node)
	if err != nil {
		return err
	}
	var sat int64
	if r.sat != "" {
		if sat, err = ids.satellite(w, r.sat); err != nil {
			return err
		}
	}
	id, err := w.eventID(r.time)
	if err != nil {
		return err
	}
	b := boundRow{id: id, node: node, sat: sat, r: *r}
	if r.ms != 0 || r.errorReason != "" || r.timed {
		return w.full.add(&b)
	}
	return w.short.add(&b)
}

// flushEvents inserts the rows still queued.
func (w *writer) flushEvents() error {
	if err := w.short.flush(); err != nil {
		return err
	}
	return w.full.flush()
}

// eventID returns the next free key in the second of t. The first event of
// a second in a transaction looks up the largest key already used in it
// (by earlier batches, or another process); the write lock the transaction
// holds keeps that valid until it commits.
func (w *writer) eventID(t time.Time) (int64, error) {
	lo := idFloor(t)
	sec := lo >> seqBits
	seq, ok := w.nextSeq.get(sec)
	if !ok && w.top < 0 {
		top, _, err := queryInt(w.maxAll) // NULL when empty: 0
		if err != nil {
			return 0, err
		}
		w.top = top
	}
	if !ok && lo <= w.top {
		max, found, err := queryInt(w.maxID, lo, lo+1<<seqBits)
		if err != nil {
			return 0, err
		}
		if found {
			seq = max&(1<<seqBits-1) + 1
		}
	}
	if seq >= 1<<seqBits {
		return 0, fmt.Errorf("more than %d events in the second of %s", 1<<seqBits, t.UTC().Format(time.RFC3339))
	}
	w.nextSeq.set(sec, seq+1)
	id := lo | seq
	w.top = max(w.top, id)
	return id, nil
}

// paystubFigures are the amount columns of paystubs, in Paystub.figures'
// order.
const paystubFigures = "comp_at_rest, comp_get, comp_put, comp_get_repair, comp_put_repair, comp_get_audit, held, owed, disposed, paid, distributed"

// paystubUpdate is the statement that replaces a stored paystub by the
// node's when they differ, counting the revision. Its parameters are
// payIns's.
func paystubUpdate() string {
	cols := append([]string{"created", "codes"}, strings.Split(paystubFigures, ", ")...)
	set := make([]string, len(cols))
	differ := make([]string, len(cols))
	for i, c := range cols {
		set[i] = fmt.Sprintf("%s = ?%d", c, i+5)
		differ[i] = fmt.Sprintf("%s IS NOT ?%d", c, i+5)
	}
	return fmt.Sprintf("UPDATE paystubs SET %s, changed = ?%d, revisions = revisions + 1 "+
		"WHERE node_name = ?1 AND node_id = ?2 AND satellite_id = ?3 AND period = ?4 AND (%s)",
		strings.Join(set, ", "), len(cols)+5, strings.Join(differ, " OR "))
}

func (p *Paystub) figures() []any {
	return []any{p.CompAtRest, p.CompGet, p.CompPut, p.CompGetRepair, p.CompPutRepair, p.CompGetAudit,
		p.Held, p.Owed, p.Disposed, p.Paid, p.Distributed}
}

// paystubs stores each paystub of the batch the node has not returned
// before, and takes the node's figures for one it returned differently.
func (w *writer) paystubs(ids *idCache, b *Batch) error {
	b.PaystubsAdded, b.PaystubsRevised = 0, nil
	now := textTime(time.Now())
	for i := range b.Paystubs {
		p := &b.Paystubs[i]
		if _, err := ids.node(w, p.Node); err != nil { // report --node finds it
			return err
		}
		var created any
		if !p.Created.IsZero() {
			created = textTime(p.Created)
		}
		args := append([]any{p.Node, p.NodeID, p.SatelliteID, p.Period, created, p.Codes}, p.figures()...)
		res, err := execStmt(w.payUpd, append(args, now)...)
		if err != nil {
			return err
		}
		if n, _ := rowsAffected(res); n > 0 {
			b.PaystubsRevised = append(b.PaystubsRevised, *p)
			continue
		}
		if res, err = execStmt(w.payIns, append(args, now)...); err != nil {
			return err
		}
		if n, _ := rowsAffected(res); n > 0 {
			b.PaystubsAdded++
		}
	}
	return nil
}

// others writes the rows that are not events.
func (w *writer) others(ids *idCache, b *Batch) error {
	if err := w.paystubs(ids, b); err != nil {
		return err
	}
	if len(b.Rejections) > 0 {
		type key struct{ node, minute int64 }
		counts := map[key]int64{}
		var order []key
		for _, r := range b.Rejections {
			node, err := ids.node(w, r.Node)
			if err != nil {
				return err
			}
			k := key{node, idFloor(r.Time) >> seqBits / 60}
			if _, ok := counts[k]; !ok {
				order = append(order, k)
			}
			counts[k]++
		}
		for _, k := range order {
			if _, err := execStmt(w.rejIns, k.node, k.minute, counts[k]); err != nil {
				return err
			}
		}
	}
	for _, r := range b.Reputation {
		if _, err := execStmt(w.repIns, textTime(r.Time), r.Node, r.Satellite, r.AuditScore, r.SuspensionScore, r.OnlineScore,
			r.AuditSuccessCount, r.AuditTotalCount, r.Disqualified, r.Suspended, r.Source); err != nil {
			return err
		}
	}
	for _, s := range b.Snapshots {
		pct := func(n int64) any {
			if s.Total <= 0 {
				return nil
			}
			return 100 * float64(n) / float64(s.Total)
		}
		if _, err := execStmt(w.snapIns, textTime(s.Time), s.Node, s.Total, s.Used, s.Available, s.TrashUsed,
			pct(s.Used), pct(s.TrashUsed), pct(s.Available)); err != nil {
			return err
		}
	}
	for _, c := range b.Compactions {
		var reclaimed, rewritten, trash any
		if c.HasBytes {
			reclaimed, rewritten = c.Reclaimed, c.Rewritten
		}
		if c.HasTrash {
			trash = c.TrashPercent
		}
		if _, err := execStmt(w.compIns, c.Node, c.Satellite, c.Store, textTime(c.Time), c.Duration.Seconds(),
			reclaimed, rewritten, trash); err != nil {
			return err
		}
	}
	return nil
}

func textTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// idCache maps node names and satellite IDs to their row IDs. Entries
// added in a transaction become permanent only when it commits.
type idCache struct {
	nodes, sats map[string]int64
	added       []func()
}

func newIDCache() idCache {
	return idCache{nodes: map[string]int64{}, sats: map[string]int64{}}
}

func (c *idCache) node(w *writer, name string) (int64, error) {
	if id, ok := c.nodes[name]; ok {
		return id, nil
	}
	if _, err := execStmt(w.nodeIns, name); err != nil {
		return 0, err
	}
	id, ok, err := queryInt(w.nodeGet, name)
	if err == nil && !ok {
		err = fmt.Errorf("node %q: not found after insert", name)
	}
	if err != nil {
		return 0, err
	}
	c.nodes[name] = id
	c.added = append(c.added, func() { delete(c.nodes, name) })
	return id, nil
}

func (c *idCache) satellite(w *writer, satID string) (int64, error) {
	if id, ok := c.sats[satID]; ok {
		return id, nil
	}
	if _, err := execStmt(w.satIns, satID, parser.SatelliteName(satID)); err != nil {
		return 0, err
	}
	id, ok, err := queryInt(w.satGet, satID)
	if err == nil && !ok {
		err = fmt.Errorf("satellite %q: not found after insert", satID)
	}
	if err != nil {
		return 0, err
	}
	c.sats[satID] = id
	c.added = append(c.added, func() { delete(c.sats, satID) })
	return id, nil
}

func (c *idCache) commit() { c.added = c.added[:0] }

func (c *idCache) rollback() {
	for _, undo := range c.added {
		undo()
	}
	c.added = c.added[:0]
}
