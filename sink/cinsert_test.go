package sink

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/parser"
	sqlite3 "modernc.org/sqlite/lib"
)

// The write connection's SQLite handle is reachable in the driver this
// build uses; anything else is refused, not dereferenced.
func TestHandleOf(t *testing.T) {
	t.Parallel()
	db := openTest(t, filepath.Join(t.TempDir(), "h.db"))
	err := db.wconn.Raw(func(dc any) error {
		h, err := handleOf(dc)
		if err != nil {
			return err
		}
		if _, err := h.prepare("SELEC 1"); err == nil {
			return errors.New("a bad statement was prepared")
		} else if se := (sqliteError)(nil); !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_ERROR {
			return errors.New("no SQLite code in " + err.Error())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{nil, 42, &struct{ db uintptr }{1}, &struct {
		db  int
		tls uintptr
	}{}} {
		if _, err := handleOf(v); err == nil {
			t.Errorf("%T: no error", v)
		}
	}
	if got := describe(&cError{code: sqlite3.SQLITE_CORRUPT, msg: "x"}); !isCorrupt(got) ||
		!strings.Contains(got.Error(), "corrupt") {
		t.Errorf("a C API error is not read as the driver's: %v", got)
	}
}

// Texts longer than the arena's room, and a batch whose texts overflow it
// part way through a run, are stored whole.
func TestInsertLongTexts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTest(t, filepath.Join(t.TempDir(), "l.db"))
	at := time.Date(2026, 9, 5, 14, 0, 1, 0, time.UTC)
	var events []Event
	var want []string
	for i := range 3*rowsPerInsert + 5 {
		reason := strings.Repeat(string(rune('a'+i%26)), 1+i*97%3000)
		if i == 7 {
			reason = strings.Repeat("long ", 40000) // 200 KB
		}
		events = append(events, Event{Time: at, Node: "n", Satellite: us1, Action: parser.PUT, Status: parser.Failed,
			PieceID: strings.Repeat("x", 1+i%700), Remote: netip.MustParseAddr("2001:db8::7"), Country: "ZZ",
			ErrorReason: reason})
		want = append(want, reason+"|"+strings.Repeat("x", 1+i%700))
	}
	if err := db.WriteBatch(ctx, events, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := db.SQL().QueryContext(ctx, "SELECT error_reason || '|' || piece_id, remote_ip FROM events ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for ; rows.Next(); i++ {
		var s, ip string
		if err := rows.Scan(&s, &ip); err != nil {
			t.Fatal(err)
		}
		if i < len(want) && (s != want[i] || ip != "2001:db8:0:0:0:0:0:7") {
			t.Fatalf("row %d: %.60q (%d bytes) %s, want %.60q (%d bytes)", i, s, len(s), ip, want[i], len(want[i]))
		}
	}
	if i != len(want) {
		t.Fatalf("%d rows, want %d", i, len(want))
	}
}
