package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/crypto/bcrypt"

	"github.com/storagenode-exporter/storagenode-exporter/forward"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi/nodeapitest"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const testGeoDB = "../../testdata/geoip/GeoLite2-Country-Test.mmdb"

type served struct {
	url    string
	stderr *testutil.SyncBuffer
	stop   func() int
}

// startServe runs serve in-process on 127.0.0.1:0 and waits until it listens.
func startServe(t *testing.T, stdin io.Reader, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan net.Addr, 1)
	stderr := &testutil.SyncBuffer{}
	done := make(chan int, 1)
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	args = append([]string{"--web.listen-address", "127.0.0.1:0", "--geoip.database", testGeoDB, "--no-nodeapi.discover", "--db="}, args...)
	go func() { done <- runWith(args, stdin, io.Discard, stderr, listening, ctx) }()
	var addr net.Addr
	select {
	case addr = <-listening:
	case code := <-done:
		cancel()
		t.Fatalf("serve exited with %d before listening: %s", code, stderr.String())
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatalf("serve did not listen: %s", stderr.String())
	}
	var once sync.Once
	code := 0
	stop := func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(20 * time.Second):
				t.Errorf("serve did not stop")
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return &served{url: "http://" + addr.String(), stderr: stderr, stop: stop}
}

func (s *served) scrape(t *testing.T) map[string]*model.Sample {
	t.Helper()
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("scrape: %s: %s", resp.Status, body)
	}
	dec := &expfmt.SampleDecoder{
		Dec:  expfmt.NewDecoder(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeTextPlain)),
		Opts: &expfmt.DecodeOptions{Timestamp: model.Now()},
	}
	var vec model.Vector
	out := map[string]*model.Sample{}
	for {
		if err := dec.Decode(&vec); err != nil {
			break
		}
		for _, s := range vec {
			out[s.Metric.String()] = s
		}
	}
	return out
}

// value is the value of one series, e.g. `storj_log_lines_total{node="A"}`.
func (s *served) value(t *testing.T, series string) float64 {
	t.Helper()
	if v, ok := s.scrape(t)[series]; ok {
		return float64(v.Value)
	}
	return -1
}

// waitFor polls a series until it has the wanted value, with a deadline.
func (s *served) waitFor(t *testing.T, series string, want float64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var got float64
	for time.Now().Before(deadline) {
		if got = s.value(t, series); got == want {
			return
		}
		time.Sleep(20 * time.Millisecond) // polling a live server for a condition, not waiting for time to pass
	}
	t.Fatalf("%s = %v, want %v\nlog:\n%s", series, got, want, s.stderr.String())
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// volatile are the series that change from run to run.
var volatile = regexp.MustCompile(`^(go_|process_|storj_exporter_build_info|promhttp_|storj_nodeapi_request_duration_seconds|storj_nodeapi_last_success_timestamp_seconds)`)

// fakeNode serves the API fixtures (testdata/nodeapi) of one node version, as the
// node's API on :14002 would.
func fakeNode(t *testing.T, version string) *httptest.Server {
	t.Helper()
	return nodeapitest.NewServer(t, "../../testdata/nodeapi", version).Server
}

// The golden end-to-end test: serve on the fixture log, scrape, compare with
// testdata/e2e.prom; promtool checks the file.
func TestServeGolden(t *testing.T) {
	t.Parallel()
	log := filepath.Join(t.TempDir(), "node.log")
	copyFile(t, "../../report/testdata/fixture.log", log)
	// The v1.162 node with the earnings of testdata/nodeapi/earnings (the
	// poll that makes it up has fetched them all).
	api := nodeapitest.NewServer(t, "../../testdata/nodeapi", "v1.162").BorrowEarnings()
	s := startServe(t, nil, "--node", "Node-1:"+log+":"+api.URL, "--from-beginning")
	s.waitFor(t, `storj_log_lines_total{node="Node-1"}`, 38)
	s.waitFor(t, `storj_nodeapi_up{node="Node-1"}`, 1)
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var kept []string
	skip := false
	for _, line := range strings.Split(string(body), "\n") {
		name := line
		if strings.HasPrefix(line, "# ") {
			f := strings.Fields(line)
			if len(f) >= 3 {
				name = f[2]
			}
		}
		if strings.HasPrefix(line, "# HELP ") {
			skip = volatile.MatchString(name)
		}
		if line == "" || skip || volatile.MatchString(name) {
			continue
		}
		kept = append(kept, line)
	}
	got := strings.Join(kept, "\n") + "\n"
	path := "testdata/e2e.prom"
	if *update {
		os.WriteFile(path, []byte(got), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("e2e.prom (-want +got):\n%s", d)
	}
	cmd := exec.Command(testutil.Tool(t, "promtool"), "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// appendLines appends n transfer lines numbered from first.
func appendLines(t *testing.T, path string, first, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	writeLines(t, f, first, n)
}

func writeLines(t *testing.T, w io.Writer, first, n int) {
	t.Helper()
	var b bytes.Buffer
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, "2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{\"process\": \"storagenode\", \"piece_id\": \"P%051d\", \"satellite_id\": \"12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S\", \"action\": \"PUT\", \"remote_address\": \"81.2.69.142:28967\", \"size\": 1000}\n", i)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
}

const uploads = `storj_transfers_total{action="PUT", node="N", result="success", satellite="us1"}`

// Counters are exact across a rename rotation with unread lines and the
// writer going on in the old file, and across a copytruncate.
func TestServeRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	appendLines(t, log, 0, 100) // before the start: not read (serve starts at the end)
	s := startServe(t, nil, "--node", "N:"+log)
	s.waitFor(t, `storj_log_source_up{node="N"}`, 1)
	appendLines(t, log, 100, 1000)
	s.waitFor(t, uploads, 1000)

	// rename rotation: the old file still gets lines after the rename, and
	// the new file gets lines at once
	old, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	writeLines(t, old, 1100, 500) // unread lines in the old file
	old.Close()
	appendLines(t, log, 1600, 700) // the writer goes on in the new file at once
	s.waitFor(t, uploads, 2200)

	// copytruncate: copy aside, truncate, write on
	copyFile(t, log, log+".2")
	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	appendLines(t, log, 2300, 400)
	s.waitFor(t, uploads, 2600)
	s.waitFor(t, `storj_log_lines_total{node="N"}`, 2600)
	if got := s.value(t, `storj_transfers_by_country_total{action="PUT", country="GB", node="N"}`); got != 2600 {
		t.Errorf("by country: %v", got)
	}
	if r, tr := s.value(t, `storj_log_rotations_total{node="N"}`), s.value(t, `storj_log_truncations_total{node="N"}`); r != 1 || tr != 1 {
		t.Errorf("rotations %v truncations %v, want 1 and 1", r, tr)
	}
	if code := s.stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// A node on a TCP stream from `forward`, and a node on stdin.
func TestServeTCPAndStdin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "remote.log")
	appendLines(t, log, 0, 0)
	fwd := forward.New(forward.Config{Listen: "127.0.0.1:0", Path: log})
	ctx, cancel := context.WithCancel(context.Background())
	fwdDone := make(chan error, 1)
	go func() { fwdDone <- fwd.Run(ctx) }()
	defer func() { cancel(); <-fwdDone }()
	<-fwd.Ready()

	var stdin bytes.Buffer
	writeLines(t, &stdin, 0, 250)
	s := startServe(t, &stdin, "--node", "Remote:"+fwd.Addr().String(), "--node", "Piped:-")
	s.waitFor(t, `storj_transfers_total{action="PUT", node="Piped", result="success", satellite="us1"}`, 250)
	s.waitFor(t, `storj_log_source_up{node="Remote"}`, 1)
	deadline := time.Now().Add(20 * time.Second)
	for fwd.Stats().Clients == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling for the client to register
	}
	appendLines(t, log, 0, 3000)
	s.waitFor(t, `storj_transfers_total{action="PUT", node="Remote", result="success", satellite="us1"}`, 3000)
}

// TLS and basic auth come from --web.config.file (exporter-toolkit).
func TestServeBasicAuth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	appendLines(t, log, 0, 1)
	web := filepath.Join(dir, "web.yml")
	hash, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(web, []byte("basic_auth_users:\n  prometheus: "+string(hash)+"\n"), 0o644)
	s := startServe(t, nil, "--node", "N:"+log, "--web.config.file", web)
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without credentials: %s", resp.Status)
	}
	req, _ := http.NewRequest("GET", s.url+"/metrics", nil)
	req.SetBasicAuth("prometheus", "secret")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("with credentials: %s", resp.Status)
	}
}

func TestLandingAndHealth(t *testing.T) {
	t.Parallel()
	log := filepath.Join(t.TempDir(), "node.log")
	appendLines(t, log, 0, 1)
	s := startServe(t, nil, "--node", "N:"+log)
	for path, want := range map[string]string{"/": "CC BY 4.0", "/healthz": "ok"} {
		resp, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("%s: %s %.200s", path, resp.Status, body)
		}
	}
}

func TestConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	appendLines(t, log, 0, 5)
	cfg := filepath.Join(dir, "config.yml")
	os.WriteFile(cfg, []byte("nodes:\n  - name: FromFile\n    log: "+log+"\nfrom-beginning: true\nweb:\n  listen-address: 127.0.0.1:1\n"), 0o644)
	// the file's listen address is overridden by startServe's flag
	s := startServe(t, nil, "--config", cfg)
	s.waitFor(t, `storj_log_lines_total{node="FromFile"}`, 5)

	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("nodes:\n  - name: A\n    log: /x\n    colour: blue\nlisten: 1\n"), 0o644)
	var stderr bytes.Buffer
	if code := run([]string{"--config", bad}, strings.NewReader(""), io.Discard, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "colour") || !strings.Contains(stderr.String(), "listen") {
		t.Errorf("unknown keys: exit %d, %s", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"serve"}, strings.NewReader(""), io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "no node") {
		t.Errorf("no node: exit %d, %s", code, stderr.String())
	}
}

// A local file node with no API tries the default address and says once
// that enhanced metrics are off; TCP and stdin nodes are not probed; a
// named API is polled.
func TestServeNodeAPIDiscovery(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	appendLines(t, log, 0, 1)
	api := fakeNode(t, "v1.142")
	s := startServe(t, strings.NewReader(""), "--nodeapi.discover", "--nodeapi.discover-url", "http://127.0.0.1:1",
		"--nodeapi.poll-interval", "50ms", "--node", "Local:"+log, "--node", "Piped:-", "--node", "Named:"+log+":"+api.URL)
	s.waitFor(t, `storj_nodeapi_up{node="Named"}`, 1)
	s.waitFor(t, `storj_nodeapi_up{node="Local"}`, 0)
	if got := s.value(t, `storj_nodeapi_up{node="Piped"}`); got != -1 {
		t.Errorf("stdin node was probed: up = %v", got)
	}
	if got := s.value(t, `storj_node_disk_allocated_bytes{node="Named"}`); got != 10000000000000 {
		t.Errorf("allocated %v", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.stderr.String(), "enhanced metrics (reputation, disk, payout) disabled") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling the log for the warning
	}
	if n := strings.Count(s.stderr.String(), "enhanced metrics"); n != 1 {
		t.Errorf("warning logged %d times:\n%s", n, s.stderr.String())
	}
}

// Scores from the log fill the score gauges while the API does not answer,
// and the API owns them when it does: one owner per series.
func TestServeScoresOwner(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	os.WriteFile(log, []byte("2026-09-05T14:20:31Z\tINFO\treputation:service\tnode scores updated\t{\"process\": \"storagenode\", \"satellite_id\": \"12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S\", \"total_audits\": 10, \"successful_audits\": 10, \"audit_score\": 0.5, \"online_score\": 0.25, \"suspension_score\": 0.75}\n"), 0o644)
	var up sync.Mutex
	healthy := false
	real := fakeNode(t, "v1.162")
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up.Lock()
		ok := healthy
		up.Unlock()
		if !ok {
			http.Error(w, "<html>502 Bad Gateway</html>", http.StatusBadGateway)
			return
		}
		resp, err := http.Get(real.URL + r.URL.Path)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer api.Close()
	s := startServe(t, nil, "--from-beginning", "--nodeapi.poll-interval", "30ms", "--node", "N:"+log+":"+api.URL, "--node", "LogOnly:"+log)
	audit := `storj_satellite_audit_score{node="N", satellite="us1"}`
	s.waitFor(t, `storj_nodeapi_up{node="N"}`, 0)
	s.waitFor(t, audit, 0.5) // from the log
	s.waitFor(t, `storj_satellite_online_score{node="LogOnly", satellite="us1"}`, 0.25)
	up.Lock()
	healthy = true
	up.Unlock()
	s.waitFor(t, `storj_nodeapi_up{node="N"}`, 1)
	if got := s.value(t, audit); got == 0.5 || got <= 0 {
		t.Errorf("API up, but the audit score is %v (the log's is 0.5)", got)
	}
	up.Lock()
	healthy = false
	up.Unlock()
	s.waitFor(t, `storj_nodeapi_up{node="N"}`, 0) // flips back to 0
	s.waitFor(t, audit, 0.5)
	if got := s.value(t, `storj_node_disk_used_bytes{node="N"}`); got != -1 {
		t.Errorf("disk gauge left stale after the API went down: %v", got)
	}
}

// A scrape never waits for the node API: with the API hanging (its
// timeout is 30 s), the best of ten scrapes is under 100 ms; under the race
// detector, which slows everything several times over on a shared machine,
// under a second.
func TestServeScrapeWhileAPIHangs(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer api.Close()
	defer close(release)
	log := filepath.Join(t.TempDir(), "node.log")
	appendLines(t, log, 0, 1)
	s := startServe(t, nil, "--nodeapi.timeout", "30s", "--node", "N:"+log+":"+api.URL)
	best := time.Hour
	for range 10 {
		start := time.Now()
		if got := s.value(t, `storj_nodeapi_up{node="N"}`); got != 0 {
			t.Errorf("up = %v while the API hangs", got)
		}
		best = min(best, time.Since(start))
	}
	limit := 100 * time.Millisecond
	if raceEnabled {
		limit = time.Second
	}
	if best > limit {
		t.Errorf("best scrape took %v while the API hangs (limit %v)", best, limit)
	}
}

// serve --db writes every counted outcome to the sink; report --db reads
// them back with the counts of the log.
func TestServeSink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	copyFile(t, "../../report/testdata/fixture.log", log)
	db := filepath.Join(dir, "sink.db")
	api := fakeNode(t, "v1.162")
	seed := filepath.Join(dir, "seed.log")
	copyFile(t, "../../testdata/logs/seed-sample.log", seed)
	s := startServe(t, nil, "--node", "N:"+log+":"+api.URL, "--node", "S:"+seed, "--from-beginning", "--db", db, "--db.retention", "0")
	s.waitFor(t, `storj_log_lines_total{node="N"}`, 38)
	s.waitFor(t, `storj_log_lines_total{node="S"}`, 181) // its last line has no newline yet
	s.waitFor(t, `storj_nodeapi_up{node="N"}`, 1)
	s.waitFor(t, `storj_sink_file_lag_bytes{node="N"}`, 0)
	seedLast := func() int64 {
		data, _ := os.ReadFile(seed)
		return int64(len(data) - bytes.LastIndexByte(data, '\n') - 1)
	}()
	s.waitFor(t, `storj_sink_file_lag_bytes{node="S"}`, float64(seedLast)) // all but the unfinished last line
	if code := s.stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, s.stderr.String())
	}
	// history rows: the fixture's two rejections, the API's storage and
	// reputation (four satellites, one suspended)
	sdb, err := sink.Open(t.Context(), db, sink.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int64{
		"SELECT coalesce(sum(count), 0) FROM upload_rejections":                             2,
		"SELECT count(*) FROM storage_snapshots WHERE used_bytes > 0":                       1,
		"SELECT count(DISTINCT satellite) FROM reputation_history WHERE source = 'api'":     4,
		"SELECT count(*) > 0 FROM reputation_history WHERE source = 'api' AND is_suspended": 1,
		"SELECT count(*) FROM reputation_history WHERE source = 'log' AND node_name = 'S'":  6,
		"SELECT count(*) FROM hashstore_compaction_history":                                 3,
	} {
		var got int64
		if err := sdb.SQL().QueryRow(q).Scan(&got); err != nil || (got != want && !(strings.Contains(q, "storage_snapshots") && got >= 1)) {
			t.Errorf("%s = %d (%v), want %d", q, got, err, want)
		}
	}
	sdb.Close()
	_, fromLog, _ := runCLI(t, "", "report", "--format", "json", fixture)
	code, fromDB, errs := runCLI(t, "", "report", "--db", db, "--node", "N", "--format", "json")
	if code != 0 {
		t.Fatalf("report --db: %d %s", code, errs)
	}
	var a struct {
		Summary struct {
			Transfers map[string]map[string]int64 `json:"transfers"`
		} `json:"summary"`
	}
	var b struct {
		Transfers map[string]map[string]int64 `json:"transfers"`
	}
	json.Unmarshal([]byte(fromDB), &a)
	json.Unmarshal([]byte(fromLog), &b)
	if d := cmp.Diff(b.Transfers, a.Summary.Transfers); d != "" || len(b.Transfers) != 5 {
		t.Errorf("sink vs log (-log +sink):\n%s", d)
	}
}

// sinkUploads returns the PUT successes in a sink database.
func sinkUploads(t *testing.T, db string) int64 {
	t.Helper()
	code, out, errs := runCLI(t, "", "report", "--db", db, "--format", "json")
	if code != 0 {
		t.Fatalf("report --db: %d %s", code, errs)
	}
	var a struct {
		Summary struct {
			Transfers map[string]map[string]int64 `json:"transfers"`
		} `json:"summary"`
	}
	json.Unmarshal([]byte(out), &a)
	return a.Summary.Transfers["PUT"]["success"]
}

// A followed file's events reach the sink whole: a burst is caught up, not
// dropped; lines written while serve is down are caught up at the next
// start (from the committed position); lines before the first start are
// not ingested (serve starts at the end, like the metrics).
func TestServeSinkCatchUp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	db := filepath.Join(dir, "sink.db")
	appendLines(t, log, 0, 100)                                                    // history: not taken
	s := startServe(t, nil, "--node", "N:"+log, "--db", db, "--db.retention", "0") // the lines are from 2026-09
	s.waitFor(t, `storj_log_source_up{node="N"}`, 1)
	testutil.WaitFor(t, "the sink's start position", func() bool { return s.value(t, `storj_sink_file_lag_bytes{node="N"}`) == 0 })
	appendLines(t, log, 100, 20000) // a burst
	s.waitFor(t, uploads, 20000)
	testutil.WaitFor(t, "20000 uploads in the sink", func() bool { return sinkUploads(t, db) == 20000 })
	if code := s.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	appendLines(t, log, 20100, 5000)                                              // while serve is down
	s = startServe(t, nil, "--node", "N:"+log, "--db", db, "--db.retention", "0") // the lines are from 2026-09
	testutil.WaitFor(t, "the lines written while down in the sink", func() bool { return sinkUploads(t, db) == 25000 })
	appendLines(t, log, 25100, 1000)
	s.waitFor(t, uploads, 1000) // the metrics start at the end
	testutil.WaitFor(t, "26000 uploads in the sink", func() bool { return sinkUploads(t, db) == 26000 })
	s.stop()
	if got := sinkUploads(t, db); got != 26000 {
		t.Errorf("sink has %d uploads after stopping, want 26000", got)
	}
}
