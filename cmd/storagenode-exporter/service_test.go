package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/service"
	"github.com/storagenode-exporter/storagenode-exporter/internal/service/servicetest"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

// The real serve under a fake service manager (servicetest): StartPending, Running once it
// listens (and /metrics answers), StopPending on Stop, and exit status 0
// once serve has returned.
func TestServiceRunsServe(t *testing.T) {
	t.Parallel()
	log := filepath.Join(t.TempDir(), "node.log")
	copyFile(t, "../../report/testdata/fixture.log", log)
	api := fakeNode(t, "v1.162")
	args := []string{"--web.listen-address", "127.0.0.1:0", "--geoip.database", testGeoDB, "--no-nodeapi.discover", "--db=",
		"--node", "Node-1:" + log + ":" + api.URL, "--from-beginning"}
	stderr := &testutil.SyncBuffer{}
	addrs := make(chan net.Addr, 1)
	m := servicetest.NewManager()
	done := m.Start(nil, func(ctx context.Context, listening chan<- net.Addr) int {
		mine := make(chan net.Addr, 1)
		go func() {
			if a, ok := <-mine; ok {
				addrs <- a
				listening <- a
			}
		}()
		defer close(mine)
		return runWith(args, strings.NewReader(""), io.Discard, stderr, mine, ctx)
	})
	m.Expect(t, service.StartPending, 1)
	m.Expect(t, service.Running, 0)
	addr := <-addrs
	m.Send(t, service.Interrogate)
	m.Expect(t, service.Running, 0)
	testutil.WaitFor(t, "the fixture's 38 lines on /metrics", func() bool {
		resp, err := http.Get("http://" + addr.String() + "/metrics")
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(body), `storj_log_lines_total{node="Node-1"} 38`)
	})

	m.Send(t, service.Stop)
	m.Expect(t, service.StopPending, 1)
	if code := servicetest.ExitOf(t, done); code != 0 {
		t.Errorf("exit status %d, want 0: %s", code, stderr.String())
	}
	if _, err := http.Get("http://" + addr.String() + "/metrics"); err == nil {
		t.Error("still serving after the service stopped")
	}
}

// A command line that cannot start (here an unknown flag) never reports
// Running; its exit status is the service's.
func TestServiceStartFails(t *testing.T) {
	t.Parallel()
	stderr := &testutil.SyncBuffer{}
	m := servicetest.NewManager()
	done := m.Start(nil, func(ctx context.Context, listening chan<- net.Addr) int {
		return runWith([]string{"--no-such-flag"}, strings.NewReader(""), io.Discard, stderr, listening, ctx)
	})
	m.Expect(t, service.StartPending, 1)
	if code := servicetest.ExitOf(t, done); code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "no-such-flag") {
		t.Errorf("stderr: %s", stderr.String())
	}
	m.NoReport(t)
}
