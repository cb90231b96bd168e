package sink

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

const (
	us1 = "12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S"
	eu1 = "12L9ZFwhzVpuEKMUNUqkaTLGzwY9G24tbiigLiXpmZWKwmcNDDs"
	// a piece ID as logged: base32 of 32 bytes
	piece1 = "7VCCJA3NTUGCABTKIDXPVB7ETUPRPYY63K6LKRXH3DHXBJCPSOMQ"
	piece2 = "IFKPBATQQ6ED7M2MWZOUKD2YGXGRKBXRNFWP2BW7THMNTUEB7REA"
)

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one with %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func TestOpenBadFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()

	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte(strings.Repeat("this is not a database\n", 100)), 0o644)
	_, err := Open(ctx, text, Options{})
	wantErr(t, err, "sink: open "+text+": ", "file is not a database")

	_, err = Open(ctx, dir, Options{})
	wantErr(t, err, dir, "is a directory")

	missing := filepath.Join(dir, "no", "such", "x.db")
	_, err = Open(ctx, missing, Options{})
	wantErr(t, err, missing, "no such file or directory")

	_, err = Open(ctx, filepath.Join(dir, "absent.db"), Options{ReadOnly: true})
	wantErr(t, err, "absent.db", "no such file")

	// A database of another program, like the predecessor's.
	foreign := filepath.Join(dir, "storj_stats.db")
	raw, _ := sql.Open("sqlite", foreign)
	raw.Exec("CREATE TABLE events (id INTEGER PRIMARY KEY, timestamp DATETIME, action TEXT, status TEXT)")
	raw.Close()
	_, err = Open(ctx, foreign, Options{})
	wantErr(t, err, foreign, "not a storagenode-exporter database", "events")

	// A newer schema.
	newer := filepath.Join(dir, "newer.db")
	db := openTest(t, newer)
	db.SQL().Exec("PRAGMA user_version = 99")
	db.Close()
	_, err = Open(ctx, newer, Options{})
	wantErr(t, err, newer, "schema version 99 is newer")
}

// A corrupt file: a clear error naming it, from Open or the first query
// that meets the damage, never a panic.
func TestCorruptFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	db := openTest(t, path)
	writeEvents(t, db, 20_000, testStart)
	db.Close()
	b, _ := os.ReadFile(path)
	for i := len(b) / 3; i < len(b)/3+8192 && i < len(b); i++ {
		b[i] = 0xa5
	}
	os.WriteFile(path, b, 0o644)
	for _, ro := range []bool{false, true} {
		db, err := Open(ctx, path, Options{ReadOnly: ro})
		if err == nil { // before PRAGMA quick_check at Open, serve wrote on, each write failing
			db.Close()
			t.Fatalf("read-only %v: a database with corrupted pages opened", ro)
		}
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.Path != path {
			t.Errorf("read-only %v: %T %v, want a *CorruptError", ro, err, err)
		}
		wantErr(t, err, "sink: open "+path+": the database is corrupt (", "move it aside (mv "+path+" "+path+".corrupt")
	}
}

// A file whose content is intact but for one page's header: quick_check
// names the problem at Open.
func TestQuickCheckAtOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q.db")
	db := openTest(t, path)
	writeEvents(t, db, 20_000, testStart)
	var pageSize, pages int64
	db.SQL().QueryRow("PRAGMA page_size").Scan(&pageSize)
	db.SQL().QueryRow("PRAGMA page_count").Scan(&pages)
	db.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// a b-tree page of the events, its page type byte made invalid
	if _, err := f.WriteAt([]byte{0x42}, (pages/2)*pageSize); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Open(ctx, path, Options{})
	var ce *CorruptError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "move it aside") {
		t.Fatalf("Open: %v", err)
	}
	t.Log(err)
}

// Another process holding the write lock: the writer waits for the busy
// timeout, then fails naming the file; nothing of its batch is written.
func TestLocked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "l.db")
	db, err := Open(ctx, path, Options{BusyTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	other, _ := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(100)")
	defer other.Close()
	conn, _ := other.Conn(ctx)
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	err = db.WriteBatch(ctx, manyEvents(10, testStart), &Position{Node: "n1", Path: "/x"})
	wantErr(t, err, "sink: write "+path+": ", "locked")
	_, err = Open(ctx, path, Options{BusyTimeout: 100 * time.Millisecond})
	wantErr(t, err, "sink: open "+path+": ", "locked")
	conn.ExecContext(ctx, "ROLLBACK")
	if _, n := checksum(t, db); n != 0 {
		t.Errorf("%d events written", n)
	}
	if err := db.WriteBatch(ctx, manyEvents(10, testStart), nil); err != nil {
		t.Errorf("after the lock: %v", err)
	}
}

// A full disk (here: the page limit SQLite reports the same way): the
// error names the file and nothing of the batch or its position is
// written.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "f.db")
	db := openTest(t, path)
	pos := &Position{Node: "n1", Path: "/var/log/node.log", Offset: 100}
	if err := db.WriteBatch(ctx, manyEvents(100, testStart), pos); err != nil {
		t.Fatal(err)
	}
	sum, n := checksum(t, db)
	var pages int64
	db.SQL().QueryRow("PRAGMA page_count").Scan(&pages)
	if _, err := db.wconn.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages+5)); err != nil {
		t.Fatal(err)
	}
	pos.Offset = 999
	err := db.WriteBatch(ctx, manyEvents(50_000, testStart.Add(time.Hour)), pos)
	wantErr(t, err, "sink: write "+path+": ", "full")
	if got, m := checksum(t, db); got != sum || m != n {
		t.Errorf("a failed batch left %d events (had %d)", m, n)
	}
	if p, _, _ := db.Position(ctx, "n1", "/var/log/node.log"); p.Offset != 100 {
		t.Errorf("position %d, want 100", p.Offset)
	}
}

func TestReadOnlyDirectory(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root writes to read-only directories (the command's test runs this case as another user)")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o555)
	defer os.Chmod(dir, 0o755)
	path := filepath.Join(dir, "r.db")
	_, err := Open(context.Background(), path, Options{})
	wantErr(t, err, path)
}

func TestReadOnlyOption(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ro.db")
	db := openTest(t, path)
	writeEvents(t, db, 10, testStart)
	db.Close()
	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if a, err := storedSummary(ctx, ro); err != nil || a.Events != 10 {
		t.Errorf("analyze: %v, %+v", err, a)
	}
	wantErr(t, ro.WriteBatch(ctx, manyEvents(1, testStart), nil), path, "read-only")
}

// manyEvents returns n GET successes, ten a second from t.
func manyEvents(n int, t time.Time) []Event {
	out := make([]Event, n)
	for i := range out {
		out[i] = Event{Time: t.Add(time.Duration(i) * 100 * time.Millisecond), Node: "n1", Satellite: us1, Action: parser.GET,
			Status: parser.Success, Size: int64(1000 + i), HasSize: true, PieceID: piece1,
			Remote: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), Country: "US"}
	}
	return out
}

func writeEvents(t testing.TB, db *DB, n int, at time.Time) {
	t.Helper()
	if err := db.WriteBatch(context.Background(), manyEvents(n, at), nil); err != nil {
		t.Fatal(err)
	}
}

// The view shows every column under the predecessor's names and as text.
func TestEventsView(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTest(t, filepath.Join(t.TempDir(), "v.db"))
	at := time.Date(2026, 9, 5, 14, 0, 1, 0, time.UTC)
	events := []Event{
		{Time: at, Node: "n1", Satellite: us1, Action: parser.GET, Status: parser.Success, Size: 2319360, HasSize: true,
			PieceID: piece1, Remote: netip.MustParseAddr("198.51.100.9"), Country: "US"},
		{Time: at.Add(1500 * time.Millisecond), Node: "n2", Satellite: eu1, Action: parser.PUT, Status: parser.Failed,
			PieceID: piece2, Remote: netip.MustParseAddr("2001:db8::7"), Country: "ZZ", ErrorReason: "read: connection reset by peer",
			Duration: 1234 * time.Millisecond, Timed: true},
		{Time: at, Node: "n1", Action: parser.ActionNone, Status: parser.Canceled, PieceID: "P001", Remote: netip.MustParseAddr("255.255.255.254")},
		{Time: at, Node: "n1", Satellite: "1unknownSatelliteID", Action: parser.GETRepair, Status: parser.Canceled, Size: 0, HasSize: true,
			Remote: netip.MustParseAddr("0.0.0.1"), ErrorReason: "context canceled"},
	}
	if err := db.WriteBatch(ctx, events, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := db.SQL().QueryContext(ctx, `SELECT timestamp, node_name, satellite_id, satellite, action, status, size, piece_id,
		remote_ip, country, error_reason, duration_ms, ts_ms FROM events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		v := make([]any, 13)
		p := make([]any, 13)
		for i := range v {
			p[i] = &v[i]
		}
		if err := rows.Scan(p...); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
	}
	want := []string{
		"2026-09-05T14:00:01.000+00:00 n1 " + us1 + " us1 GET success 2319360 " + piece1 + " 198.51.100.9 US <nil> <nil> 1788616801000",
		"2026-09-05T14:00:01.000+00:00 n1 <nil> <nil> <nil> canceled <nil> P001 255.255.255.254 <nil> <nil> <nil> 1788616801000",
		"2026-09-05T14:00:01.000+00:00 n1 1unknownSatelliteID 1unknownSatelliteID GET_REPAIR canceled 0 <nil> 0.0.0.1 <nil> context canceled <nil> 1788616801000",
		"2026-09-05T14:00:02.500+00:00 n2 " + eu1 + " eu1 PUT failed <nil> " + piece2 + " 2001:db8:0:0:0:0:0:7 ZZ read: connection reset by peer 1234 1788616802500",
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("(-got +want)\n%s", diff)
	}
	// The predecessor's kind of query.
	var n int
	db.SQL().QueryRow("SELECT count(*) FROM events WHERE action = 'GET' AND status = 'success' AND timestamp >= '2026-09-05T14:00:01+00:00'").Scan(&n)
	if n != 1 {
		t.Errorf("predecessor query: %d rows", n)
	}
}

func TestPieceAndAddressCoding(t *testing.T) {
	t.Parallel()
	var b [32]byte
	for _, id := range []string{piece1, piece2, strings.Repeat("A", 52)} {
		if !decodePiece(&b, id) || encodePiece(b[:]) != id {
			t.Errorf("%s does not round-trip", id)
		}
	}
	for _, id := range []string{"", "P001", strings.Repeat("A", 51) + "B", strings.Repeat("a", 52), strings.Repeat("A", 53)} {
		if decodePiece(&b, id) {
			t.Errorf("%q decoded", id)
		}
	}
	for _, s := range []string{"0.0.0.0", "127.255.255.255", "128.0.0.0", "255.255.255.255", "::1", "2001:db8::7"} {
		a := netip.MustParseAddr(s)
		if got := addrOf(ipValue(a)); got != a {
			t.Errorf("%s: got %s", s, got)
		}
		if v, ok := ipValue(a).(int64); ok && (v < -1<<31 || v >= 1<<31) {
			t.Errorf("%s: %d does not fit 4 bytes", s, v)
		}
	}
}

// Writers in two processes (two DBs on one file) and readers at once: keys
// stay unique and nothing is lost.
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	// Writers wait for each other's locks; on a loaded machine under the
	// race detector one batch can hold the lock past the default 5 s.
	open := func() *DB {
		db, err := Open(ctx, path, Options{BusyTimeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(), open()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 8 {
		db := a
		if i%2 == 1 {
			db = b
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 5 {
				errs <- db.WriteBatch(ctx, manyEvents(300, testStart), nil) // the same seconds every time
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := storedSummary(ctx, db); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, n := checksum(t, a); n != 8*5*300 {
		t.Errorf("%d events, want %d", n, 8*5*300)
	}
}

// A database of schema version 1 is migrated at Open and keeps its rows.
func TestMigrateFromV1(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	conn, _ := raw.Conn(ctx)
	if err := migrate(ctx, conn, 1); err != nil {
		t.Fatal(err)
	}
	id := eventID(testStart.Unix(), 0)
	for _, q := range []string{
		"INSERT INTO nodes (id, name) VALUES (1, 'old')",
		"INSERT INTO satellites (id, satellite_id, name) VALUES (1, '" + us1 + "', 'us1')",
		fmt.Sprintf("INSERT INTO event_rows (id, node, satellite, action, status, size, ip, country) VALUES (%d, 1, 1, 1, 1, 512, %d, 'US')", id, int64(3325256705)-1<<31),
		"INSERT INTO positions (node, path, dev, inode, fp_len, byte_offset, updated) VALUES (1, '/old.log', 1, 2, 0, 77, 0)",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if v, _ := schemaVersion(ctx, conn); v != 1 {
		t.Fatalf("version %d", v)
	}
	conn.Close()
	raw.Close()

	db := openTest(t, path)
	if v, _ := schemaVersion(ctx, db.SQL()); v != SchemaVersion() {
		t.Errorf("version %d after Open, want %d", v, SchemaVersion())
	}
	var line string
	db.SQL().QueryRow("SELECT node_name || ' ' || satellite || ' ' || action || ' ' || status || ' ' || remote_ip FROM events").Scan(&line)
	if line != "old us1 GET success 198.51.100.1" {
		t.Errorf("old row: %q", line)
	}
	if p, ok, _ := db.Position(ctx, "old", "/old.log"); !ok || p.Offset != 77 {
		t.Errorf("old position: %+v", p)
	}
	err = db.Write(ctx, &Batch{
		Events:     manyEvents(3, testStart.Add(time.Minute)),
		Rejections: []Rejection{{Time: testStart, Node: "old"}},
		Reputation: []Reputation{{Time: testStart, Node: "old", Satellite: us1, AuditScore: 1, Source: "api"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := storedSummary(ctx, db)
	if err != nil || a.Events != 4 || a.Summary.UploadsRejected != 1 {
		t.Errorf("after migration: %v %+v", err, a)
	}
	// Opening again is a no-op.
	db.Close()
	openTest(t, path)
}

func TestPrune(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTest(t, filepath.Join(t.TempDir(), "p.db"))
	old, recent := testStart, testStart.Add(8*24*time.Hour)
	cut := testStart.Add(7 * 24 * time.Hour)
	olds := manyEvents(pruneChunk+5000, old) // more than a chunk
	pos := &Position{Node: "n1", Path: "/node.log", Offset: 10}
	err := db.Write(ctx, &Batch{
		Events:      append(olds, manyEvents(100, recent)...),
		Rejections:  []Rejection{{Time: old, Node: "n1"}, {Time: recent, Node: "n1"}},
		Reputation:  []Reputation{{Time: old, Node: "n1", Satellite: us1}, {Time: recent, Node: "n1", Satellite: us1}},
		Snapshots:   []StorageSnapshot{{Time: old, Node: "n1", Total: 10, Used: 5}, {Time: recent, Node: "n1", Total: 10, Used: 6}},
		Compactions: []Compaction{{Time: old, Node: "n1", Satellite: us1, Store: "s0"}, {Time: recent, Node: "n1", Satellite: us1, Store: "s0"}},
		Position:    pos,
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.Prune(ctx, cut)
	if err != nil || n != int64(len(olds)) {
		t.Fatalf("pruned %d (%v), want %d", n, err, len(olds))
	}
	for table, want := range map[string]int{"event_rows": 100, "upload_rejections": 1, "reputation_history": 1,
		"storage_snapshots": 1, "hashstore_compaction_history": 1, "positions": 1} {
		var got int
		db.SQL().QueryRow("SELECT count(*) FROM " + table).Scan(&got)
		if got != want {
			t.Errorf("%s: %d rows, want %d", table, got, want)
		}
	}
	if n, _ := db.Prune(ctx, cut); n != 0 {
		t.Errorf("pruned %d again", n)
	}
}

func TestPositions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTest(t, filepath.Join(t.TempDir(), "pos.db"))
	if _, ok, err := db.Position(ctx, "n1", "/a.log"); ok || err != nil {
		t.Fatalf("empty: %v %v", ok, err)
	}
	p := &Position{Node: "n1", Path: "/a.log", Dev: 1<<63 + 5, Inode: 42, Offset: 10, State: []byte{1, 2}}
	if err := db.WriteBatch(ctx, nil, p); err != nil || p.ID == 0 {
		t.Fatalf("insert: %v, id %d", err, p.ID)
	}
	id := p.ID
	p.Offset = 20
	if err := db.WriteBatch(ctx, manyEvents(2, testStart), p); err != nil || p.ID != id {
		t.Fatalf("update: %v, id %d", err, p.ID)
	}
	got, ok, err := db.Position(ctx, "n1", "/a.log")
	if !ok || err != nil || got.Offset != 20 || got.Dev != 1<<63+5 || got.Inode != 42 || string(got.State) != "\x01\x02" {
		t.Errorf("%+v %v %v", got, ok, err)
	}
	all, _ := db.Positions(ctx, "n1")
	if len(all) != 1 {
		t.Errorf("%d positions", len(all))
	}
	// A write that fails sets no ID.
	q := &Position{Node: "n1", Path: "/b.log"}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.WriteBatch(ctx2, nil, q); !errors.Is(err, context.Canceled) || q.ID != 0 {
		t.Errorf("canceled write: %v, id %d", err, q.ID)
	}
}

// decodePiece reads the same bytes, and refuses the same IDs, as a
// character-at-a-time base32 decoder.
func TestDecodePieceAgainstLoop(t *testing.T) {
	t.Parallel()
	loop := func(dst *[32]byte, id string) bool {
		if len(id) != 52 {
			return false
		}
		var acc uint64
		bits, n := 0, 0
		for i := 0; i < 52; i++ {
			v := b32Value[id[i]]
			if v == 0xff {
				return false
			}
			acc = acc<<5 | uint64(v)
			bits += 5
			if bits >= 8 {
				bits -= 8
				dst[n] = byte(acc >> bits)
				n++
			}
		}
		return n == 32 && acc&(1<<bits-1) == 0
	}
	r := rand.New(rand.NewPCG(9, 10))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	for i := range 100000 {
		b := make([]byte, 52)
		for k := range b {
			b[k] = alphabet[r.IntN(32)]
		}
		switch i % 4 {
		case 1: // a last character whose low bits are not zero, or are
			b[51] = alphabet[r.IntN(32)]
		case 2: // a character outside the alphabet
			b[r.IntN(52)] = byte(r.IntN(256))
		case 3: // a valid ID
			var p [32]byte
			for k := range p {
				p[k] = byte(r.Uint32())
			}
			b = []byte(encodePiece(p[:]))
		}
		var got, want [32]byte
		okGot, okWant := decodePiece(&got, string(b)), loop(&want, string(b))
		if okGot != okWant || okGot && got != want {
			t.Fatalf("%q: %v %x, the loop says %v %x", b, okGot, got, okWant, want)
		}
	}
}
