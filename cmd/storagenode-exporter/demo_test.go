package main

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"github.com/prometheus/common/model"

	"github.com/storagenode-exporter/storagenode-exporter/internal/config"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

// startDemoServe runs serve in-process with exactly args (no test GeoIP
// database: the demo's countries come from the embedded one).
func startDemoServe(t *testing.T, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan net.Addr, 1)
	stderr := &testutil.SyncBuffer{}
	done := make(chan int, 1)
	go func() { done <- runWith(args, strings.NewReader(""), io.Discard, stderr, listening, ctx) }()
	var addr net.Addr
	select {
	case addr = <-listening:
	case code := <-done:
		cancel()
		t.Fatalf("serve exited with %d before listening: %s", code, stderr.String())
	case <-time.After(testutil.Timeout):
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
			case <-time.After(testutil.Timeout):
				t.Errorf("serve did not stop")
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return &served{url: "http://" + addr.String(), stderr: stderr, stop: stop}
}

// demoState is what one scrape of the demo shows.
type demoState struct {
	transfers, timed float64
	apiUp, us1Audit  float64
	countries        map[string]bool
	filewalkers      bool
}

func (s *served) demoState(t *testing.T) demoState {
	st := demoState{countries: map[string]bool{}, apiUp: -1, us1Audit: -1}
	for _, smp := range s.scrape(t) {
		m := smp.Metric
		if m["node"] != "Demo" {
			continue
		}
		v := float64(smp.Value)
		switch m[model.MetricNameLabel] {
		case "storj_transfers_total":
			st.transfers += v
		case "storj_transfer_duration_seconds_count":
			st.timed += v
		case "storj_nodeapi_up":
			st.apiUp = v
		case "storj_satellite_audit_score":
			if m["satellite"] == "us1" {
				st.us1Audit = v
			}
		case "storj_transfers_by_country_total":
			if v > 0 && m["country"] != "ZZ" {
				st.countries[string(m["country"])] = true
			}
		case "storj_filewalker_runs_total":
			st.filewalkers = st.filewalkers || v > 0
		}
	}
	return st
}

// `serve --demo` with no other flag serves a sample node: within 10 s the
// transfer counters, timed durations, node-API gauges and the country
// breakdown have data, and one line says where to look.
func TestServeDemo(t *testing.T) {
	start := time.Now()
	s := startDemoServe(t, "--demo", "--web.listen-address", "127.0.0.1:0")
	deadline := start.Add(10 * time.Second)
	var st demoState
	for {
		st = s.demoState(t)
		if st.transfers > 0 && st.timed > 0 && st.apiUp == 1 && st.us1Audit > 0 && len(st.countries) >= 2 && st.filewalkers {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %+v\nlog:\n%s", st, s.stderr.String())
		}
		time.Sleep(50 * time.Millisecond) // polling a live server for a condition, not waiting for time to pass
	}
	log := s.stderr.String()
	if n := strings.Count(log, "demo: open "+s.url+"/ — metrics at "+s.url+"/metrics"); n != 1 {
		t.Errorf("want one line with the URLs to open, got %d:\n%s", n, log)
	}
	if strings.Contains(log, "raw-event sink") {
		t.Errorf("the demo opened the sink without --db:\n%s", log)
	}
	if code := s.stop(); code != 0 {
		t.Errorf("exit status %d:\n%s", code, s.stderr.String())
	}
}

// --demo serves its sample node alone.
func TestServeDemoRefusesNodes(t *testing.T) {
	var stderr strings.Builder
	code := runWith([]string{"--demo", "--node", "A:/var/log/node.log", "--web.listen-address", "127.0.0.1:0"},
		strings.NewReader(""), io.Discard, &stderr, nil, context.Background())
	if code != 1 || !strings.Contains(stderr.String(), "--demo serves a built-in sample node alone") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// --demo changes the listen address, the sink and the poll interval only
// where no flag sets them.
func TestDemoDefaults(t *testing.T) {
	for _, tc := range []struct {
		args             []string
		listen, db       string
		poll             time.Duration
		listenFromConfig bool
	}{
		{[]string{"--demo"}, DemoListenAddress, "", DemoPollInterval, false},
		{[]string{"serve", "--demo"}, DemoListenAddress, "", DemoPollInterval, false},
		{[]string{"--demo", "--db", "x.db", "--web.listen-address", ":1234", "--nodeapi.poll-interval", "1m"}, ":1234", "x.db", time.Minute, false},
		{[]string{"--demo", "--db=storagenode-exporter.db"}, DemoListenAddress, "storagenode-exporter.db", DemoPollInterval, false},
		{[]string{"--demo"}, ":7777", "", DemoPollInterval, true},
	} {
		var cli CLI
		parser, err := kong.New(&cli, cliVars())
		if err != nil {
			t.Fatal(err)
		}
		kctx, err := parser.Parse(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		var cfg *config.Config
		if tc.listenFromConfig {
			addr := ":7777"
			cfg = &config.Config{}
			cfg.Web.ListenAddress = &addr
			cli.Serve.Web.ListenAddress = addr // as the config file's resolver sets it
		}
		d, err := cli.Serve.startDemo(kctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.api.Close(); err != nil {
			t.Error(err)
		}
		c := cli.Serve
		if c.Web.ListenAddress != tc.listen || c.DB != tc.db || c.NodeAPI.PollInterval != tc.poll {
			t.Errorf("%q: listen %q db %q poll %v, want %q %q %v", tc.args, c.Web.ListenAddress, c.DB, c.NodeAPI.PollInterval, tc.listen, tc.db, tc.poll)
		}
	}
}
