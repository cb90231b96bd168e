package sink

import (
	"fmt"
	"reflect"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// Event rows are inserted through SQLite's C API (modernc.org/sqlite/lib,
// the C library translated to Go) on the handle of the write connection,
// inside the transaction the driver began on it. The driver's own Exec
// binds each value after looking its name up, copies every text and blob
// into C memory freed after the run, and clears the bindings again: that
// was a third of an event's write. Here each value is bound directly, and
// texts and blobs are bound from an arena of C memory that stays put until
// the run.
//
// Everything handed to SQLite is C memory (SQLite's allocator): the C
// code, translated to Go, reads addresses as uintptr, which the Go runtime
// does not see as pointers, and its pointer checks (on under -race) refuse
// a Go object reached that way. Go code views C memory with
// unsafe.Add(nil, address), never by converting Go pointers.

// cHandle is the SQLite connection under a modernc.org/sqlite driver
// connection: its sqlite3* and the libc thread state its calls run on. It
// may be used only while the driver connection is held (inside Conn.Raw).
type cHandle struct {
	tls *libc.TLS
	db  uintptr
}

// handleOf reaches the handle of a modernc.org/sqlite driver connection,
// whose unexported fields db and tls hold it: the driver has no API for
// it. TestHandleOf fails if a new version of the driver moves them.
func handleOf(dc any) (cHandle, error) {
	v := reflect.ValueOf(dc)
	if v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
		e := v.Elem()
		db, tls := e.FieldByName("db"), e.FieldByName("tls")
		if db.IsValid() && db.Kind() == reflect.Uintptr && tls.IsValid() && tls.Type() == reflect.TypeFor[*libc.TLS]() {
			h := cHandle{tls: (*libc.TLS)(tls.UnsafePointer()), db: uintptr(db.Uint())}
			if h.tls != nil && h.db != 0 {
				return h, nil
			}
		}
	}
	return cHandle{}, fmt.Errorf("sink: the SQLite driver's connection (%T) is not laid out as this build expects", dc)
}

// cError is an error SQLite returned to a call of the C API. Code gives
// its extended result code, as the driver's *sqlite.Error does, so that
// the checks of sink.go read both alike.
type cError struct {
	code int
	msg  string
}

func (e *cError) Error() string { return fmt.Sprintf("%s (%d)", e.msg, e.code) }

// Code returns SQLite's extended result code.
func (e *cError) Code() int { return e.code }

func (h cHandle) err(rc int32) error {
	code := int(sqlite3.Xsqlite3_extended_errcode(h.tls, h.db))
	if code == sqlite3.SQLITE_OK {
		code = int(rc)
	}
	return &cError{code: code, msg: libc.GoString(sqlite3.Xsqlite3_errmsg(h.tls, h.db))}
}

// prepare compiles one statement.
func (h cHandle) prepare(sql string) (uintptr, error) {
	z, err := libc.CString(sql)
	if err != nil {
		return 0, err
	}
	defer libc.Xfree(h.tls, z)
	pp := h.tls.Alloc(int(unsafe.Sizeof(uintptr(0))))
	defer h.tls.Free(int(unsafe.Sizeof(uintptr(0))))
	if rc := sqlite3.Xsqlite3_prepare_v3(h.tls, h.db, z, -1, sqlite3.SQLITE_PREPARE_PERSISTENT, pp, 0); rc != sqlite3.SQLITE_OK {
		return 0, fmt.Errorf("prepare %.40q: %w", sql, h.err(rc))
	}
	return *(*uintptr)(unsafe.Add(nil, pp)), nil
}

// cBytes is n bytes of C memory from SQLite's allocator, viewed as a
// slice; 0 and nil when it has none.
func (h cHandle) cBytes(n int) (uintptr, []byte) {
	p := sqlite3.Xsqlite3_malloc64(h.tls, uint64(n))
	if p == 0 {
		return 0, nil
	}
	return p, unsafe.Slice((*byte)(unsafe.Add(nil, p)), n)
}

// cStmt is a prepared statement and what is bound to each of its
// parameters (bound[i-1] for parameter i).
type cStmt struct {
	p     uintptr
	bound []boundValue
}

type boundValue struct {
	kind uint8 // boundNull (the state after prepare), boundInt, boundOther
	v    int64
}

const (
	boundNull uint8 = iota
	boundInt
	boundOther
)

// prepareStmt prepares a statement of n parameters.
func (h cHandle) prepareStmt(sql string, n int) (*cStmt, error) {
	p, err := h.prepare(sql)
	if err != nil {
		return nil, err
	}
	return &cStmt{p: p, bound: make([]boundValue, n)}, nil
}

// boundRow is an event row with the IDs the writer assigned it.
type boundRow struct {
	id, node, sat int64 // sat 0: none
	r             row
}

// eventInsert inserts event rows of one column set (cols values each):
// rowsPerInsert rows per run of its many statement, and the rest, at flush,
// one per run of its one statement.
type eventInsert struct {
	h         cHandle
	cols      int
	full      bool // the columns of fullCols, else shortCols
	many, one *cStmt
	pending   [rowsPerInsert]boundRow
	n         int
	// arena (C memory at arenaAt) holds the texts and blobs bound for the
	// next run, bound as SQLITE_STATIC: SQLite reads them during the run.
	// A value that does not fit is bound SQLITE_TRANSIENT from a C copy
	// freed at once (SQLite copies it before the bind returns).
	arena   []byte
	arenaAt uintptr
}

// arenaPerRow is the arena's room per row: a piece ID (32), an IPv6
// address (16), a country (2) and most error texts.
const arenaPerRow = 512

func newEventInsert(h cHandle, full bool) (*eventInsert, error) {
	cols, n := shortCols, nShort
	if full {
		cols, n = fullCols, nFull
	}
	e := &eventInsert{h: h, cols: n, full: full}
	e.arenaAt, e.arena = h.cBytes(rowsPerInsert * arenaPerRow)
	if e.arenaAt == 0 {
		return nil, &cError{code: sqlite3.SQLITE_NOMEM, msg: "out of memory"}
	}
	e.arena = e.arena[:0]
	var err error
	if e.many, err = h.prepareStmt(insertSQL(cols, n, rowsPerInsert), n*rowsPerInsert); err == nil {
		e.one, err = h.prepareStmt(insertSQL(cols, n, 1), n)
	}
	if err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *eventInsert) close() {
	for _, s := range []*cStmt{e.many, e.one} {
		if s != nil {
			sqlite3.Xsqlite3_finalize(e.h.tls, s.p)
		}
	}
	if e.arenaAt != 0 {
		sqlite3.Xsqlite3_free(e.h.tls, e.arenaAt)
	}
	e.many, e.one, e.arenaAt, e.arena = nil, nil, 0, nil
}

// add queues a row, and inserts the queue when it is full.
func (e *eventInsert) add(br *boundRow) error {
	e.pending[e.n] = *br
	e.n++
	if e.n < rowsPerInsert {
		return nil
	}
	e.n = 0
	return e.run(e.many, e.pending[:])
}

// flush inserts the rows queued.
func (e *eventInsert) flush() error {
	n := e.n
	e.n = 0
	for i := range n {
		if err := e.run(e.one, e.pending[i:i+1]); err != nil {
			return err
		}
	}
	return nil
}

// discard forgets the rows queued (the transaction failed).
func (e *eventInsert) discard() { e.n = 0 }

func (e *eventInsert) run(s *cStmt, rows []boundRow) error {
	e.arena = e.arena[:0]
	for k := range rows {
		if rc := e.bindRow(s, int32(k*e.cols+1), &rows[k]); rc != sqlite3.SQLITE_OK {
			err := e.h.err(rc)
			sqlite3.Xsqlite3_reset(e.h.tls, s.p)
			return err
		}
	}
	rc := sqlite3.Xsqlite3_step(e.h.tls, s.p)
	if rc != sqlite3.SQLITE_DONE {
		err := e.h.err(rc)
		sqlite3.Xsqlite3_reset(e.h.tls, s.p)
		return err
	}
	if rc := sqlite3.Xsqlite3_reset(e.h.tls, s.p); rc != sqlite3.SQLITE_OK {
		return e.h.err(rc)
	}
	return nil
}

// bindRow binds a row's values from parameter i on, as the columns of
// shortCols (and fullCols) list them; see the schema for each column's
// encoding, and ipValue (read back by addrOf) for the address.
func (e *eventInsert) bindRow(s *cStmt, i int32, b *boundRow) int32 {
	r := &b.r
	rc := e.int(s, i, b.id)
	rc |= e.int(s, i+1, b.node)
	if b.sat != 0 {
		rc |= e.int(s, i+2, b.sat)
	} else {
		rc |= e.null(s, i+2)
	}
	rc |= e.int(s, i+3, r.action)
	rc |= e.int(s, i+4, r.status)
	if r.hasSize {
		rc |= e.int(s, i+5, r.size)
	} else {
		rc |= e.null(s, i+5)
	}
	switch r.pieceKind {
	case 1:
		rc |= e.blob(s, i+6, r.piece[:])
	case 2:
		rc |= e.text(s, i+6, r.pieceText)
	default:
		rc |= e.null(s, i+6)
	}
	switch {
	case !r.ip.IsValid():
		rc |= e.null(s, i+7)
	case r.ip.Is4():
		rc |= e.int(s, i+7, ipv4Value(r.ip))
	default:
		a := r.ip.As16()
		rc |= e.blob(s, i+7, a[:])
	}
	if r.country != "" {
		rc |= e.text(s, i+8, r.country)
	} else {
		rc |= e.null(s, i+8)
	}
	if !e.full {
		return rc
	}
	if r.ms != 0 {
		rc |= e.int(s, i+9, r.ms)
	} else {
		rc |= e.null(s, i+9)
	}
	if r.errorReason != "" {
		rc |= e.text(s, i+10, r.errorReason)
	} else {
		rc |= e.null(s, i+10)
	}
	if r.timed {
		rc |= e.int(s, i+11, r.durationMS)
	} else {
		rc |= e.null(s, i+11)
	}
	return rc
}

// The binds return SQLite's result code; SQLITE_OK is 0, so that a row's
// codes can be ORed and checked once. Bindings outlast a run (reset keeps
// them), so an integer or NULL already bound at a parameter is not bound
// again: the node's ID always, and often the satellite, action and status.

func (e *eventInsert) int(s *cStmt, i int32, v int64) int32 {
	b := &s.bound[i-1]
	if b.kind == boundInt && b.v == v {
		return sqlite3.SQLITE_OK
	}
	rc := sqlite3.Xsqlite3_bind_int64(e.h.tls, s.p, i, v)
	*b = boundValue{kind: boundInt, v: v}
	if rc != sqlite3.SQLITE_OK {
		b.kind = boundOther
	}
	return rc
}

func (e *eventInsert) null(s *cStmt, i int32) int32 {
	b := &s.bound[i-1]
	if b.kind == boundNull {
		return sqlite3.SQLITE_OK
	}
	rc := sqlite3.Xsqlite3_bind_null(e.h.tls, s.p, i)
	b.kind = boundNull
	if rc != sqlite3.SQLITE_OK {
		b.kind = boundOther
	}
	return rc
}

func (e *eventInsert) text(s *cStmt, i int32, v string) int32 {
	s.bound[i-1].kind = boundOther
	if len(v) > cap(e.arena)-len(e.arena) {
		return e.transient(s, i, []byte(v), true)
	}
	p := e.arenaEnd()
	e.arena = append(e.arena, v...)
	return sqlite3.Xsqlite3_bind_text(e.h.tls, s.p, i, p, int32(len(v)), 0)
}

func (e *eventInsert) blob(s *cStmt, i int32, v []byte) int32 {
	s.bound[i-1].kind = boundOther
	if len(v) > cap(e.arena)-len(e.arena) {
		return e.transient(s, i, v, false)
	}
	p := e.arenaEnd()
	e.arena = append(e.arena, v...)
	return sqlite3.Xsqlite3_bind_blob(e.h.tls, s.p, i, p, int32(len(v)), 0)
}

// arenaEnd is the address where the next value appended to the arena goes.
func (e *eventInsert) arenaEnd() uintptr { return e.arenaAt + uintptr(len(e.arena)) }

// transient binds a copy of b that SQLite makes before returning, from a
// C copy freed after.
func (e *eventInsert) transient(s *cStmt, i int32, b []byte, text bool) int32 {
	s.bound[i-1].kind = boundOther
	if len(b) > 1<<30 {
		return sqlite3.SQLITE_TOOBIG
	}
	p, c := e.h.cBytes(len(b) + 1)
	if p == 0 {
		return sqlite3.SQLITE_NOMEM
	}
	defer sqlite3.Xsqlite3_free(e.h.tls, p)
	copy(c, b)
	if text {
		return sqlite3.Xsqlite3_bind_text(e.h.tls, s.p, i, p, int32(len(b)), sqlite3.SQLITE_TRANSIENT)
	}
	return sqlite3.Xsqlite3_bind_blob(e.h.tls, s.p, i, p, int32(len(b)), sqlite3.SQLITE_TRANSIENT)
}
