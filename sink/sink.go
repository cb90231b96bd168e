// Package sink stores transfer outcomes and node history in SQLite (the
// pure-Go modernc.org/sqlite), for piece-level questions that metrics cannot
// answer: which pieces are downloaded most, which errors each satellite
// causes, how transfer sizes and hourly success rates look.
//
// # Model
//
// A DB is one SQLite file in WAL mode. Writes come in batches (Write): the
// events of a batch, the other rows that came with them and the read
// position of the source they came from are committed in one transaction,
// so a crash at any point loses and repeats nothing: after a restart a
// reader resumes from the committed position, and the events after it were
// never committed. Reads (the queries of Select, Positions) may run
// concurrently with a writer, in this process or another. The sink prints
// nothing: report --db (package report/dbreport) renders its rows.
//
// # Schema
//
// The schema is versioned (PRAGMA user_version) and migrated at Open. Events
// are stored compactly in event_rows (about 70 bytes an event, with no index
// besides the table itself: its integer key is time-ordered, see eventID),
// and shown under the names the predecessor's documentation queries in the
// view events:
//
//	SELECT timestamp, node_name, satellite_id, action, status, size, piece_id,
//	       remote_ip, country, error_reason, duration_ms
//	FROM events WHERE action = 'GET' AND status = 'success'
//
// The view decodes every column it shows, so selecting piece_id costs tens
// of microseconds a row; Select's queries read event_rows directly. The history
// tables (reputation_history, storage_snapshots,
// hashstore_compaction_history) are plain tables with the predecessor's
// columns. See schema.go for the full schema.
package sink

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// DefaultBusyTimeout is how long a statement waits for a lock another
// connection holds when Options.BusyTimeout is 0.
const DefaultBusyTimeout = 5 * time.Second

// Options configure Open.
type Options struct {
	// BusyTimeout bounds the wait for a lock held by another process (a
	// long write of another writer). 0 means DefaultBusyTimeout.
	BusyTimeout time.Duration
	// ReadOnly opens the file for queries only: it must exist, and no
	// migration is run (an older schema is an error). A file in a
	// directory this process may not write (where SQLite cannot make the
	// WAL's index file) is read as immutable when it has no WAL content.
	ReadOnly bool

	// Heartbeat is how often the locks held (Acquire) are renewed; 0 means
	// DefaultHeartbeat. HeartbeatTicks, when set, replaces the ticker (tests
	// step it), and Now the clock of the heartbeats and of their age.
	Heartbeat      time.Duration
	HeartbeatTicks <-chan time.Time
	Now            func() time.Time
}

// DB is an open sink database. It is safe for concurrent use; writes are
// serialized.
type DB struct {
	path string
	ro   bool
	sql  *sql.DB

	wmu   sync.Mutex // serializes writes; guards the fields below
	wconn *sql.Conn  // the connection all writes go through
	w     *writer    // its prepared statements
	ids   idCache

	closed       bool
	beforeCommit func() error // tests: fail a write just before its commit

	// The locks held (writers.go), renewed by a goroutine that runs while
	// there are any.
	fileKey        string
	heartbeat      time.Duration
	heartbeatTicks <-chan time.Time
	now            func() time.Time
	lmu            sync.Mutex
	locks          map[int64]*Lock
	hbStop         chan struct{}
	hbDone         chan struct{}
}

// Open opens or creates the database at path, switches it to WAL, and runs
// the migrations its schema version needs. Errors name the file:
// "sink: open /x.db: file is not a database".
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("sink: open: no database file given")
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = DefaultBusyTimeout
	}
	fail := func(err error) error { return fmt.Errorf("sink: open %s: %w", path, describe(err)) }
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fail(errors.New("is a directory"))
	} else if err != nil && opts.ReadOnly {
		return nil, fail(unwrapPathError(err))
	} else if err != nil {
		if _, derr := os.Stat(filepath.Dir(path)); derr != nil {
			return nil, fail(fmt.Errorf("directory: %w", unwrapPathError(derr)))
		}
	}
	q := fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(0)&_pragma=wal_autocheckpoint(1024)&_txlock=immediate",
		opts.BusyTimeout.Milliseconds())
	if opts.ReadOnly {
		q += "&mode=ro"
	} else {
		q += ""
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	db := &DB{path: path, ro: opts.ReadOnly, heartbeat: opts.Heartbeat, heartbeatTicks: opts.HeartbeatTicks,
		now: opts.Now, locks: map[int64]*Lock{}}
	err := db.connect(ctx, q)
	if err != nil && opts.ReadOnly && isReadOnlyError(err) && !hasWAL(path) {
		// SQLite could not make the WAL's index (-shm) beside the file: a
		// directory we may not write. Nothing waits in a WAL, so the file
		// alone is the database: read it as immutable.
		err = db.connect(ctx, q+"&immutable=1")
	}
	if err != nil {
		var ce *CorruptError
		if errors.As(err, &ce) {
			return nil, err
		}
		if isCorrupt(err) {
			return nil, &CorruptError{Path: path, Detail: describe(err).Error()}
		}
		return nil, fail(err)
	}
	return db, nil
}

// connect opens the pool with the DSN's query q and checks the database.
func (db *DB) connect(ctx context.Context, q string) error {
	pool, err := sql.Open("sqlite", "file:"+uriPath(db.path)+q)
	if err != nil {
		return err
	}
	pool.SetMaxOpenConns(4)
	pool.SetConnMaxIdleTime(time.Minute)
	db.sql = pool
	if err := db.open(ctx); err != nil {
		pool.Close()
		db.sql = nil
		return err
	}
	return nil
}

// CorruptError is Open's error for a database file whose pages are
// damaged (PRAGMA quick_check, or SQLite meeting the damage): it names the
// file and what to do.
type CorruptError struct {
	Path   string
	Detail string // the first problems quick_check reports, or SQLite's error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("sink: open %s: the database is corrupt (%s): move it aside (mv %s %s.corrupt, with its -wal and -shm files if any) "+
		"and start again: serve and ingest create a new database, and ingest refills it from the node's logs", e.Path, e.Detail, e.Path, e.Path)
}

// quickCheck runs PRAGMA quick_check: every page of the file is read and
// checked for consistency (not the indexes' contents against their
// tables), so that a damaged file is refused at Open rather than failing
// later writes one by one.
func quickCheck(ctx context.Context, pool *sql.DB, path string) error {
	var problems []string
	rows, err := pool.QueryContext(ctx, "PRAGMA quick_check(5)")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return &CorruptError{Path: path, Detail: "PRAGMA quick_check: " + strings.Join(problems, "; ")}
	}
	return nil
}

// sqliteError is an error with SQLite's result code: the driver's
// *sqlite.Error, or a *cError of the C API calls of cinsert.go.
type sqliteError interface {
	error
	Code() int
}

var _ = []sqliteError{(*sqlite.Error)(nil), (*cError)(nil)}

func isCorrupt(err error) bool {
	var se sqliteError
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CORRUPT
}

func isReadOnlyError(err error) bool {
	var se sqliteError
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code() & 0xff
	return c == sqlite3.SQLITE_READONLY || c == sqlite3.SQLITE_CANTOPEN
}

// hasWAL reports whether a WAL file with content lies beside path.
func hasWAL(path string) bool {
	fi, err := os.Stat(path + "-wal")
	return err == nil && fi.Size() > 0
}

func (db *DB) open(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return err
	}
	if err := quickCheck(ctx, db.sql, db.path); err != nil {
		return err
	}
	if db.ro {
		v, err := schemaVersion(ctx, db.sql)
		if err != nil {
			return err
		}
		if v != len(migrations) {
			return fmt.Errorf("schema version %d, this program reads %d (open it once for writing to migrate it)", v, len(migrations))
		}
		return nil
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return err
	}
	// WAL after the migrations: a new file gets its page size first (the
	// driver runs the DSN's pragmas in name order).
	if err := migrate(ctx, conn, len(migrations)); err != nil {
		conn.Close()
		return err
	}
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		conn.Close()
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		conn.Close()
		return fmt.Errorf("journal mode is %q, not WAL (does the file system support shared memory?)", mode)
	}
	w, err := prepareWriter(ctx, conn)
	if err != nil {
		conn.Close()
		return err
	}
	db.wconn, db.w = conn, w
	db.ids = newIDCache()
	db.fileKey = fileKeyOf(db.path)
	return nil
}

// Path returns the file the DB was opened from.
func (db *DB) Path() string { return db.path }

// Close closes the database: a write in progress finishes first, the
// locks held are released, and the WAL is checkpointed into the file.
// Closing again does nothing.
func (db *DB) Close() error {
	var errs []error
	if !db.ro {
		errs = append(errs, db.releaseAll())
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	if db.wconn != nil {
		errs = append(errs, db.wconn.Raw(func(any) error { return db.w.close() }))
		errs = append(errs, db.wconn.Close())
		db.wconn = nil
	}
	errs = append(errs, db.sql.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sink: close %s: %w", db.path, describe(err))
	}
	return nil
}

// SQL returns the connection pool, for queries of one's own. Writing
// through it bypasses the serialization of Write: don't.
func (db *DB) SQL() *sql.DB { return db.sql }

// errf wraps an error of an operation on the database, naming the file.
func (db *DB) errf(op string, err error) error {
	return fmt.Errorf("sink: %s %s: %w", op, db.path, describe(err))
}

// uriPath escapes the characters that would end the path part of a file:
// URI.
func uriPath(p string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return r.Replace(p)
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// describedError adds a plain explanation to an SQLite error and keeps it
// reachable with errors.As.
type describedError struct {
	msg string
	err error
}

func (e *describedError) Error() string { return e.msg }
func (e *describedError) Unwrap() error { return e.err }

// describe adds a hint to the SQLite errors an operator can meet, keeping
// the original reachable with errors.As.
func describe(err error) error {
	var se sqliteError
	if !errors.As(err, &se) {
		return err
	}
	var hint string
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_CORRUPT:
		hint = "the file is corrupt"
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		hint = "another process held the lock longer than the busy timeout"
	case sqlite3.SQLITE_READONLY:
		hint = "the file or its directory is read-only"
	case sqlite3.SQLITE_CANTOPEN:
		hint = "does the directory exist, and is it writable?"
	case sqlite3.SQLITE_IOERR:
		hint = "is the disk full, or failing?"
	default:
		return err
	}
	return &describedError{msg: se.Error() + ": " + hint, err: err}
}

// driverConn is what the write path needs from the driver's connection.
type driverConn interface {
	driver.ConnPrepareContext
	driver.ConnBeginTx
}
