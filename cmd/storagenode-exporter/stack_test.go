package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/grafana"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi/nodeapitest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startProcess runs a server for the test and stops it at the end.
func startProcess(t *testing.T, name string, args ...string) *testutil.SyncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, name, args...)
	logs := &testutil.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s log:\n%s", filepath.Base(name), logs.String())
		}
	})
	return logs
}

func ready(url string) func() bool {
	return func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}
}

type promResult struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		Result []json.RawMessage `json:"result"`
	} `json:"data"`
}

func promQuery(prom, expr string) (promResult, error) {
	var r promResult
	resp, err := http.Get(prom + "/api/v1/query?" + url.Values{"query": {expr}}.Encode())
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&r)
	return r, err
}

// The whole stack: serve on a fixture log and a node API (one satellite
// suspended), a real Prometheus scraping every second with the rules, a real
// Alertmanager sending to a webhook here. Every dashboard query returns data
// and an alert from the fixtures arrives.
func TestStack(t *testing.T) {
	t.Parallel()
	promBin := testutil.Tool(t, "prometheus")
	amBin := testutil.Tool(t, "alertmanager")
	dir := t.TempDir()

	log := filepath.Join(dir, "node.log")
	copyFile(t, "../../report/testdata/fixture.log", log)
	// with the earnings of testdata/nodeapi/earnings, for the earnings panels
	api := nodeapitest.NewServer(t, "../../testdata/nodeapi", "v1.162").BorrowEarnings()
	s := startServe(t, nil, "--node", "Node-1:"+log+":"+api.URL, "--from-beginning")
	s.waitFor(t, `storj_nodeapi_up{node="Node-1"}`, 1)

	// the webhook receiver
	var mu sync.Mutex
	var received []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var msg struct {
			Alerts []struct {
				Status string            `json:"status"`
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		}
		json.Unmarshal(body, &msg)
		mu.Lock()
		for _, a := range msg.Alerts {
			received = append(received, a.Status+" "+a.Labels["alertname"]+" "+a.Labels["node"]+" "+a.Labels["satellite"])
		}
		mu.Unlock()
	}))
	defer hook.Close()

	amAddr := freeAddr(t)
	amCfg := filepath.Join(dir, "alertmanager.yml")
	os.WriteFile(amCfg, []byte(fmt.Sprintf(`route:
  receiver: hook
  group_by: [alertname, node, satellite]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s
`, hook.URL)), 0o644)
	startProcess(t, amBin, "--config.file="+amCfg, "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	testutil.WaitFor(t, "alertmanager ready", ready("http://"+amAddr+"/-/ready"))

	// The shipped rules, with their `for` shortened so that the test need
	// not wait the minutes a real alert waits.
	rules, err := os.ReadFile("../../alerts/storagenode.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	rules = regexp.MustCompile(`(?m)^(\s+for:\s*)\S+`).ReplaceAll(rules, []byte("${1}1s"))
	rulesFile := filepath.Join(dir, "storagenode.rules.yml")
	os.WriteFile(rulesFile, rules, 0o644)
	promAddr := freeAddr(t)
	promCfg := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(promCfg, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: storagenode-exporter
    static_configs:
      - targets: [%q]
`, rulesFile, amAddr, strings.TrimPrefix(s.url, "http://"))), 0o644)
	startProcess(t, promBin, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "prom"),
		"--web.listen-address="+promAddr)
	prom := "http://" + promAddr
	testutil.WaitFor(t, "prometheus ready", ready(prom+"/-/ready"))
	testutil.WaitFor(t, "three scrapes of the exporter", func() bool {
		r, err := promQuery(prom, `count_over_time(up{job="storagenode-exporter"}[1m]) >= 3`)
		return err == nil && len(r.Data.Result) > 0
	})

	// every dashboard query returns at least one series: the queries of
	// the committed files, read as docker-compose.yml provisions them
	var qs []grafana.Query
	for _, name := range grafana.Files {
		data, err := os.ReadFile(filepath.Join("../../grafana", name))
		if err != nil {
			t.Fatal(err)
		}
		fq, err := grafana.QueriesOf(name, data)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, fq...)
	}
	checked := 0
	for _, q := range qs {
		if q.Optional {
			continue
		}
		expr := grafana.Expand(q.Expr, grafana.TestVars)
		var last promResult
		deadline := time.Now().Add(testutil.Timeout)
		for {
			last, err = promQuery(prom, expr)
			if err == nil && last.Status == "success" && len(last.Data.Result) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s / %s [%s]: no series (%v %s %s)\n  %s", q.File, q.Panel, q.RefID, err, last.Status, last.Error, expr)
				break
			}
			time.Sleep(200 * time.Millisecond) // polling Prometheus for the condition
		}
		checked++
	}
	if checked < 50 {
		t.Errorf("only %d dashboard queries checked", checked)
	}

	// the fixtures' suspended satellite reaches the webhook
	testutil.WaitFor(t, "the suspended alert at the webhook", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range received {
			if strings.HasPrefix(r, "firing StorjSatelliteSuspended Node-1 ") {
				return true
			}
		}
		return false
	})
	mu.Lock()
	t.Logf("alerts received: %q", received)
	mu.Unlock()
}
