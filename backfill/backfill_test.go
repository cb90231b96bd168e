package backfill_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/backfill"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/report"
)

// history writes n upload lines, one every 7 seconds from start, and
// returns them.
func history(start time.Time, n int) []byte {
	var b bytes.Buffer
	results := []string{"uploaded", "upload canceled", "uploaded", "uploaded"}
	for i := range n {
		ts := start.Add(time.Duration(i) * 7 * time.Second).Format(time.RFC3339)
		fmt.Fprintf(&b, "%s\tINFO\tpiecestore\t%s\t{\"piece_id\": \"P%051d\", \"satellite_id\": \"12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S\", \"action\": \"PUT\", \"remote_address\": \"81.2.69.142:1\", \"size\": 1000}\n", ts, results[i%len(results)], i)
	}
	return b.Bytes()
}

func write(t *testing.T, out string, nodes map[string][]byte) {
	t.Helper()
	w, err := backfill.New(out, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range nodes {
		n := w.Node(name)
		for _, l := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
			if err := n.Line(l); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// The file is grouped by family, sampled once a minute, and ends in # EOF.
func TestFormat(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "history.om")
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	write(t, out, map[string][]byte{"A": history(start, 100)}) // 693 s: 12 minutes
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(data, []byte("# EOF\n")) {
		t.Error("no # EOF at the end")
	}
	types := strings.Count(string(data), "# TYPE storj_transfers counter")
	if types != 1 {
		t.Errorf("storj_transfers declared %d times", types)
	}
	var stamps []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, `storj_transfers_total{action="PUT",node="A",result="success",satellite="us1"}`) {
			f := strings.Fields(l)
			stamps = append(stamps, f[len(f)-1])
		}
	}
	if len(stamps) != 12 {
		t.Fatalf("%d samples of one series, want 12: %v", len(stamps), stamps)
	}
	if stamps[0] != "1.767225660e+09" && stamps[0] != "1767225660" && !strings.HasPrefix(stamps[0], "1.76722566") {
		t.Errorf("first sample at %s, want the end of the first minute (1767225660)", stamps[0])
	}
	if _, err := os.Stat(out + ".tmp"); !os.IsNotExist(err) {
		t.Error("temporary file left behind")
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("spool left behind: %v", entries)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// The round trip: promtool turns the file into blocks, a real Prometheus
// serves them, and a query at the last sample equals report's count.
func TestPromtoolRoundTrip(t *testing.T) {
	t.Parallel()
	promtool, prom := testutil.Tool(t, "promtool"), testutil.Tool(t, "prometheus")
	dir := t.TempDir()
	out := filepath.Join(dir, "history.om")
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	logA, logB := history(start, 3000), history(start.Add(30*time.Minute), 1000) // ~5.8 h and ~1.9 h
	write(t, out, map[string][]byte{"A": logA, "B": logB})

	data := filepath.Join(dir, "data")
	if o, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", out, data).CombinedOutput(); err != nil {
		t.Fatalf("promtool: %v\n%s", err, o)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(cfg, []byte("global: {}\n"), 0o644)
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, prom, "--config.file="+cfg, "--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=100y", "--web.listen-address="+addr)
	logs := &testutil.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	testutil.WaitFor(t, "prometheus ready", func() bool {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	c := report.NewCounter()
	c.Read(bytes.NewReader(logA), 1)
	want := c.Transfers[4].Success // PUT
	at := start.Add(3000 * 7 * time.Second).Truncate(time.Minute).Add(time.Minute)
	q := url.Values{"query": {`storj_transfers_total{node="A",action="PUT",result="success",satellite="us1"}`}, "time": {strconv.FormatInt(at.Unix(), 10)}}
	var got struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	resp, err := http.Get("http://" + addr + "/api/v1/query?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got.Data.Result) != 1 {
		t.Fatalf("query returned %d series\n%s", len(got.Data.Result), logs.String())
	}
	if v := got.Data.Result[0].Value[1]; v != strconv.FormatInt(want, 10) {
		t.Errorf("backfilled PUT successes = %v, report says %d", v, want)
	}
}
