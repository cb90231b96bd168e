package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

// cliArgsEnv makes the test binary run the command line it holds (JSON)
// instead of the tests: a command run in another process, e.g. as nobody.
const cliArgsEnv = "SNE_TEST_CLI_ARGS"

func init() {
	if enc := os.Getenv(cliArgsEnv); enc != "" {
		var args []string
		if err := json.Unmarshal([]byte(enc), &args); err != nil {
			os.Exit(2)
		}
		os.Exit(run(args, os.Stdin, os.Stdout, os.Stderr))
	}
}

// holdWriteLock takes the database's write lock from another connection,
// as another process would, until the test ends or release is called:
// every write of serve fails meanwhile (after its busy timeout).
func holdWriteLock(t *testing.T, db string) (release func()) {
	t.Helper()
	other, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			conn.ExecContext(context.Background(), "ROLLBACK")
			conn.Close()
			other.Close()
		}
	}
	t.Cleanup(release)
	return release
}

// While every write of the sink fails (another process holds the
// database's write lock), storj_sink_file_lag_bytes grows with the bytes
// appended to the followed file and the failures are counted; it read 0
// before (the gauge was only set after a write that worked). Released,
// the sink catches up and loses nothing.
func TestServeSinkLagWhileWritesFail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	db := filepath.Join(dir, "sink.db")
	appendLines(t, log, 0, 10)
	s := startServe(t, nil, "--node", "N:"+log, "--db", db, "--db.retention", "0")
	testutil.WaitFor(t, "the sink's start position", func() bool { return s.value(t, `storj_sink_file_lag_bytes{node="N"}`) == 0 })

	release := holdWriteLock(t, db)
	before, _ := os.Stat(log)
	appendLines(t, log, 10, 2000)
	after, _ := os.Stat(log)
	unwritten := float64(after.Size() - before.Size())
	s.waitFor(t, uploads, 2000) // the metrics count on
	testutil.WaitFor(t, "the lag of the unwritten lines while writes fail", func() bool {
		return s.value(t, `storj_sink_file_lag_bytes{node="N"}`) == unwritten && s.value(t, "storj_sink_write_errors_total") >= 1
	})

	release()
	testutil.WaitFor(t, "the sink caught up", func() bool { return s.value(t, `storj_sink_file_lag_bytes{node="N"}`) == 0 })
	if code := s.stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, s.stderr.String())
	}
	if got := sinkUploads(t, db); got != 2000 {
		t.Errorf("sink has %d uploads, want 2000", got)
	}
}

// A stream's events of a failed write are lost (a stream cannot be read
// again): they are counted in storj_sink_dropped_events_total, and the
// failure in storj_sink_write_errors_total; storj_sink_lag_events
// returns to 0.
func TestServeSinkStreamWritesFail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "sink.db")
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	s := startServe(t, pr, "--node", "N:-", "--db", db, "--db.retention", "0")
	writeLines(t, pw, 0, 10)
	s.waitFor(t, uploads, 10)
	testutil.WaitFor(t, "the first events in the sink", func() bool { return sinkUploads(t, db) == 10 })

	holdWriteLock(t, db)
	writeLines(t, pw, 10, 500)
	s.waitFor(t, uploads, 510)
	testutil.WaitFor(t, "the lost events counted", func() bool {
		return s.value(t, `storj_sink_dropped_events_total{node="N"}`) == 500 && s.value(t, "storj_sink_write_errors_total") >= 1 &&
			s.value(t, `storj_sink_lag_events{node="N"}`) == 0
	})
}

// report --db reads a database it may not write: in a read-only directory
// (no -shm can be made beside it) and as a read-only file. It failed with
// "attempt to write a readonly database". Root ignores permissions, so as
// root the report runs as nobody.
func TestReportDBReadOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // so that nobody can reach it
	os.Chmod(dir, 0o755)
	for _, tc := range []struct {
		name    string
		dirMode os.FileMode
	}{
		{"read-only directory", 0o555},
		{"read-only file", 0o777},
	} {
		sub := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
		os.Mkdir(sub, 0o755)
		db := filepath.Join(sub, "s.db")
		if code, _, errs := runCLI(t, "", "ingest", "--db", db, "--progress", "none", "--no-geoip", "N:"+fixture); code != 0 {
			t.Fatalf("ingest: %s", errs)
		}
		os.Chmod(db, 0o444)
		os.Chmod(sub, tc.dirMode)
		args := []string{"report", "--db", db, "--format", "json"}
		var out, errb bytes.Buffer
		if os.Geteuid() != 0 {
			code := run(args, strings.NewReader(""), &out, &errb)
			if code != 0 {
				t.Errorf("%s: exit %d: %s", tc.name, code, errb.String())
			}
		} else {
			bin := filepath.Join(dir, "report.test") // a copy nobody may run
			if _, err := os.Stat(bin); err != nil {
				exe, _ := os.ReadFile(os.Args[0])
				if err := os.WriteFile(bin, exe, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			enc, _ := json.Marshal(args)
			cmd := exec.Command(bin, "-test.run=^$")
			cmd.Env = append(os.Environ(), cliArgsEnv+"="+string(enc))
			cmd.Dir = dir
			cmd.Stdout, cmd.Stderr = &out, &errb
			runAsNobody(cmd)
			if err := cmd.Run(); err != nil {
				t.Errorf("%s: as nobody: %v: %s", tc.name, err, errb.String())
			}
		}
		var doc struct{ Events int64 }
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc.Events != 24 {
			t.Errorf("%s: %d events (%v): %s %s", tc.name, doc.Events, err, out.String(), errb.String())
		}
		if entries, _ := os.ReadDir(sub); tc.dirMode == 0o555 && len(entries) != 1 {
			t.Errorf("%s: the report left files: %v", tc.name, entries)
		}
	}
}

// serve, ingest and report --db refuse a database with corrupted pages
// (PRAGMA quick_check at open) with an error that names the file and says
// to move it aside; none panics. serve wrote on before, each write failing.
func TestSinkCommandsRefuseCorruptDB(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "c.db")
	log := filepath.Join(dir, "node.log")
	appendLines(t, log, 0, 30000)
	if code, _, errs := runCLI(t, "", "ingest", "--db", db, "--progress", "none", "--no-geoip", "N:"+log); code != 0 {
		t.Fatalf("ingest: %s", errs)
	}
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(data) / 2; i < len(data)/2+16384 && i < len(data); i++ {
		data[i] = 0xa5
	}
	if err := os.WriteFile(db, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"ingest", "--db", db, "--progress", "none", "N2:" + fixture},
		{"report", "--db", db},
		{"serve", "--node", "N3:" + log, "--db", db, "--web.listen-address", "127.0.0.1:0", "--no-nodeapi.discover"},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		listening := make(chan net.Addr, 1)
		done := make(chan int, 1)
		var stderr testutil.SyncBuffer
		go func() { done <- runWith(args, strings.NewReader(""), io.Discard, &stderr, listening, ctx) }()
		var code int
		select {
		case code = <-done:
		case <-listening:
			cancel()
			code = <-done
			t.Errorf("serve ran on the corrupt database")
		}
		cancel()
		errs := stderr.String()
		if code == 0 || strings.Contains(errs, "panic") || !strings.Contains(errs, "sink: open "+db+": the database is corrupt (") ||
			!strings.Contains(errs, "move it aside (mv "+db+" "+db+".corrupt") {
			t.Errorf("%s: exit %d: %s", args[0], code, errs)
		}
	}
}
