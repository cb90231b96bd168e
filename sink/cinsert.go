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
	many, one uintptr
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
	if e.many, err = h.prepare(insertSQL(cols, n, rowsPerInsert)); err == nil {
		e.one, err = h.prepare(insertSQL(cols, n, 1))
	}
	if err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *eventInsert) close() {
	for _, s := range []uintptr{e.many, e.one} {
		if s != 0 {
			sqlite3.Xsqlite3_finalize(e.h.tls, s)
		}
	}
	if e.arenaAt != 0 {
		sqlite3.Xsqlite3_free(e.h.tls, e.arenaAt)
	}
	e.many, e.one, e.arenaAt, e.arena = 0, 0, 0, nil
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

func (e *eventInsert) run(stmt uintptr, rows []boundRow) error {
	e.arena = e.arena[:0]
	for k := range rows {
		if rc := e.bindRow(stmt, int32(k*e.cols+1), &rows[k]); rc != sqlite3.SQLITE_OK {
			err := e.h.err(rc)
			sqlite3.Xsqlite3_reset(e.h.tls, stmt)
			return err
		}
	}
	rc := sqlite3.Xsqlite3_step(e.h.tls, stmt)
	if rc != sqlite3.SQLITE_DONE {
		err := e.h.err(rc)
		sqlite3.Xsqlite3_reset(e.h.tls, stmt)
		return err
	}
	if rc := sqlite3.Xsqlite3_reset(e.h.tls, stmt); rc != sqlite3.SQLITE_OK {
		return e.h.err(rc)
	}
	return nil
}

// bindRow binds a row's values from parameter i on, as the columns of
// shortCols (and fullCols) list them; see the schema for each column's
// encoding, and ipValue (read back by addrOf) for the address.
func (e *eventInsert) bindRow(stmt uintptr, i int32, b *boundRow) int32 {
	r := &b.r
	rc := e.int(stmt, i, b.id)
	rc |= e.int(stmt, i+1, b.node)
	if b.sat != 0 {
		rc |= e.int(stmt, i+2, b.sat)
	} else {
		rc |= e.null(stmt, i+2)
	}
	rc |= e.int(stmt, i+3, r.action)
	rc |= e.int(stmt, i+4, r.status)
	if r.hasSize {
		rc |= e.int(stmt, i+5, r.size)
	} else {
		rc |= e.null(stmt, i+5)
	}
	switch r.pieceKind {
	case 1:
		rc |= e.blob(stmt, i+6, r.piece[:])
	case 2:
		rc |= e.text(stmt, i+6, r.pieceText)
	default:
		rc |= e.null(stmt, i+6)
	}
	switch {
	case !r.ip.IsValid():
		rc |= e.null(stmt, i+7)
	case r.ip.Is4():
		rc |= e.int(stmt, i+7, ipv4Value(r.ip))
	default:
		a := r.ip.As16()
		rc |= e.blob(stmt, i+7, a[:])
	}
	if r.country != "" {
		rc |= e.text(stmt, i+8, r.country)
	} else {
		rc |= e.null(stmt, i+8)
	}
	if !e.full {
		return rc
	}
	if r.ms != 0 {
		rc |= e.int(stmt, i+9, r.ms)
	} else {
		rc |= e.null(stmt, i+9)
	}
	if r.errorReason != "" {
		rc |= e.text(stmt, i+10, r.errorReason)
	} else {
		rc |= e.null(stmt, i+10)
	}
	if r.timed {
		rc |= e.int(stmt, i+11, r.durationMS)
	} else {
		rc |= e.null(stmt, i+11)
	}
	return rc
}

// The binds return SQLite's result code; SQLITE_OK is 0, so that a row's
// codes can be ORed and checked once.

func (e *eventInsert) int(stmt uintptr, i int32, v int64) int32 {
	return sqlite3.Xsqlite3_bind_int64(e.h.tls, stmt, i, v)
}

func (e *eventInsert) null(stmt uintptr, i int32) int32 {
	return sqlite3.Xsqlite3_bind_null(e.h.tls, stmt, i)
}

func (e *eventInsert) text(stmt uintptr, i int32, s string) int32 {
	if len(s) > cap(e.arena)-len(e.arena) {
		return e.transient(stmt, i, []byte(s), true)
	}
	p := e.arenaEnd()
	e.arena = append(e.arena, s...)
	return sqlite3.Xsqlite3_bind_text(e.h.tls, stmt, i, p, int32(len(s)), 0)
}

func (e *eventInsert) blob(stmt uintptr, i int32, b []byte) int32 {
	if len(b) > cap(e.arena)-len(e.arena) {
		return e.transient(stmt, i, b, false)
	}
	p := e.arenaEnd()
	e.arena = append(e.arena, b...)
	return sqlite3.Xsqlite3_bind_blob(e.h.tls, stmt, i, p, int32(len(b)), 0)
}

// arenaEnd is the address where the next value appended to the arena goes.
func (e *eventInsert) arenaEnd() uintptr { return e.arenaAt + uintptr(len(e.arena)) }

// transient binds a copy of b that SQLite makes before returning, from a
// C copy freed after.
func (e *eventInsert) transient(stmt uintptr, i int32, b []byte, text bool) int32 {
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
		return sqlite3.Xsqlite3_bind_text(e.h.tls, stmt, i, p, int32(len(b)), sqlite3.SQLITE_TRANSIENT)
	}
	return sqlite3.Xsqlite3_bind_blob(e.h.tls, stmt, i, p, int32(len(b)), sqlite3.SQLITE_TRANSIENT)
}
