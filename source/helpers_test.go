package source

import (
	"bytes"
	"context"
	"fmt"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"
)

// running is a Source being run by a test, with what it emitted.
type running struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan error

	mu    sync.Mutex
	lines []Line // copies
	emit  func(Line) error
}

// runSource runs src until the test ends (or stop is called) and records
// the lines it emits. emitHook, if not nil, is called for every line before
// it is recorded, and its error is returned to the source.
func runSource(t *testing.T, src Source, emitHook func(Line) error) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{t: t, cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- src.Run(ctx, func(l Line) error {
			if emitHook != nil {
				if err := emitHook(l); err != nil {
					return err
				}
			}
			r.mu.Lock()
			r.lines = append(r.lines, Line{Data: bytes.Clone(l.Data), Received: l.Received, TooLong: l.TooLong})
			r.mu.Unlock()
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(testutil.Timeout):
			t.Error("Run did not return after cancellation")
		}
	})
	return r
}

// stop cancels Run and returns its result.
func (r *running) stop() error {
	r.t.Helper()
	r.cancel()
	return r.result()
}

// result waits for Run to return.
func (r *running) result() error {
	r.t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(testutil.Timeout):
		r.t.Fatal("Run did not return")
		return nil
	}
}

func (r *running) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.lines)
}

// take waits until n lines were emitted since the last take and returns
// them.
func (r *running) take(n int) []Line {
	r.t.Helper()
	testutil.WaitFor(r.t, fmt.Sprintf("%d lines", n), func() bool { return r.count() >= n })
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.lines
	r.lines = nil
	if len(got) != n {
		r.t.Fatalf("got %d lines, want %d: %s", len(got), n, testutil.Abbrev(data(got), 20))
	}
	return got
}

// expect waits for exactly want (as Data) since the last take.
func (r *running) expect(want ...string) {
	r.t.Helper()
	got := data(r.take(len(want)))
	if !slices.Equal(got, want) {
		r.t.Fatalf("lines:\n got %s\nwant %s", testutil.Abbrev(got, 20), testutil.Abbrev(want, 20))
	}
}

// none checks that nothing was emitted since the last take.
func (r *running) none() {
	r.t.Helper()
	if n := r.count(); n != 0 {
		r.t.Fatalf("%d unexpected lines", n)
	}
}

func data(lines []Line) []string {
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = string(l.Data)
	}
	return s
}

func testLogger(t *testing.T) (*slog.Logger, *testutil.SyncBuffer) {
	buf := &testutil.SyncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}
