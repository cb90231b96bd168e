package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

// fakeServiceManager stands in for the Windows service manager: the test
// sends change requests and reads the status reports.
type fakeServiceManager struct {
	requests chan serviceCmd
	status   chan serviceStatus
}

func newFakeServiceManager() *fakeServiceManager {
	return &fakeServiceManager{requests: make(chan serviceCmd), status: make(chan serviceStatus, 100)}
}

func (m *fakeServiceManager) Requests() <-chan serviceCmd { return m.requests }
func (m *fakeServiceManager) Report(s serviceStatus)      { m.status <- s }

// expect waits for the next report and checks it.
func (m *fakeServiceManager) expect(t *testing.T, state serviceState, checkPoint uint32) {
	t.Helper()
	select {
	case s := <-m.status:
		if s.State != state || s.CheckPoint != checkPoint {
			t.Fatalf("reported %v (checkpoint %d), want %v (checkpoint %d)", s.State, s.CheckPoint, state, checkPoint)
		}
		if pending := state != serviceRunning; pending != (s.WaitHint > 0) {
			t.Errorf("%v with wait hint %v", s.State, s.WaitHint)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no report, want %v", state)
	}
}

// send sends a change request.
func (m *fakeServiceManager) send(t *testing.T, cmd serviceCmd) {
	t.Helper()
	select {
	case m.requests <- cmd:
	case <-time.After(20 * time.Second):
		t.Fatalf("change request %d not taken", cmd)
	}
}

// runServiceAsync runs runService in the background; the result comes on
// the returned channel.
func runServiceAsync(m serviceManager, tick <-chan time.Time, serve func(context.Context, chan<- net.Addr) int) <-chan int {
	done := make(chan int, 1)
	go func() { done <- runService(m, tick, serve) }()
	return done
}

func exitOf(t *testing.T, done <-chan int) int {
	t.Helper()
	select {
	case code := <-done:
		return code
	case <-time.After(20 * time.Second):
		t.Fatal("runService did not return")
		return -1
	}
}

// The real serve under the fake manager: StartPending, Running once it
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
	m := newFakeServiceManager()
	done := runServiceAsync(m, nil, func(ctx context.Context, listening chan<- net.Addr) int {
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
	m.expect(t, serviceStartPending, 1)
	m.expect(t, serviceRunning, 0)
	addr := <-addrs
	m.send(t, serviceInterrogate)
	m.expect(t, serviceRunning, 0)
	testutil.WaitFor(t, "the fixture's 38 lines on /metrics", func() bool {
		resp, err := http.Get("http://" + addr.String() + "/metrics")
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(body), `storj_log_lines_total{node="Node-1"} 38`)
	})

	m.send(t, serviceStop)
	m.expect(t, serviceStopPending, 1)
	if code := exitOf(t, done); code != 0 {
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
	m := newFakeServiceManager()
	done := runServiceAsync(m, nil, func(ctx context.Context, listening chan<- net.Addr) int {
		return runWith([]string{"--no-such-flag"}, strings.NewReader(""), io.Discard, stderr, listening, ctx)
	})
	m.expect(t, serviceStartPending, 1)
	if code := exitOf(t, done); code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "no-such-flag") {
		t.Errorf("stderr: %s", stderr.String())
	}
	select {
	case s := <-m.status:
		t.Errorf("reported %v after StartPending", s.State)
	default:
	}
}

// Pending states are repeated with a growing checkpoint at every tick; a
// Stop while starting cancels serve; a second stop request (Shutdown) and
// ticks after serve was told to stop change nothing but the checkpoint.
func TestServicePendingStates(t *testing.T) {
	t.Parallel()
	m := newFakeServiceManager()
	tick := make(chan time.Time)
	release := make(chan int)
	canceled := make(chan struct{})
	done := runServiceAsync(m, tick, func(ctx context.Context, listening chan<- net.Addr) int {
		<-ctx.Done() // never listens: stays StartPending
		close(canceled)
		return <-release // a slow shutdown, as long as the test wants
	})
	m.expect(t, serviceStartPending, 1)
	tick <- time.Time{}
	m.expect(t, serviceStartPending, 2)
	m.send(t, serviceInterrogate)
	m.expect(t, serviceStartPending, 2)

	m.send(t, serviceStop)
	m.expect(t, serviceStopPending, 1)
	select {
	case <-canceled:
	case <-time.After(20 * time.Second):
		t.Fatal("serve's context not canceled on Stop")
	}
	tick <- time.Time{}
	m.expect(t, serviceStopPending, 2)
	m.send(t, serviceShutdown)
	m.send(t, serviceInterrogate)
	m.expect(t, serviceStopPending, 2)
	release <- 3
	if code := exitOf(t, done); code != 3 {
		t.Errorf("exit status %d, want serve's 3", code)
	}
}
