package sink

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

// contents is a digest of the stored rows without what depends on the
// order in which they were written (event sequence numbers, row IDs), and
// the number of events: equal for the same events written in any order.
func contents(t testing.TB, db *DB) (string, int64) {
	t.Helper()
	h := sha256.New()
	var events int64
	for _, q := range []string{
		`SELECT e.id >> 24, n.name, s.satellite_id, action, status, size, piece, ip, country, ms, error_reason, duration_ms
			FROM event_rows e JOIN nodes n ON n.id = e.node LEFT JOIN satellites s ON s.id = e.satellite
			ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12`,
		"SELECT n.name, minute, count FROM upload_rejections r JOIN nodes n ON n.id = r.node ORDER BY 1, 2",
		`SELECT timestamp, node_name, satellite, audit_score, suspension_score, online_score, audit_success_count, audit_total_count,
			is_disqualified, is_suspended, source FROM reputation_history ORDER BY 1, 2, 3, 4, 5, 6, 7, 8`,
		"SELECT * FROM hashstore_compaction_history ORDER BY node_name, satellite, store, last_run_iso",
	} {
		rows, err := db.SQL().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(q, "event_rows") {
				events++
			}
			fmt.Fprintf(h, "%v\n", vals)
		}
		rows.Close()
	}
	return hex.EncodeToString(h.Sum(nil)), events
}

// splitLog generates a log of n lines and cuts it after the first line
// that is followed, within the next lines, by the DEBUG follow-up of a
// race-lost line before it and by the outcome of a started line before it:
// the cut where a reader starting there needs the lines before.
func splitLog(t testing.TB, n int, seed uint64, after int) (head, tail []byte) {
	t.Helper()
	var b bytes.Buffer
	genLog(&b, n, seed, testStart)
	data := b.Bytes()
	lines := bytes.SplitAfter(data, []byte("\n"))
	for i := after; i < len(lines)-40; i++ {
		if !bytes.Contains(lines[i], []byte("race lost")) {
			continue
		}
		piece := pieceOf(lines[i])
		for j := i + 1; j < i+40; j++ {
			if bytes.Contains(lines[j], []byte("DEBUG")) && pieceOf(lines[j]) == piece {
				cut := len(bytes.Join(lines[:i+1], nil))
				return data[:cut], data[cut:]
			}
		}
	}
	t.Fatal("no race-lost line with a follow-up")
	return nil, nil
}

func pieceOf(line []byte) string {
	_, rest, ok := bytes.Cut(line, []byte(`"piece_id": "`))
	if !ok {
		return ""
	}
	p, _, _ := bytes.Cut(rest, []byte(`"`))
	return string(p)
}

func appendFile(t testing.TB, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
}

func acquire(t testing.TB, db *DB, node, role string) *Lock {
	t.Helper()
	l, err := db.Acquire(context.Background(), node, role)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// wantContents is what one ingest of the whole log stores.
func wantContents(t *testing.T, path string) (string, int64) {
	t.Helper()
	db := openTest(t, filepath.Join(t.TempDir(), "want.db"))
	ingest(t, db, "n1", IngestOptions{}, path)
	return contents(t, db)
}

// serve follows a log from its end; ingest of the log then stores exactly
// what is before, and the rows are those of one ingest of the whole log:
// the reader starting at the end pairs the lines there as if it had read
// the ones before (race-lost follow-ups, started transfers, compactions).
func TestRangesFollowThenIngest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	head, tail := splitLog(t, scaled(8000), 3, scaled(5000))
	appendFile(t, log, head)
	db := openTest(t, filepath.Join(dir, "s.db"))
	serve := db.NewIngester("n1", IngestOptions{Follow: true, Lock: acquire(t, db, "n1", RoleServe), BatchSize: 100})
	if err := serve.Start(ctx, log, false); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, tail)
	res, err := serve.File(ctx, log)
	if err != nil || res.From != int64(len(head)) || res.To != int64(len(head)+len(tail)) {
		t.Fatalf("serve: %+v %v", res, err)
	}
	for _, stopServe := range []bool{false, true} {
		if stopServe {
			db.Close()
			db = openTest(t, filepath.Join(dir, "s.db"))
		}
		il := acquire(t, db, "n1", RoleIngest)
		in := db.NewIngester("n1", IngestOptions{Lock: il, BatchSize: 77})
		res, err = in.File(ctx, log)
		if err != nil {
			t.Fatal(err)
		}
		il.Release(ctx)
		switch {
		case !stopServe && (res.From != 0 || res.To != int64(len(head)) || !strings.Contains(res.HeldBy, "serve, pid")):
			t.Errorf("ingest while serve follows: %+v", res)
		case stopServe && (!res.Skipped || res.HeldBy != ""):
			t.Errorf("ingest after serve stopped: %+v", res)
		}
		want, wantN := wantContents(t, log)
		if got, n := contents(t, db); got != want || n != wantN {
			t.Errorf("stop %v: %d events, want %d, or other rows", stopServe, n, wantN)
			w := openTest(t, filepath.Join(t.TempDir(), "want.db"))
			ingest(t, w, "n1", IngestOptions{}, log)
			dumpDiff(t, db, w)
		}
	}
	ps, _ := db.Positions(ctx, "n1")
	if len(ps) != 1 || ps[0].Start != 0 || ps[0].Offset != int64(len(head)+len(tail)) || ps[0].Owner != 0 {
		t.Errorf("positions: %d, the first [%d, %d) of %d", len(ps), ps[0].Start, ps[0].Offset, ps[0].Owner)
	}
}

// An ingest that runs when serve starts on the same log, with lines being
// appended: the ingest stops where serve begins, serve takes the rest.
func TestRangesServeStartsDuringIngest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	head, tail := splitLog(t, scaled(12000), 5, scaled(9000))
	appendFile(t, log, head)
	db := openTest(t, filepath.Join(dir, "s.db"))
	serve := db.NewIngester("n1", IngestOptions{Follow: true, Lock: acquire(t, db, "n1", RoleServe), BatchSize: 50})
	started := false
	opts := IngestOptions{Lock: acquire(t, db, "n1", RoleIngest), BatchSize: 100, chunkSize: 16 << 10, Workers: 1}
	opts.Progress = func(p Progress) {
		if !started && p.Lines > int64(scaled(2000)) {
			started = true
			if err := serve.Start(ctx, log, false); err != nil {
				t.Error(err)
			}
			appendFile(t, log, tail) // read by both, stored by serve
		}
	}
	in := db.NewIngester("n1", opts)
	res, err := in.File(ctx, log)
	if err != nil || !started || res.To != int64(len(head)) || !strings.Contains(res.HeldBy, "serve") || in.conflicts == 0 {
		t.Fatalf("ingest: %+v %v (serve started: %v, range conflicts: %d)", res, err, started, in.conflicts)
	}
	if res, err := serve.File(ctx, log); err != nil || res.From != int64(len(head)) || res.To != int64(len(head)+len(tail)) {
		t.Fatalf("serve: %+v %v", res, err)
	}
	want, wantN := wantContents(t, log)
	if got, n := contents(t, db); got != want || n != wantN {
		t.Errorf("%d events, want %d, or other rows", n, wantN)
	}
}

// serve continues the range the sink holds: one an ingest left, or its
// own of an earlier run (the lines written while it was down).
func TestRangesServeContinues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	head, tail := splitLog(t, scaled(6000), 9, scaled(3000))
	appendFile(t, log, head)
	db := openTest(t, filepath.Join(dir, "s.db"))
	il := acquire(t, db, "n1", RoleIngest)
	ingest(t, db, "n1", IngestOptions{Lock: il}, log)
	il.Release(ctx) // as the ingest command does when it ends
	appendFile(t, log, tail)
	lock := acquire(t, db, "n1", RoleServe)
	serve := db.NewIngester("n1", IngestOptions{Follow: true, Lock: lock})
	if err := serve.Start(ctx, log, false); err != nil {
		t.Fatal(err)
	}
	if res, err := serve.File(ctx, log); err != nil || res.From != int64(len(head)) {
		t.Fatalf("serve: %+v %v", res, err)
	}
	want, wantN := wantContents(t, log)
	if got, n := contents(t, db); got != want || n != wantN {
		t.Errorf("%d events, want %d, or other rows", n, wantN)
	}
	// A new file at the path (rotation) is read from its start.
	os.Rename(log, log+".1")
	var b bytes.Buffer
	genLog(&b, 500, 99, testStart.Add(time.Hour))
	appendFile(t, log, b.Bytes())
	if res, err := serve.File(ctx, log); err != nil || res.From != 0 || res.Events == 0 {
		t.Fatalf("new file: %+v %v", res, err)
	}
}

// A database of schema version 2 gets the ranges and writers at Open: its
// positions hold their logs from the start, and are resumed.
func TestMigrateFromV2(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	log := writeLog(t, dir, "node.log", 2000, 4)
	path := filepath.Join(dir, "v2.db")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	conn, _ := raw.Conn(ctx)
	if err := migrate(ctx, conn, 2); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(log)
	half := bytes.LastIndexByte(data[:len(data)/2], '\n') + 1
	n, fp := Fingerprint(data)
	if _, err := conn.ExecContext(ctx, "INSERT INTO nodes (id, name) VALUES (1, 'n1')"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO positions (node, path, dev, inode, fp_len, fp, byte_offset, updated) VALUES (1, ?, 0, 0, ?, ?, ?, 0)",
		log, n, fp, half); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	raw.Close()
	db := openTest(t, path)
	if v, _ := schemaVersion(ctx, db.SQL()); v != SchemaVersion() {
		t.Fatalf("version %d", v)
	}
	ps, err := db.Positions(ctx, "n1")
	if err != nil || len(ps) != 1 || ps[0].Start != 0 || ps[0].Offset != int64(half) || ps[0].Owner != 0 {
		t.Fatalf("%+v %v", ps, err)
	}
	res := ingest(t, db, "n1", IngestOptions{Lock: acquire(t, db, "n1", RoleIngest)}, log)[0]
	if res.From != int64(half) || res.To != int64(len(data)) {
		t.Errorf("resumed: %+v", res)
	}
}

// A lock is refused while its holder lives, naming it; released, or left
// by a holder whose heartbeat stopped, it is taken.
func TestLocks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "l.db")
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	ticks := make(chan time.Time)
	db1, err := Open(ctx, path, Options{Now: clock, HeartbeatTicks: ticks})
	if err != nil {
		t.Fatal(err)
	}
	defer db1.Close()
	db2, err := Open(ctx, path, Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	l1 := acquire(t, db1, "n1", RoleServe)
	_, err = db2.Acquire(ctx, "n1", RoleServe)
	var held *HeldError
	host, _ := os.Hostname()
	if !errors.As(err, &held) || held.PID != os.Getpid() || held.Host != host || held.Role != RoleServe ||
		!strings.Contains(err.Error(), fmt.Sprintf("pid %d on host %s", os.Getpid(), host)) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second lock: %v", err)
	}
	acquire(t, db2, "n1", RoleIngest) // another role
	acquire(t, db2, "n2", RoleServe)  // another node
	if err := l1.Release(ctx); err != nil {
		t.Fatal(err)
	}
	l2 := acquire(t, db2, "n1", RoleServe)
	if ws, _ := db1.Writers(ctx); len(ws) != 3 {
		t.Errorf("writers: %+v", ws)
	}

	// The heartbeat renews l3; l2's stops (db2 has the real ticker of 10 s).
	l3 := acquire(t, db1, "n3", RoleServe)
	heartbeat := func(id int64) (hb int64) {
		db1.SQL().QueryRow("SELECT heartbeat FROM writers WHERE id = ?", id).Scan(&hb)
		return hb
	}
	now = now.Add(50 * time.Second)
	ticks <- now
	testutil.WaitFor(t, "a heartbeat", func() bool { return heartbeat(l3.ID()) == now.Unix() })
	if heartbeat(l2.ID()) == now.Unix() {
		t.Error("l2 renewed")
	}
	now = now.Add(20 * time.Second) // l2's heartbeat is 70 s old: stale
	l4 := acquire(t, db1, "n1", RoleServe)
	// l2's owner is gone: its writes fail
	err = db2.WriteBatch(ctx, nil, &Position{Node: "n1", Path: "/x", Owner: l2.ID()})
	if !errors.Is(err, errLockLost) {
		t.Errorf("write of a lost lock: %v", err)
	}
	if err := db1.WriteBatch(ctx, nil, &Position{Node: "n1", Path: "/x", Owner: l4.ID()}); err != nil {
		t.Error(err)
	}
	// db2's other locks were as stale: gone too
	count := func() (n int) {
		db2.SQL().QueryRow("SELECT count(*) FROM writers").Scan(&n)
		return n
	}
	if n := count(); n != 2 {
		t.Errorf("%d writers, want l3 and l4", n)
	}
	// Close releases
	db1.Close()
	if n := count(); n != 0 {
		t.Errorf("after close: %d writers", n)
	}
}

const lockChildEnv = "SNE_SINK_LOCK_CHILD" // db path: take n1's serve lock and a range, then wait

func TestMain(m *testing.M) {
	if path := os.Getenv(lockChildEnv); path != "" {
		os.Exit(lockChild(path))
	}
	os.Exit(m.Run())
}

func lockChild(path string) int {
	ctx := context.Background()
	db, err := Open(ctx, path, Options{})
	if err != nil {
		fmt.Println(err)
		return 1
	}
	l, err := db.Acquire(ctx, "n1", RoleServe)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	if err := db.WriteBatch(ctx, nil, &Position{Node: "n1", Path: "/x", Owner: l.ID()}); err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Println("locked")
	bufio.NewReader(os.Stdin).ReadString('\n') // until killed
	return 0
}

// A holder killed with SIGKILL blocks nothing: its pid no longer runs, so
// its lock is taken over at once and the ranges it owned are free.
func TestLockOfKilledProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	openTest(t, path).Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+path)
	stdin, _ := cmd.StdinPipe()
	defer stdin.Close()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "locked\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %q", line)
	}
	db := openTest(t, path)
	_, err := db.Acquire(ctx, "n1", RoleServe)
	var held *HeldError
	if !errors.As(err, &held) || held.PID != cmd.Process.Pid {
		t.Fatalf("while the child holds it: %v", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l := acquire(t, db, "n1", RoleServe)
	ps, _ := db.Positions(ctx, "n1")
	if len(ps) != 1 || ps[0].Owner != 0 {
		t.Errorf("the killed child's range: %+v", ps)
	}
	if err := db.WriteBatch(ctx, nil, &Position{ID: ps[0].ID, Node: "n1", Path: "/x", Offset: 1, Owner: 0}); err != nil {
		t.Error(err)
	}
	_ = l
}

func dumpDiff(t *testing.T, a, b *DB) {
	q := `SELECT e.id >> 24, s.satellite_id, action, status, size, hex(piece), ip, country, ms, error_reason, duration_ms
		FROM event_rows e LEFT JOIN satellites s ON s.id = e.satellite`
	get := func(db *DB) map[string]int {
		m := map[string]int{}
		rows, _ := db.SQL().Query(q)
		cols, _ := rows.Columns()
		vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			rows.Scan(ptrs...)
			m[fmt.Sprint(vals)]++
		}
		rows.Close()
		return m
	}
	ma, mb := get(a), get(b)
	n := 0
	for k, v := range ma {
		if mb[k] != v && n < 10 {
			t.Logf("got %d want %d: %s", v, mb[k], k)
			n++
		}
	}
	for k, v := range mb {
		if ma[k] != v && n < 20 {
			t.Logf("got %d want %d: %s", ma[k], v, k)
			n++
		}
	}
}
