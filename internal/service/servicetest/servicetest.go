// Package servicetest stands in for the Windows service manager in tests:
// a test sends change requests and checks the status reports of
// service.Run.
package servicetest

import (
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/service"
)

// wait bounds each expectation; a passing test never waits for it.
const wait = 60 * time.Second

// Manager is a fake service manager.
type Manager struct {
	requests chan service.Cmd
	status   chan service.Status
}

// NewManager returns a Manager that holds up to 100 reports unread.
func NewManager() *Manager {
	return &Manager{requests: make(chan service.Cmd), status: make(chan service.Status, 100)}
}

// Requests implements service.Manager.
func (m *Manager) Requests() <-chan service.Cmd { return m.requests }

// Report implements service.Manager.
func (m *Manager) Report(s service.Status) { m.status <- s }

// Expect waits for the next report and checks its state and checkpoint,
// and that a pending state has a wait hint and Running none.
func (m *Manager) Expect(t testing.TB, state service.State, checkPoint uint32) {
	t.Helper()
	select {
	case s := <-m.status:
		if s.State != state || s.CheckPoint != checkPoint {
			t.Fatalf("reported %v (checkpoint %d), want %v (checkpoint %d)", s.State, s.CheckPoint, state, checkPoint)
		}
		if pending := state != service.Running; pending != (s.WaitHint > 0) {
			t.Errorf("%v with wait hint %v", s.State, s.WaitHint)
		}
	case <-time.After(wait):
		t.Fatalf("no report, want %v", state)
	}
}

// NoReport checks that no report is waiting.
func (m *Manager) NoReport(t testing.TB) {
	t.Helper()
	select {
	case s := <-m.status:
		t.Errorf("reported %v, want nothing more", s.State)
	default:
	}
}

// Send sends a change request.
func (m *Manager) Send(t testing.TB, cmd service.Cmd) {
	t.Helper()
	select {
	case m.requests <- cmd:
	case <-time.After(wait):
		t.Fatalf("change request %d not taken", cmd)
	}
}

// Start runs service.Run with m in the background; the exit status comes
// on the returned channel.
func (m *Manager) Start(tick <-chan time.Time, serve service.Serve) <-chan int {
	done := make(chan int, 1)
	go func() { done <- service.Run(m, tick, serve) }()
	return done
}

// ExitOf waits for the exit status of a Start.
func ExitOf(t testing.TB, done <-chan int) int {
	t.Helper()
	select {
	case code := <-done:
		return code
	case <-time.After(wait):
		t.Fatal("service.Run did not return")
		return -1
	}
}
