// Package testutil holds the helpers the tests of several packages share:
// a Poller stepped by the test, a deadline-bounded condition wait, and a
// buffer safe for concurrent writers, and the pinned tools of bin/. Nothing here sleeps for a fixed time.
package testutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Timeout bounds every wait; it is only reached when a test fails. It is
// generous because the race detector on a loaded 2-core machine slows the
// heaviest waits (a child ingesting 200k lines, a sink catching up) by ten
// times or more; a passing test never waits for it.
const Timeout = 60 * time.Second

// WaitFor polls cond until it holds, failing the test after Timeout.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// StepPoller is a tail.Poller driven by the test. Wait first announces that
// the follower is idle, then blocks until the test steps it.
type StepPoller struct {
	parked chan struct{}
	wake   chan struct{}
	waits  atomic.Int64
}

// NewStepPoller returns a StepPoller.
func NewStepPoller() *StepPoller {
	return &StepPoller{parked: make(chan struct{}), wake: make(chan struct{})}
}

// Wait implements tail.Poller.
func (p *StepPoller) Wait(ctx context.Context) error {
	p.waits.Add(1)
	select {
	case p.parked <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-p.wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Waits returns how many times Wait was called.
func (p *StepPoller) Waits() int64 { return p.waits.Load() }

// WaitParked waits until the follower is idle in Wait.
func (p *StepPoller) WaitParked(t testing.TB) {
	t.Helper()
	select {
	case <-p.parked:
	case <-time.After(Timeout):
		t.Fatal("follower never became idle")
	}
}

// Step wakes the follower and waits until it is idle again: everything
// written before Step has been handled when it returns.
func (p *StepPoller) Step(t testing.TB) {
	t.Helper()
	select {
	case p.wake <- struct{}{}:
	case <-time.After(Timeout):
		t.Fatal("follower is not waiting")
	}
	p.WaitParked(t)
}

// SyncBuffer is a bytes.Buffer that loggers and tests may use at once.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Count returns how many written lines contain substr.
func (s *SyncBuffer) Count(substr string) int {
	n := 0
	for l := range strings.Lines(s.String()) {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

// Parked receives once each time the follower becomes idle in Wait; for
// harnesses that also watch other channels (WaitParked does the simple case).
func (p *StepPoller) Parked() <-chan struct{} { return p.parked }

// Wake lets a follower waiting in Wait go on; for harnesses (Step does the
// simple case).
func (p *StepPoller) Wake() chan<- struct{} { return p.wake }

// AppendFile appends s to the file at path, creating it if needed.
func AppendFile(t testing.TB, path, s string) {
	t.Helper()
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// Abbrev renders up to max lines for a failure message, long ones cut.
func Abbrev(l []string, max int) string {
	var b strings.Builder
	for i, s := range l {
		if i == max {
			fmt.Fprintf(&b, " ... (%d more)", len(l)-i)
			break
		}
		if len(s) > 40 {
			s = fmt.Sprintf("%s...(%d bytes)", s[:20], len(s))
		}
		fmt.Fprintf(&b, "%q ", s)
	}
	return b.String()
}

// Tool returns the path of a pinned tool (prometheus, promtool, alertmanager,
// amtool) in the repository's bin/, where `make tools` builds it from the Go
// modules under tools/. Tools on PATH are not used: the tests run the versions
// that the compose stack ships. Without the binary the test is skipped, or
// fails when CI is set.
func Tool(t testing.TB, name string) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "bin", name)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: `make tools` builds it (make test does so first)", path)
		}
		t.Skipf("%s is missing: run `make tools` (or `make test`)", path)
	}
	return path
}

// RepoRoot returns the repository's root: the nearest folder above the
// working directory whose go.mod is this module's.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module github.com/storagenode-exporter/storagenode-exporter\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testutil: no go.mod of storagenode-exporter above the working directory")
		}
		dir = parent
	}
}

// SendOnce listens on a loopback port and writes r to the first connection,
// then reads it until the other side goes away (a log shipper's stream).
// It returns the address; the listener closes when the test ends.
func SendOnce(t testing.TB, r io.Reader) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		io.Copy(conn, r)
		io.Copy(io.Discard, conn)
	}()
	return ln.Addr().String()
}
