package pipeline_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/internal/pipeline"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi/nodeapitest"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
	"github.com/storagenode-exporter/storagenode-exporter/report"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

const (
	fixtureLog = "../../report/testdata/fixture.log"
	testGeoDB  = "../../testdata/geoip/GeoLite2-Country-Test.mmdb"
)

// running is a pipeline serving on loopback.
type running struct {
	url  string
	stop func() error
}

func start(t *testing.T, opts pipeline.Options) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan net.Addr, 1)
	opts.Web.ListenAddress = "127.0.0.1:0"
	if opts.Web.TelemetryPath == "" {
		opts.Web.TelemetryPath = "/metrics"
	}
	opts.GeoIPDatabase = testGeoDB
	if opts.NodeAPI.PollInterval == 0 {
		opts.NodeAPI.PollInterval, opts.NodeAPI.Timeout = time.Minute, 5*time.Second
	}
	opts.OnListen = func(a net.Addr) { listening <- a }
	done := make(chan error, 1)
	go func() { done <- pipeline.Run(ctx, opts) }()
	var addr net.Addr
	select {
	case addr = <-listening:
	case err := <-done:
		cancel()
		t.Fatalf("Run returned before listening: %v", err)
	case <-time.After(testutil.Timeout):
		cancel()
		t.Fatal("Run did not listen")
	}
	var once sync.Once
	var err error
	r := &running{url: "http://" + addr.String(), stop: func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(testutil.Timeout):
				t.Error("Run did not return")
			}
		})
		return err
	}}
	t.Cleanup(func() { r.stop() })
	return r
}

func (r *running) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get(r.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return string(b)
}

// value returns the value of one series of /metrics, -1 when it is absent.
func (r *running) value(t *testing.T, series string) float64 {
	t.Helper()
	tp := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := tp.TextToMetricFamilies(strings.NewReader(r.get(t, "/metrics")))
	if err != nil {
		t.Fatal(err)
	}
	name, labels, _ := strings.Cut(strings.TrimSuffix(series, "}"), "{")
	mf := mfs[name]
	if mf == nil {
		return -1
	}
next:
	for _, m := range mf.Metric {
		for _, pair := range strings.Split(labels, ",") {
			if pair == "" {
				continue
			}
			k, v, _ := strings.Cut(pair, "=")
			found := false
			for _, l := range m.Label {
				found = found || l.GetName() == k && `"`+l.GetValue()+`"` == v
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		}
	}
	return -1
}

// reportOf counts a log as report does.
func reportOf(t *testing.T, path string) *report.Summary {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := report.NewCounter()
	if err := c.Read(bytes.NewReader(data), 1); err != nil {
		t.Fatal(err)
	}
	return &c.Summary
}

// Two nodes, a followed file with a node API and standard input without
// one: every collector answers on /metrics, the landing page names the
// nodes, /healthz answers, and the counters equal report's.
func TestRun(t *testing.T) {
	t.Parallel()
	log := filepath.Join(t.TempDir(), "node.log")
	data, err := os.ReadFile(fixtureLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(log, data, 0o644); err != nil {
		t.Fatal(err)
	}
	api := nodeapitest.NewServer(t, "../../testdata/nodeapi", "v1.162")
	r := start(t, pipeline.Options{
		Nodes: []pipeline.NodeSpec{
			{Name: "Local", Source: log, Kind: pipeline.SourceFile, API: api.URL},
			{Name: "Piped", Source: "-", Kind: pipeline.SourceStdin},
		},
		FromBeginning: true,
		Stdin:         bytes.NewReader(data),
	})
	want := reportOf(t, fixtureLog)
	for _, node := range []string{"Local", "Piped"} {
		testutil.WaitFor(t, node+"'s lines", func() bool {
			return r.value(t, `storj_log_lines_total{node="`+node+`"}`) == float64(want.Lines)
		})
		if got := r.value(t, `storj_transfers_total{node="`+node+`",action="PUT",result="success",satellite="us1"}`); got != float64(want.Satellites["us1"][parser.PUT].Success) {
			t.Errorf("%s: %v PUT successes on us1, report counts %d", node, got, want.Satellites["us1"][parser.PUT].Success)
		}
	}
	if got := r.value(t, `storj_log_source_up{node="Local"}`); got != 1 {
		t.Errorf("the file's source up %v", got)
	}
	if got := r.value(t, `storj_log_rotations_total{node="Local"}`); got != 0 {
		t.Errorf("rotations %v", got)
	}
	if got := r.value(t, `storj_log_rotations_total{node="Piped"}`); got != -1 {
		t.Errorf("standard input has rotations: %v", got)
	}
	testutil.WaitFor(t, "the node API polled", func() bool { return r.value(t, `storj_nodeapi_up{node="Local"}`) == 1 })
	if got := r.value(t, `storj_nodeapi_up{node="Piped"}`); got != -1 {
		t.Errorf("a node without an API has storj_nodeapi_up %v", got)
	}
	if got := r.value(t, `storj_exporter_build_info`); got != 1 {
		t.Errorf("build info %v", got)
	}
	page := r.get(t, "/")
	for _, want := range []string{"Local: " + log + " — following", "Piped: standard input — ", `href="/metrics"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the landing page lacks %q:\n%s", want, page)
		}
	}
	if got := r.get(t, "/healthz"); got != "ok\n" {
		t.Errorf("/healthz: %q", got)
	}
	if err := r.stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// A port taken is Run's error, before anything runs.
func TestRunListenError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = pipeline.Run(context.Background(), pipeline.Options{
		Nodes:         []pipeline.NodeSpec{{Name: "N", Source: "-", Kind: pipeline.SourceStdin}},
		Stdin:         strings.NewReader(""),
		GeoIPDatabase: testGeoDB,
		Web:           pipeline.WebOptions{ListenAddress: ln.Addr().String(), TelemetryPath: "/metrics"},
	})
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("Run on a taken port: %v", err)
	}
}

// recordingSink is a consumer of the pipeline's hooks, as the raw-event
// sink is one: it keeps the outcomes it is handed.
type recordingSink struct {
	mu       sync.Mutex
	outcomes map[string]int
	events   int
	ran      []string // nodes Run was given
	atStop   int      // outcomes held when Run's context ended
	pollers  int
}

func (s *recordingSink) Hooks(n pipeline.NodeSpec) (func(exporter.Outcome), func(*parser.Event)) {
	return func(o exporter.Outcome) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.outcomes[n.Name]++
		}, func(*parser.Event) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.events++
		}
}

func (s *recordingSink) Run(ctx context.Context, nodes []pipeline.NodeSpec, pollers []*nodeapi.Poller, _ sink.Countries) {
	s.mu.Lock()
	for _, n := range nodes {
		s.ran = append(s.ran, n.Name)
	}
	s.pollers = len(pollers)
	s.mu.Unlock()
	<-ctx.Done()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.outcomes {
		s.atStop += n
	}
}

// The sink gets every node's counted outcomes, runs beside the sources and
// is stopped after them: when its context ends it holds every outcome.
func TestRunSink(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(fixtureLog)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingSink{outcomes: map[string]int{}}
	r := start(t, pipeline.Options{
		Nodes: []pipeline.NodeSpec{{Name: "Piped", Source: "-", Kind: pipeline.SourceStdin}},
		Stdin: bytes.NewReader(data),
		Sink:  rec,
	})
	want := reportOf(t, fixtureLog)
	var outcomes int64
	for _, c := range want.Transfers {
		outcomes += c.Total()
	}
	outcomes += want.NoAction.Total()
	testutil.WaitFor(t, "the lines counted", func() bool {
		return r.value(t, `storj_log_lines_total{node="Piped"}`) == float64(want.Lines)
	})
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.atStop != int(outcomes) || rec.outcomes["Piped"] != int(outcomes) {
		t.Errorf("the sink held %d outcomes when stopped (%d in all), report counts %d", rec.atStop, rec.outcomes["Piped"], outcomes)
	}
	if rec.events == 0 || len(rec.ran) != 1 || rec.ran[0] != "Piped" || rec.pollers != 0 {
		t.Errorf("events %d, Run for %v with %d pollers", rec.events, rec.ran, rec.pollers)
	}
}
