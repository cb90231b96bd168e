package sink

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

var testSatellites = []string{
	"12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S",
	"12L9ZFwhzVpuEKMUNUqkaTLGzwY9G24tbiigLiXpmZWKwmcNDDs",
	"121RTSDpyNZVcEU84Ticf2L1ntiuUimbWgfATz21tuvgk3vzoA6",
	"1wFTAgs9DP5RSnCqKV1eLf6N9wtk4EAtmN5DpSxcs8EjT69tGE",
}

// genLog writes n lines of a deterministic DEBUG-level node log: outcomes
// of every kind with their started lines and millisecond times (so that
// durations are paired), race-lost cancels whose DEBUG follow-up comes a
// few lines later, rejections, reputation and compaction lines, garbage
// and blank lines. It starts at t0 and advances about 20 ms a line.
func genLog(w io.Writer, n int, seed uint64, t0 time.Time) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	t := t0
	var hot []string
	piece := func() string {
		if len(hot) > 0 && r.IntN(10) == 0 {
			return hot[r.IntN(len(hot))]
		}
		var b [32]byte
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		p := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
		if len(hot) < 20 {
			hot = append(hot, p)
		}
		return p
	}
	addr := func() string {
		if r.IntN(20) == 0 {
			return fmt.Sprintf("[2001:db8::%x]:%d", r.IntN(1<<16), 1024+r.IntN(60000))
		}
		return fmt.Sprintf("%d.%d.%d.%d:%d", 1+r.IntN(223), r.IntN(256), r.IntN(256), r.IntN(256), 1024+r.IntN(60000))
	}
	type pending struct {
		piece, sat, action, msg string
		at                      int
	}
	var follow []pending
	actions := []string{"GET", "GET", "GET", "PUT", "PUT", "GET_AUDIT", "GET_REPAIR", "PUT_REPAIR"}
	line := func(level, logger, msg, fields string) {
		fmt.Fprintf(bw, "%s\t%s\t%s\t%s\t%s\n", t.Format("2006-01-02T15:04:05.000Z"), level, logger, msg, fields)
	}
	for i := 0; i < n; i++ {
		t = t.Add(time.Duration(1+r.IntN(40)) * time.Millisecond)
		if len(follow) > 0 && follow[0].at <= i {
			f := follow[0]
			follow = follow[1:]
			line("DEBUG", "piecestore", f.msg, fmt.Sprintf(`{"process": "storagenode", "piece_id": %q, "satellite_id": %q, "action": %q, "remote_address": %q, "size": 0, "error": "context canceled"}`,
				f.piece, f.sat, f.action, addr()))
			continue
		}
		sat := testSatellites[r.IntN(len(testSatellites))]
		act := actions[r.IntN(len(actions))]
		up := act == "PUT" || act == "PUT_REPAIR"
		p := piece()
		size := 256 << r.IntN(14)
		ctx := fmt.Sprintf(`"process": "storagenode", "piece_id": %q, "satellite_id": %q, "action": %q`, p, sat, act)
		if !up {
			ctx += fmt.Sprintf(`, "offset": 0, "size": %d`, size)
		}
		ctx += fmt.Sprintf(`, "remote_address": %q`, addr())
		upSize := ""
		if up {
			upSize = fmt.Sprintf(`, "size": %d`, size)
		}
		switch k := r.IntN(100); {
		case k < 25: // a started line; its outcome comes right after
			msg := "download started"
			if up {
				msg = "upload started"
			}
			line("DEBUG", "piecestore", msg, "{"+ctx+"}")
		case k < 70:
			msg := "downloaded"
			if up {
				msg = "uploaded"
			}
			line("INFO", "piecestore", msg, "{"+ctx+upSize+"}")
		case k < 77: // race lost, with a DEBUG follow-up a few lines later
			msg, fmsg := "download canceled (race lost or node shutdown)", "download canceled"
			if up {
				msg, fmsg = "upload canceled (race lost or node shutdown)", "upload failed"
			}
			line("INFO", "piecestore", msg, "{"+ctx+upSize+"}")
			if r.IntN(4) > 0 {
				follow = append(follow, pending{p, sat, act, fmsg, i + 1 + r.IntN(30)})
			}
		case k < 82:
			msg := "download canceled"
			if up {
				msg = "upload canceled"
			}
			line("INFO", "piecestore", msg, "{"+ctx+upSize+`, "reason": "context canceled"}`)
		case k < 86:
			msg, errText := "download failed", []string{"file does not exist", "write: broken pipe", "usedserialsdb error: database is locked", "unexpected EOF"}[r.IntN(4)]
			level := "ERROR"
			if up {
				msg, level, errText = "upload failed", "WARN", []string{"read: connection reset by peer", "context deadline exceeded"}[r.IntN(2)]
			}
			line(level, "piecestore", msg, "{"+ctx+upSize+fmt.Sprintf(`, "error": %q}`, errText))
		case k < 88:
			line("DEBUG", "piecestore", "upload failed", "{"+ctx+`, "size": 0, "error": "context canceled"}`)
		case k < 91:
			line("INFO", "piecestore", "upload rejected, too many requests", fmt.Sprintf(`{"process": "storagenode", "live_requests": %d, "request_limit": 10}`, 11+r.IntN(5)))
		case k < 92:
			line("INFO", "reputation:service", "node scores updated", fmt.Sprintf(`{"process": "storagenode", "satellite_id": %q, "total_audits": %d, "successful_audits": %d, "audit_score": 1, "online_score": 0.99%d, "suspension_score": 1, "audit_score_delta": 0, "online_score_delta": 0, "suspension_score_delta": 0}`,
				sat, 1000+i, 999+i, r.IntN(10)))
		case k < 93:
			store := []string{"s0", "s1"}[r.IntN(2)]
			line("INFO", "hashstore", "beginning compaction", fmt.Sprintf(`{"process": "storagenode", "satellite": %q, "store": %q}`, sat, store))
			line("INFO", "hashstore", "hashtbl rewritten", fmt.Sprintf(`{"process": "storagenode", "satellite": %q, "store": %q, "rewritten_bytes": "%d.0 MiB", "reclaimed_bytes": "%d.0 GiB"}`, sat, store, 1+r.IntN(900), 1+r.IntN(9)))
			t = t.Add(time.Millisecond)
			line("INFO", "hashstore", "finished compaction", fmt.Sprintf(`{"process": "storagenode", "satellite": %q, "store": %q, "duration": "%ds", "stats": {"NumLogs":1,"LenLogs":"1.0 GiB","TrashPercent":0.0%d}}`, sat, store, 1+r.IntN(90), r.IntN(10)))
		case k < 94:
			fmt.Fprintln(bw, "not a log line")
		case k < 95:
			fmt.Fprintln(bw)
		default:
			line("INFO", "orders", "finished", fmt.Sprintf(`{"process": "storagenode", "satellite_id": %q, "count": %d}`, sat, r.IntN(500)))
		}
	}
}

// scaled is n, or n/4 under the race detector, which slows parsing
// tenfold.
func scaled(n int) int {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				return n / 4
			}
		}
	}
	return n
}

var testStart = time.Date(2026, 9, 5, 14, 0, 0, 0, time.UTC)

// writeLog writes a generated log to a file in dir.
func writeLog(t testing.TB, dir, name string, n int, seed uint64) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	genLog(f, n, seed, testStart)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func openTest(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// checksum is a digest of every stored row but the positions, and the
// number of events.
func checksum(t testing.TB, db *DB) (string, int64) {
	t.Helper()
	h := sha256.New()
	var events int64
	for _, q := range []string{
		"SELECT * FROM event_rows ORDER BY id",
		"SELECT * FROM nodes ORDER BY id",
		"SELECT * FROM satellites ORDER BY id",
		"SELECT * FROM upload_rejections ORDER BY node, minute",
		"SELECT * FROM reputation_history ORDER BY id",
		"SELECT * FROM hashstore_compaction_history ORDER BY node_name, satellite, store, last_run_iso",
	} {
		rows, err := db.SQL().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(q, "SELECT * FROM event_rows") {
				events++
			}
			for _, v := range vals {
				fmt.Fprintf(h, "%T:%v|", v, v)
			}
			h.Write([]byte{'\n'})
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return hex.EncodeToString(h.Sum(nil)), events
}
