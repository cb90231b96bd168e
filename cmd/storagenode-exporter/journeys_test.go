package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storagenode-exporter/storagenode-exporter/internal/loggen"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

// The journeys of serve and ingest on one database (issue "One pipeline"):
// whatever order they run in, each transfer of a log is stored once.

// serveChildEnv makes this test binary run the whole command line with the
// arguments it holds (a JSON array) and exit: a second process for the
// journeys. (ingest_test.go's TestMain runs ingest children; this one runs
// any command, before TestMain.)
const serveChildEnv = "SNE_TEST_RUN_ARGS"

func init() {
	if enc := os.Getenv(serveChildEnv); enc != "" {
		var args []string
		if err := json.Unmarshal([]byte(enc), &args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(run(args, strings.NewReader(""), os.Stdout, os.Stderr))
	}
}

// cliChild returns the command running the command line args in another
// process, killed if it still runs when the test ends.
func cliChild(t *testing.T, args ...string) *exec.Cmd {
	enc, _ := json.Marshal(args)
	ctx, cancel := context.WithTimeout(context.Background(), 2*testutil.Timeout)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveChildEnv+"="+string(enc))
	return cmd
}

// journeyLog returns lines lines of a realistic current-format log (the
// generator of bench and the demo), cut after its first head lines.
func journeyLog(t *testing.T, lines, head int) (first, rest []byte) {
	t.Helper()
	var b bytes.Buffer
	g := loggen.New(loggen.Current, 10, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if err := g.WriteLog(&b, int64(lines)); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	cut := 0
	for range head {
		cut += bytes.IndexByte(data[cut:], '\n') + 1
	}
	return data[:cut], data[cut:]
}

// transfersOf is what report counts in files, by action and result.
func transfersOf(t *testing.T, args ...string) map[string]map[string]int64 {
	t.Helper()
	code, out, errs := runCLI(t, "", append([]string{"report", "--format", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("report %q: exit %d: %s", args, code, errs)
	}
	var r struct {
		Transfers map[string]map[string]int64
		Summary   struct{ Transfers map[string]map[string]int64 }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	tr := r.Transfers
	if tr == nil {
		tr = r.Summary.Transfers
	}
	for _, c := range tr {
		delete(c, "success_bytes")
	}
	return tr
}

// dbTransfers is what the sink holds, by action and result.
func dbTransfers(t *testing.T, db string) map[string]map[string]int64 {
	t.Helper()
	return transfersOf(t, "--db", db)
}

func total(m map[string]map[string]int64) (n int64) {
	for _, c := range m {
		for _, v := range c {
			n += v
		}
	}
	return n
}

// sinkEvents counts the sink's events while another process may write.
func sinkEvents(db string) int64 {
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro&_pragma=busy_timeout(1000)")
	if err != nil {
		return -1
	}
	defer conn.Close()
	var n int64
	if err := conn.QueryRow("SELECT count(*) FROM event_rows").Scan(&n); err != nil {
		return -1
	}
	return n
}

func appendBytes(t *testing.T, path string, data []byte) {
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

// startSinkServe starts serve on one file node with the sink on, and waits
// until the sink holds the file's end.
func startSinkServe(t *testing.T, log, db string) *served {
	t.Helper()
	s := startServe(t, nil, "--node", "N:"+log, "--db", db, "--db.retention", "0")
	s.waitFor(t, `storj_log_source_up{node="N"}`, 1)
	s.waitFor(t, `storj_sink_file_lag_bytes{node="N"}`, 0)
	return s
}

// waitSinkHas waits until the sink holds want events and its file lag is 0.
func (s *served) waitSinkHas(t *testing.T, db string, want int64) {
	t.Helper()
	testutil.WaitFor(t, fmt.Sprintf("%d events in the sink", want), func() bool {
		return sinkEvents(db) == want && s.value(t, `storj_sink_file_lag_bytes{node="N"}`) == 0
	})
}

// Journey 1: serve follows a log from its end, stops; ingest of the whole
// log then stores exactly the history serve did not: the database holds
// every transfer of the file once.
func TestJourneyServeThenIngest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log, db := filepath.Join(dir, "node.log"), filepath.Join(dir, "x.db")
	head, rest := journeyLog(t, scaled(30_000), scaled(20_000))
	appendBytes(t, log, head)
	s := startSinkServe(t, log, db)
	appendBytes(t, log, rest)
	restOnly := filepath.Join(dir, "rest.log")
	appendBytes(t, restOnly, rest)
	s.waitFor(t, `storj_log_lines_total{node="N"}`, float64(scaled(10_000)))
	s.waitSinkHas(t, db, total(transfersOf(t, restOnly)))
	if code := s.stop(); code != 0 {
		t.Fatalf("serve: exit %d: %s", code, s.stderr.String())
	}
	code, out, errs := ingestCLIRun(t, "--db", db, "--db.busy-timeout", "1m", "N:"+log)
	if code != 0 {
		t.Fatalf("ingest: exit %d: %s\n%s", code, errs, out)
	}
	want, got := transfersOf(t, log), dbTransfers(t, db)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("the database holds %d transfers, report counts %d in the file (-report +db):\n%s\ningest:\n%s", total(got), total(want), d, out)
	}
	// Ingesting again adds nothing.
	if code, out, _ := ingestCLIRun(t, "--db", db, "--db.busy-timeout", "1m", "N:"+log); code != 0 || !strings.Contains(out, "already ingested") {
		t.Errorf("again: exit %d\n%s", code, out)
	}
	if got := dbTransfers(t, db); total(got) != total(want) {
		t.Errorf("after a second ingest: %d transfers, want %d", total(got), total(want))
	}
}

// Journey 2: ingest while serve follows the same log into the same
// database, with lines being appended meanwhile: each transfer is stored
// once; serve, at its next start, continues from what the sink holds.
func TestJourneyIngestDuringServe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log, db := filepath.Join(dir, "node.log"), filepath.Join(dir, "x.db")
	head, rest := journeyLog(t, scaled(30_000), scaled(20_000))
	appendBytes(t, log, head)
	s := startSinkServe(t, log, db)
	done := make(chan string, 1)
	go func() {
		code, out, errs := ingestCLIRun(t, "--db", db, "--db.busy-timeout", "1m", "N:"+log)
		done <- fmt.Sprintf("exit %d\n%s%s", code, out, errs)
	}()
	// append the rest in ten writes while ingest runs
	for i := 0; i < 10; i++ {
		part := rest
		if i < 9 {
			cut := 0
			for range scaled(1000) {
				cut += bytes.IndexByte(part[cut:], '\n') + 1
			}
			part, rest = rest[:cut], rest[cut:]
		}
		appendBytes(t, log, part)
	}
	res := <-done
	if !strings.HasPrefix(res, "exit 0") {
		t.Fatalf("ingest: %s", res)
	}
	s.waitFor(t, `storj_log_lines_total{node="N"}`, float64(scaled(10_000)))
	want := transfersOf(t, log)
	s.waitSinkHas(t, db, total(want))
	if code := s.stop(); code != 0 {
		t.Fatalf("serve: exit %d: %s", code, s.stderr.String())
	}
	if d := cmp.Diff(want, dbTransfers(t, db)); d != "" {
		t.Errorf("(-report +db):\n%s\ningest: %s", d, res)
	}
}

// Journey 3: a second serve on the same node and database is refused with
// an error naming the process that writes it; the first one goes on.
func TestJourneySecondServeRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log, db := filepath.Join(dir, "node.log"), filepath.Join(dir, "x.db")
	head, rest := journeyLog(t, scaled(12_000), scaled(10_000))
	appendBytes(t, log, head)
	s := startSinkServe(t, log, db)
	host, _ := os.Hostname()
	cmd := cliChild(t, "--node", "N:"+log, "--db", db, "--web.listen-address", "127.0.0.1:0", "--no-nodeapi.discover")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("second serve: %v, want exit status 1\n%s", err, out)
	}
	for _, want := range []string{db, `"N"`, fmt.Sprintf("pid %d", os.Getpid()), host} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("the error does not name %q:\n%s", want, out)
		}
	}
	// the first serve still writes
	appendBytes(t, log, rest)
	restOnly := filepath.Join(dir, "rest.log")
	appendBytes(t, restOnly, rest)
	s.waitSinkHas(t, db, total(transfersOf(t, restOnly)))
	s.stop()
	if d := cmp.Diff(transfersOf(t, restOnly), dbTransfers(t, db)); d != "" {
		t.Errorf("(-report +db):\n%s", d)
	}
}

// A serve killed with SIGKILL holds the node no longer: the next serve
// starts, continues from what the sink holds, and stores nothing twice.
func TestJourneyKilledServeReleases(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log, db := filepath.Join(dir, "node.log"), filepath.Join(dir, "x.db")
	head, rest := journeyLog(t, scaled(14_000), scaled(10_000))
	appendBytes(t, log, head)
	cmd := cliChild(t, "--node", "N:"+log, "--db", db, "--db.retention", "0", "--web.listen-address", "127.0.0.1:0", "--no-nodeapi.discover")
	stderr := &testutil.SyncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, "the child serve holding the node", func() bool { return strings.Contains(stderr.String(), "raw-event sink") && sinkPositions(db) > 0 })
	half := 0
	for range scaled(2000) {
		half += bytes.IndexByte(rest[half:], '\n') + 1
	}
	appendBytes(t, log, rest[:half])
	firstHalf := filepath.Join(dir, "half.log")
	appendBytes(t, firstHalf, rest[:half])
	wantHalf := total(transfersOf(t, firstHalf))
	testutil.WaitFor(t, "the child's events", func() bool { return sinkEvents(db) == wantHalf })
	cmd.Process.Kill()
	cmd.Wait()
	appendBytes(t, log, rest[half:])
	s := startServe(t, nil, "--node", "N:"+log, "--db", db, "--db.retention", "0")
	restOnly := filepath.Join(dir, "rest.log")
	appendBytes(t, restOnly, rest)
	want := transfersOf(t, restOnly)
	s.waitSinkHas(t, db, total(want))
	s.stop()
	if d := cmp.Diff(want, dbTransfers(t, db)); d != "" {
		t.Errorf("(-report +db):\n%s", d)
	}
}

// sinkPositions counts the positions the sink holds.
func sinkPositions(db string) int64 {
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro&_pragma=busy_timeout(1000)")
	if err != nil {
		return -1
	}
	defer conn.Close()
	var n int64
	if err := conn.QueryRow("SELECT count(*) FROM positions").Scan(&n); err != nil {
		return 0
	}
	return n
}
