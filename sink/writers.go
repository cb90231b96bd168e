package sink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Roles of the processes that write a node's logs into a database: one
// of each per node at a time.
const (
	RoleServe  = "serve"  // follows the node's log (serve --db)
	RoleIngest = "ingest" // reads log files from their start (ingest)
)

// DefaultHeartbeat is how often a process renews the locks it holds when
// Options.Heartbeat is 0. A lock whose heartbeat is older than six of them
// is stale: its holder is gone, whatever its pid says.
const DefaultHeartbeat = 10 * time.Second

// Lock is a process's claim to write a node's logs into the database in a
// role: a row of the writers table with the process's pid, host and a
// heartbeat. The ranges of logs it reads (positions) are owned by it while
// it runs. It is released by Release or Close, and when its process is
// gone (a crash): a lock whose pid no longer runs on this host, or whose
// heartbeat is stale, is taken over.
type Lock struct {
	db         *DB
	id         int64
	node, role string
}

// ID is the lock's row in the writers table: the owner of the positions it
// holds.
func (l *Lock) ID() int64 { return l.id }

// Node returns the node the lock is for.
func (l *Lock) Node() string { return l.node }

// HeldError is the refusal of a lock another live process holds.
type HeldError struct {
	DB, Node, Role string
	PID            int
	Host           string
	Started        time.Time
	Heartbeat      time.Time
	now            time.Time
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("sink: %s: node %q is written into it by another process: %s, pid %d on host %s, since %s (last heartbeat %s ago); stop that one first, or give this one another database",
		e.DB, e.Node, e.Role, e.PID, e.Host, e.Started.Local().Format(time.DateTime), e.now.Sub(e.Heartbeat).Round(time.Second))
}

// errLockLost fails a write by a process whose lock was taken over (its
// heartbeat went stale: the machine was suspended, or the disk hung).
var errLockLost = errors.New("this process's lock on the node was taken over by another process (its heartbeat was stale)")

// heldHere is the set of locks the processes's DBs hold, by database file
// and lock ID: a lock row with this process's pid is alive only if it is
// here (two DBs of one file in one process, as tests have).
var heldHere = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

func (db *DB) lockKey(id int64) string { return fmt.Sprintf("%s#%d", db.fileKey, id) }

// fileKeyOf identifies a database file for heldHere: its device and inode,
// else its absolute path.
func fileKeyOf(path string) string {
	if fi, err := os.Stat(path); err == nil {
		if dev, ino := fileID(fi); dev != 0 || ino != 0 {
			return fmt.Sprintf("%d:%d", dev, ino)
		}
	}
	abs, _ := filepath.Abs(path)
	return abs
}

// writerRow is a row of the writers table.
type writerRow struct {
	id, node           int64
	role, host, space  string
	pid                int
	started, heartbeat int64
}

// alive tells whether a writer still runs: its heartbeat is recent and,
// when its pid is in this host's PID space, that process runs (this
// process: it holds that lock).
func (db *DB) alive(w writerRow, now time.Time) bool {
	if now.Sub(time.Unix(w.heartbeat, 0)) > 6*db.heartbeat {
		return false
	}
	if w.space != pidSpace() {
		return true
	}
	if w.pid == os.Getpid() {
		heldHere.Lock()
		defer heldHere.Unlock()
		return heldHere.m[db.lockKey(w.id)]
	}
	alive, known := processAlive(w.pid)
	return alive || !known
}

// reap deletes the writers that are gone and frees the ranges they owned.
// It returns the live ones.
func (db *DB) reap(ctx context.Context, tx *sql.Tx) ([]writerRow, error) {
	rows, err := tx.QueryContext(ctx, "SELECT id, node, role, pid, host, pid_space, started, heartbeat FROM writers")
	if err != nil {
		return nil, err
	}
	var all []writerRow
	for rows.Next() {
		var w writerRow
		if err := rows.Scan(&w.id, &w.node, &w.role, &w.pid, &w.host, &w.space, &w.started, &w.heartbeat); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	now := db.now()
	var live []writerRow
	for _, w := range all {
		if db.alive(w, now) {
			live = append(live, w)
			continue
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM writers WHERE id = ?", w.id); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE positions SET owner = NULL WHERE owner = ?", w.id); err != nil {
			return nil, err
		}
	}
	return live, nil
}

// tx runs f in a write transaction of its own.
func (db *DB) tx(ctx context.Context, op string, f func(*sql.Tx) error) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.wconn == nil {
		return db.errf(op, errors.New("database is closed or read-only"))
	}
	tx, err := db.wconn.BeginTx(ctx, nil)
	if err != nil {
		return db.errf(op, err)
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		var held *HeldError
		if errors.As(err, &held) || errors.Is(err, errNeedWarmth) {
			return err
		}
		return db.errf(op, err)
	}
	if err := tx.Commit(); err != nil {
		return db.errf(op, err)
	}
	return nil
}

func nodeID(ctx context.Context, tx *sql.Tx, node string) (int64, error) {
	if _, err := tx.ExecContext(ctx, "INSERT INTO nodes (name) VALUES (?) ON CONFLICT (name) DO NOTHING", node); err != nil {
		return 0, err
	}
	var id int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM nodes WHERE name = ?", node).Scan(&id)
	return id, err
}

// Acquire takes the lock of a node in a role (RoleServe, RoleIngest). When
// a live process holds it, the error is a *HeldError naming that process;
// a lock left by a process that is gone is taken over. The lock is renewed
// in the background until Release or Close.
func (db *DB) Acquire(ctx context.Context, node, role string) (*Lock, error) {
	host, _ := os.Hostname()
	var l *Lock
	err := db.tx(ctx, "lock "+node+" in", func(tx *sql.Tx) error {
		nid, err := nodeID(ctx, tx, node)
		if err != nil {
			return err
		}
		live, err := db.reap(ctx, tx)
		if err != nil {
			return err
		}
		for _, w := range live {
			if w.node == nid && w.role == role {
				return &HeldError{DB: db.path, Node: node, Role: w.role, PID: w.pid, Host: w.host,
					Started: time.Unix(w.started, 0), Heartbeat: time.Unix(w.heartbeat, 0), now: db.now()}
			}
		}
		now := db.now().Unix()
		res, err := tx.ExecContext(ctx, "INSERT INTO writers (node, role, pid, host, pid_space, started, heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?)",
			nid, role, os.Getpid(), host, pidSpace(), now, now)
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		l = &Lock{db: db, id: id, node: node, role: role}
		return nil
	})
	if err != nil {
		return nil, err
	}
	heldHere.Lock()
	heldHere.m[db.lockKey(l.id)] = true
	heldHere.Unlock()
	db.lmu.Lock()
	db.locks[l.id] = l
	if db.hbStop == nil {
		db.hbStop, db.hbDone = make(chan struct{}), make(chan struct{})
		go db.heartbeats(db.hbStop, db.hbDone)
	}
	db.lmu.Unlock()
	return l, nil
}

// Release gives the lock up: the ranges it owned are free for the next
// process. Releasing again does nothing.
func (l *Lock) Release(ctx context.Context) error {
	db := l.db
	db.lmu.Lock()
	_, held := db.locks[l.id]
	delete(db.locks, l.id)
	db.lmu.Unlock()
	if !held {
		return nil
	}
	defer func() {
		heldHere.Lock()
		delete(heldHere.m, db.lockKey(l.id))
		heldHere.Unlock()
	}()
	return db.tx(ctx, "unlock "+l.node+" in", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE positions SET owner = NULL WHERE owner = ?", l.id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM writers WHERE id = ?", l.id)
		return err
	})
}

// heartbeats renews the locks held until stop is closed.
func (db *DB) heartbeats(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	ticks := db.heartbeatTicks
	if ticks == nil {
		t := time.NewTicker(db.heartbeat)
		defer t.Stop()
		ticks = t.C
	}
	for {
		select {
		case <-stop:
			return
		case <-ticks:
		}
		db.lmu.Lock()
		ids := make([]int64, 0, len(db.locks))
		for id := range db.locks {
			ids = append(ids, id)
		}
		db.lmu.Unlock()
		if len(ids) == 0 {
			continue
		}
		// A failed heartbeat (a busy or failing disk) is retried at the
		// next tick; writes report the failure themselves.
		_ = db.tx(context.Background(), "renew locks in", func(tx *sql.Tx) error {
			for _, id := range ids {
				if _, err := tx.ExecContext(context.Background(), "UPDATE writers SET heartbeat = ? WHERE id = ?", db.now().Unix(), id); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// releaseAll releases every lock still held and stops the heartbeats; it
// is part of Close.
func (db *DB) releaseAll() error {
	db.lmu.Lock()
	locks := make([]*Lock, 0, len(db.locks))
	for _, l := range db.locks {
		locks = append(locks, l)
	}
	stop, done := db.hbStop, db.hbDone
	db.hbStop = nil
	db.lmu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	var errs []error
	for _, l := range locks {
		errs = append(errs, l.Release(context.Background()))
	}
	return errors.Join(errs...)
}

// Writer describes a live process writing a node's logs into the database.
type Writer struct {
	ID         int64
	Node, Role string
	PID        int
	Host       string
	Started    time.Time
	Heartbeat  time.Time
}

// Writers returns the processes writing into the database now (those that
// are gone are not shown).
func (db *DB) Writers(ctx context.Context) ([]Writer, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT w.id, n.name, w.role, w.pid, w.host, w.pid_space, w.started, w.heartbeat
		FROM writers w JOIN nodes n ON n.id = w.node ORDER BY w.id`)
	if err != nil {
		return nil, db.errf("read writers of", err)
	}
	defer rows.Close()
	var out []Writer
	now := db.now()
	for rows.Next() {
		var w writerRow
		var name string
		if err := rows.Scan(&w.id, &name, &w.role, &w.pid, &w.host, &w.space, &w.started, &w.heartbeat); err != nil {
			return nil, db.errf("read writers of", err)
		}
		if db.alive(w, now) {
			out = append(out, Writer{ID: w.id, Node: name, Role: w.role, PID: w.pid, Host: w.host,
				Started: time.Unix(w.started, 0), Heartbeat: time.Unix(w.heartbeat, 0)})
		}
	}
	return out, rows.Err()
}

// writer returns the live writer of an ID, if any.
func (db *DB) writer(ctx context.Context, id int64) (Writer, bool, error) {
	if id == 0 {
		return Writer{}, false, nil
	}
	ws, err := db.Writers(ctx)
	if err != nil {
		return Writer{}, false, err
	}
	for _, w := range ws {
		if w.ID == id {
			return w, true, nil
		}
	}
	return Writer{}, false, nil
}

// String names the writer for messages: "serve, pid 1234 on host h".
func (w Writer) String() string {
	return fmt.Sprintf("%s, pid %d on host %s", w.Role, w.PID, w.Host)
}
