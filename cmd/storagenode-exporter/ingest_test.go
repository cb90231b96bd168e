package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alecthomas/kong"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

// The ingest tests run the command through a command line of its own, so
// that they do not depend on its place in CLI; child processes (killed,
// limited, or run as another user) are this test binary again.
type ingestCLI struct {
	Log    LogFlags  `embed:"" prefix:"log."`
	Ingest IngestCmd `cmd:""`
}

func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cli ingestCLI
	p, err := kong.New(&cli, kong.Name("storagenode-exporter"), kong.Writers(stdout, stderr), kong.Exit(func(int) {}), cliVars())
	if err != nil {
		fmt.Fprintln(stderr, "storagenode-exporter:", err)
		return 2
	}
	kctx, err := p.Parse(args)
	if err != nil {
		fmt.Fprintln(stderr, "storagenode-exporter:", err)
		return 2
	}
	env := &Env{Stdout: stdout, Stderr: stderr, Logger: cli.Log.New(stderr)}
	kctx.BindTo(ctx, (*context.Context)(nil))
	kctx.Bind(env)
	if err := kctx.Run(); err != nil {
		fmt.Fprintln(stderr, "storagenode-exporter:", err)
		return 1
	}
	return 0
}

const (
	childArgsEnv  = "SNE_TEST_INGEST_ARGS"  // JSON array: run ingest with these arguments and exit
	childFsizeEnv = "SNE_TEST_INGEST_FSIZE" // a file size limit in bytes for the child
)

func TestMain(m *testing.M) {
	if args := os.Getenv(childArgsEnv); args != "" {
		os.Exit(childMain(args))
	}
	os.Exit(m.Run())
}

func childMain(encoded string) int {
	var args []string
	if err := json.Unmarshal([]byte(encoded), &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if s := os.Getenv(childFsizeEnv); s != "" {
		var limit uint64
		fmt.Sscan(s, &limit)
		if err := limitFileSize(limit); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runIngest(ctx, args, os.Stdout, os.Stderr)
}

// child returns the command running ingest with args in another process.
func child(t *testing.T, args []string, env ...string) *exec.Cmd {
	t.Helper()
	enc, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childArgsEnv+"="+string(enc)), env...)
	return cmd
}

func ingestCLIRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runIngest(context.Background(), append([]string{"ingest", "--progress", "lines"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// genTestLog writes n lines of a deterministic DEBUG-level log with
// millisecond times: outcomes with their started lines, race-lost cancels
// whose DEBUG follow-up comes a few lines later (rule 5), rejections,
// reputation lines and some garbage.
func genTestLog(t *testing.T, path string, n int, seed uint64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 1))
	w := bufio.NewWriter(f)
	ts := time.Date(2026, 9, 5, 14, 0, 0, 0, time.UTC)
	sats := []string{"12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S", "12L9ZFwhzVpuEKMUNUqkaTLGzwY9G24tbiigLiXpmZWKwmcNDDs", "121RTSDpyNZVcEU84Ticf2L1ntiuUimbWgfATz21tuvgk3vzoA6"}
	type follow struct {
		at          int
		msg, fields string
	}
	var later []follow
	line := func(level, logger, msg, fields string) {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", ts.Format("2006-01-02T15:04:05.000Z"), level, logger, msg, fields)
	}
	for i := 0; i < n; i++ {
		ts = ts.Add(time.Duration(r.IntN(30)) * time.Millisecond)
		if len(later) > 0 && later[0].at <= i {
			line("DEBUG", "piecestore", later[0].msg, later[0].fields)
			later = later[1:]
			continue
		}
		var id [32]byte
		for j := range id {
			id[j] = byte(r.Uint32())
		}
		act := []string{"GET", "GET", "PUT", "GET_AUDIT", "GET_REPAIR", "PUT_REPAIR"}[r.IntN(6)]
		up := strings.HasPrefix(act, "PUT")
		dir := map[bool][2]string{false: {"download", "downloaded"}, true: {"upload", "uploaded"}}[up]
		fields := fmt.Sprintf(`{"process": "storagenode", "piece_id": %q, "satellite_id": %q, "action": %q, "remote_address": "%d.%d.%d.%d:%d", "size": %d`,
			base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(id[:]), sats[r.IntN(len(sats))], act,
			1+r.IntN(223), r.IntN(256), r.IntN(256), r.IntN(256), 1024+r.IntN(60000), 256<<r.IntN(13))
		switch k := r.IntN(100); {
		case k < 20:
			line("DEBUG", "piecestore", dir[0]+" started", fields+"}")
		case k < 75:
			line("INFO", "piecestore", dir[1], fields+"}")
		case k < 82:
			line("INFO", "piecestore", dir[0]+" canceled (race lost or node shutdown)", fields+"}")
			msg := map[bool]string{false: "download canceled", true: "upload failed"}[up]
			later = append(later, follow{i + 1 + r.IntN(20), msg, fields + `, "error": "context canceled"}`})
		case k < 88:
			line("ERROR", "piecestore", dir[0]+" failed", fields+`, "error": "write: broken pipe"}`)
		case k < 92:
			line("INFO", "piecestore", dir[0]+" canceled", fields+`, "reason": "context canceled"}`)
		case k < 95:
			line("INFO", "piecestore", "upload rejected, too many requests", `{"process": "storagenode", "live_requests": 11, "request_limit": 10}`)
		case k < 96:
			line("INFO", "reputation:service", "node scores updated", fmt.Sprintf(`{"process": "storagenode", "satellite_id": %q, "total_audits": %d, "successful_audits": %d, "audit_score": 1, "online_score": 0.99, "suspension_score": 1}`, sats[0], i, i))
		default:
			fmt.Fprintln(w, "garbage")
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// scaled is n, or n/4 under the race detector.
func scaled(n int) int {
	if raceEnabled { // race_on_test.go
		return n / 4
	}
	return n
}

// dbChecksum digests every row the sink keeps but the positions, and
// counts the events.
func dbChecksum(t *testing.T, path string) (string, int64) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := sha256.New()
	var events int64
	for _, table := range []string{"event_rows", "nodes", "satellites", "upload_rejections", "reputation_history", "hashstore_compaction_history"} {
		rows, err := db.Query("SELECT * FROM " + table + " ORDER BY 1, 2")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			rows.Scan(ptrs...)
			if table == "event_rows" {
				events++
			}
			fmt.Fprintf(h, "%s %v\n", table, vals)
		}
		rows.Close()
	}
	return hex.EncodeToString(h.Sum(nil)), events
}

func countRows(path string) int64 {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(100)")
	if err != nil {
		return -1
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM event_rows").Scan(&n); err != nil {
		return -1
	}
	return n
}

// The events of the fixture are what report counts; a second run adds
// nothing.
func TestIngestFixture(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "s.db")
	code, out, errs := ingestCLIRun(t, "--db", db, "My-Node:"+fixture)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "24 events from 38 lines of 1 files") || !strings.Contains(out, "new") {
		t.Errorf("summary:\n%s", out)
	}
	_, rep, _ := runCLI(t, "", "report", "--format", "json", fixture)
	var want struct{ Transfers map[string]map[string]int64 }
	json.Unmarshal([]byte(rep), &want)
	conn, _ := sql.Open("sqlite", db)
	defer conn.Close()
	for act, counts := range want.Transfers {
		for _, res := range []string{"success", "canceled", "failed"} {
			var n int64
			conn.QueryRow("SELECT count(*) FROM events WHERE node_name = 'My-Node' AND action = ? AND status = ?", act, res).Scan(&n)
			if n != counts[res] {
				t.Errorf("%s %s: %d events, report counts %d", act, res, n, counts[res])
			}
		}
	}
	sum, _ := dbChecksum(t, db)
	code, out, _ = ingestCLIRun(t, "--db", db, "--ingest-log", "My-Node:"+fixture)
	if code != 0 || !strings.Contains(out, "already ingested") || !strings.Contains(out, "\n0 events from 0 lines") {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
	if again, _ := dbChecksum(t, db); again != sum {
		t.Error("a second run changed the rows")
	}
}

func writeGz(t *testing.T, path string, data []byte) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	os.WriteFile(path, b.Bytes(), 0o644)
}

// A rotated set given in any order, a second node, and the predecessor's
// flag: the summary lists the files oldest first, and the rows are those
// of the whole log.
func TestIngestRotatedSetAndNodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.log")
	genTestLog(t, whole, 6000, 3)
	data, _ := os.ReadFile(whole)
	cut1 := bytes.IndexByte(data[len(data)/3:], '\n') + len(data)/3 + 1
	cut2 := bytes.IndexByte(data[2*len(data)/3:], '\n') + 2*len(data)/3 + 1
	writeGz(t, filepath.Join(dir, "node.log.2.gz"), data[:cut1])
	os.WriteFile(filepath.Join(dir, "node.log.1"), data[cut1:cut2], 0o644)
	os.WriteFile(filepath.Join(dir, "node.log"), data[cut2:], 0o644)

	ref := filepath.Join(dir, "ref.db")
	if code, _, errs := ingestCLIRun(t, "--db", ref, "N:"+whole); code != 0 {
		t.Fatal(errs)
	}
	want, n := dbChecksum(t, ref)

	db := filepath.Join(dir, "set.db")
	code, out, errs := ingestCLIRun(t, "--db", db, "--no-geoip", "--geoip.database", "/nonexistent",
		"--ingest-log", "N:"+filepath.Join(dir, "node.log.1"), "N:"+filepath.Join(dir, "node.log"), "N:"+filepath.Join(dir, "node.log.2.gz"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	i2, i1, i0 := strings.Index(out, "node.log.2.gz"), strings.Index(out, "node.log.1"), strings.Index(out, "node.log ")
	if !(i2 >= 0 && i2 < i1 && i1 < i0) || !strings.Contains(out, "gzip") {
		t.Errorf("files not oldest first:\n%s", out)
	}
	// --no-geoip stores no country; else the rows are the same.
	conn, _ := sql.Open("sqlite", db)
	conn.Exec("UPDATE event_rows SET country = NULL")
	conn.Close()
	refConn, _ := sql.Open("sqlite", ref)
	refConn.Exec("UPDATE event_rows SET country = NULL")
	refConn.Close()
	want, _ = dbChecksum(t, ref)
	if got, m := dbChecksum(t, db); got != want || m != n {
		t.Errorf("rotated set: %d events, want %d, or other rows", m, n)
	}

	// A second node in the same database.
	code, out, _ = ingestCLIRun(t, "--db", db, "--no-geoip", "Other:"+fixture, "N:"+whole)
	if code != 0 || !strings.Contains(out, "Other") || !strings.Contains(out, "already ingested") {
		t.Errorf("second node: exit %d\n%s", code, out)
	}
}

func TestIngestBadArguments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "no log files"},
		{[]string{"no-colon"}, `"no-colon": want NAME:FILE`},
		{[]string{":file"}, "want NAME:FILE"},
		{[]string{"N:-"}, "standard input"},
		{[]string{"--db", "", "N:" + fixture}, "no database file"},
	} {
		args := c.args
		if len(args) == 0 || args[0] != "--db" {
			args = append([]string{"--db", db}, args...)
		}
		code, _, errs := ingestCLIRun(t, args...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, stderr %q", c.args, code, errs)
		}
	}
}

// A file that cannot be read is named and the others are ingested; a bad
// database stops the run; both exit 1, and nothing panics.
func TestIngestBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	missing := filepath.Join(dir, "missing.log")
	truncated := filepath.Join(dir, "node.log.1.gz")
	writeGz(t, truncated, bytes.Repeat([]byte("2026-09-05T14:00:01Z\tINFO\tpiecestore\tdownloaded\t{}\n"), 5000))
	b, _ := os.ReadFile(truncated)
	os.WriteFile(truncated, b[:len(b)/2], 0o644)
	code, out, errs := ingestCLIRun(t, "--db", db, "N:"+missing, "M:"+fixture, "T:"+truncated, "D:"+dir)
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	for _, want := range []string{missing + ": open: no such file or directory", truncated + ": unexpected end of compressed data",
		dir + ": is a directory", "3 of 4 files could not be read"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if !strings.Contains(out, fixture) || !strings.Contains(out, "24 events from 38 lines of 1 files") {
		t.Errorf("the readable file was not ingested:\n%s", out)
	}

	notDB := filepath.Join(dir, "notes.txt")
	os.WriteFile(notDB, bytes.Repeat([]byte("not a database\n"), 100), 0o644)
	code, _, errs = ingestCLIRun(t, "--db", notDB, "N:"+fixture)
	if code != 1 || !strings.Contains(errs, "sink: open "+notDB+": file is not a database") {
		t.Errorf("not a database: exit %d, %q", code, errs)
	}

	// Locked by another process for longer than the busy timeout.
	locked := filepath.Join(dir, "locked.db")
	if code, _, errs := ingestCLIRun(t, "--db", locked, "N:"+fixture); code != 0 {
		t.Fatal(errs)
	}
	other, _ := sql.Open("sqlite", locked)
	defer other.Close()
	conn, _ := other.Conn(context.Background())
	defer conn.Close()
	conn.ExecContext(context.Background(), "BEGIN IMMEDIATE")
	code, _, errs = ingestCLIRun(t, "--db", locked, "--db.busy-timeout", "100ms", "N2:"+fixture)
	if code != 1 || !strings.Contains(errs, locked) || !strings.Contains(errs, "locked") {
		t.Errorf("locked: exit %d, %q", code, errs)
	}
	conn.ExecContext(context.Background(), "ROLLBACK")
}

// A database in a read-only directory: a clear error naming it. Root
// ignores permissions, so as root the command runs as nobody.
func TestIngestReadOnlyDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // so that nobody can reach it
	os.Chmod(dir, 0o755)
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	log := filepath.Join(dir, "node.log")
	data, _ := os.ReadFile(fixture)
	os.WriteFile(log, data, 0o644)
	db := filepath.Join(ro, "s.db")
	args := []string{"ingest", "--progress", "none", "--db", db, "N:" + log}
	if os.Geteuid() != 0 {
		code, _, errs := ingestCLIRun(t, args[3:]...)
		if code != 1 || !strings.Contains(errs, db) {
			t.Errorf("exit %d, %q", code, errs)
		}
		return
	}
	bin := filepath.Join(dir, "ingest.test") // a copy nobody may run
	exe, _ := os.ReadFile(os.Args[0])
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := child(t, args)
	cmd.Path, cmd.Args[0], cmd.Dir = bin, bin, dir
	runAsNobody(cmd)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Skipf("cannot run as nobody here: %v %s", err, errb.String())
	}
	t.Log(errb.String())
	if !strings.Contains(errb.String(), "sink: open "+db+": ") || strings.Contains(errb.String(), "panic") {
		t.Errorf("stderr: %s", errb.String())
	}
}

// A full disk (a file size limit on the child): the run fails naming the
// database and writes no half batch; the next run completes it exactly.
func TestIngestDiskFull(t *testing.T) {
	t.Parallel()
	if !canLimitFileSize {
		t.Skip("no file size limit (RLIMIT_FSIZE) on " + runtime.GOOS)
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	genTestLog(t, log, scaled(40_000), 5)
	ref := filepath.Join(dir, "ref.db")
	if code, _, errs := ingestCLIRun(t, "--db", ref, "N:"+log); code != 0 {
		t.Fatal(errs)
	}
	want, n := dbChecksum(t, ref)

	db := filepath.Join(dir, "full.db")
	cmd := child(t, []string{"ingest", "--progress", "none", "--batch-size", "3000", "--db", db, "N:" + log}, childFsizeEnv+fmt.Sprintf("=%d", scaled(1_500_000)))
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("limited run: %v\n%s", err, errb.String())
	}
	// ENOSPC is "database or disk is full"; the EFBIG of the size limit
	// is a write error.
	if e := errb.String(); !strings.Contains(e, "sink: write "+db+": database or disk is full") &&
		!strings.Contains(e, "sink: write "+db+": disk I/O error") {
		t.Errorf("stderr: %s", errb.String())
	}
	if m := countRows(db); m <= 0 || m%3000 != 0 && m != n {
		t.Errorf("%d events after the failure: not whole batches", m)
	}
	if code, _, errs := ingestCLIRun(t, "--db", db, "N:"+log); code != 0 {
		t.Fatal(errs)
	}
	if got, m := dbChecksum(t, db); got != want || m != n {
		t.Errorf("after the rerun: %d events, want %d, or other rows", m, n)
	}
}

// Killed with SIGKILL at random points and run again, ingest ends with
// exactly the rows of an uninterrupted run. The kills come when the event
// count crosses random thresholds (and once as soon as the database file
// appears, which may be during its creation), so that they fall anywhere
// in a batch, a commit or a checkpoint.
func TestIngestSIGKILL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	genTestLog(t, log, scaled(200_000), 42)
	ref := filepath.Join(dir, "ref.db")
	if code, _, errs := ingestCLIRun(t, "--db", ref, "N:"+log); code != 0 {
		t.Fatal(errs)
	}
	want, n := dbChecksum(t, ref)
	if n < int64(scaled(100_000)) {
		t.Fatalf("only %d events", n)
	}

	// Kill points: as soon as the file exists, then at rising random
	// event counts.
	rng := rand.New(rand.NewPCG(7, 7))
	thresholds := []int64{0}
	for i := 1; i <= 6; i++ {
		thresholds = append(thresholds, int64(i)*n/7+rng.Int64N(n/7))
	}
	db := filepath.Join(dir, "killed.db")
	args := []string{"ingest", "--progress", "none", "--batch-size", "3000", "--db", db, "N:" + log}
	kills := 0
	for round, threshold := range thresholds {
		cmd := child(t, args)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		deadline := time.After(testutil.Timeout)
		tick := time.NewTicker(time.Millisecond) // polling the child's progress, not timing it
	wait:
		for {
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("round %d: %v\n%s", round, err, errb.String())
				}
				break wait // finished before the threshold
			case <-deadline:
				t.Fatalf("round %d: the child neither finished nor reached %d events", round, threshold)
			case <-tick.C:
			}
			_, statErr := os.Stat(db)
			if round == 0 && statErr == nil || round > 0 && countRows(db) >= threshold {
				cmd.Process.Kill() // SIGKILL
				<-exited
				kills++
				t.Logf("round %d: killed at %d events (threshold %d)", round, countRows(db), threshold)
				break
			}
		}
		tick.Stop()
	}
	if kills < 5 {
		t.Errorf("only %d kills", kills)
	}
	if code, _, errs := ingestCLIRun(t, "--db", db, "N:"+log); code != 0 {
		t.Fatalf("final run: %s", errs)
	}
	if got, m := dbChecksum(t, db); got != want || m != n {
		t.Errorf("after %d kills: %d events, want %d, or other rows", kills, m, n)
	}
	// And the database is sound.
	conn, _ := sql.Open("sqlite", db)
	defer conn.Close()
	var check string
	conn.QueryRow("PRAGMA integrity_check").Scan(&check)
	if check != "ok" {
		t.Errorf("integrity_check: %s", check)
	}
}
