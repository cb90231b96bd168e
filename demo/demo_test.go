package demo

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
	"github.com/storagenode-exporter/storagenode-exporter/source"
)

// coverage records what the demo log delivered and says when it has
// everything the dashboards read.
type coverage struct {
	mu      sync.Mutex
	seen    map[string]bool
	started map[string]bool // piece IDs whose started line came
	lines   int
	unpaired,
	paired int // live outcomes without / with their started line
	firstLive bool // a started line has come: the burst is over
	bad       []string
}

// want is every kind of line the dashboards need from the log.
var want = []string{
	"outcome success", "outcome canceled", "outcome failed",
	"transfer_started", "paired outcome", "remote address",
	"upload_rejected", "ping_failed", "reputation", "compaction", "retain",
	"filewalker used-space", "filewalker gc", "filewalker trash-cleanup",
	"trash", "expired",
}

func (c *coverage) emit(l source.Line) error {
	ev, err := parser.Parse(l.Data)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines++
	if err != nil {
		c.bad = append(c.bad, err.Error()+": "+string(l.Data))
		return nil
	}
	if d := time.Since(ev.Time); d < -time.Second || d > 5*time.Second {
		c.bad = append(c.bad, "not a current time: "+string(l.Data))
	}
	switch ev.Kind {
	case parser.KindTransferStarted:
		c.firstLive = true
		c.started[ev.PieceID] = true
		c.seen["transfer_started"] = true
	case parser.KindTransferOutcome:
		c.seen["outcome "+ev.Result.String()] = true
		if ev.Remote.IsValid() {
			c.seen["remote address"] = true
		}
		if c.firstLive {
			if c.started[ev.PieceID] {
				c.paired++
				c.seen["paired outcome"] = true
			} else {
				c.unpaired++
			}
		}
	case parser.KindFilewalker:
		c.seen["filewalker "+ev.Walker.Name.String()] = true
	default:
		c.seen[ev.Kind.String()] = true
	}
	return nil
}

func (c *coverage) complete() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range want {
		if !c.seen[w] {
			return false
		}
	}
	return true
}

func runLog(t *testing.T, l *Log, emit func(source.Line) error) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, emit) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(testutil.Timeout):
				t.Fatal("Run did not return after cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// The log covers every kind of line the dashboards read, with current
// times, and every live outcome has its started line before it.
func TestLogCoversEveryKind(t *testing.T) {
	c := &coverage{seen: map[string]bool{}, started: map[string]bool{}}
	l := NewLog(LogOptions{})
	stop := runLog(t, l, c.emit)
	testutil.WaitFor(t, "every kind of line", c.complete)
	testutil.WaitFor(t, "Up", l.Up)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if l.Up() {
		t.Error("Up after Run returned")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bad) > 0 {
		t.Errorf("%d bad lines, first: %s", len(c.bad), c.bad[0])
	}
	// The burst's outcomes come before the first started line; every
	// outcome after it is a live transfer's.
	if c.unpaired > 0 {
		t.Errorf("%d live outcomes without their started line (%d with)", c.unpaired, c.paired)
	}
	if c.lines < DefaultBurst {
		t.Errorf("%d lines, want the burst of %d at least", c.lines, DefaultBurst)
	}
}

// The burst is delivered at once, before any timer runs.
func TestLogBurst(t *testing.T) {
	var mu sync.Mutex
	n, started := 0, false
	l := NewLog(LogOptions{Burst: 50, Rate: 0.001})
	runLog(t, l, func(line source.Line) error {
		ev, err := parser.Parse(line.Data)
		mu.Lock()
		defer mu.Unlock()
		if err == nil && ev.Kind == parser.KindTransferOutcome {
			n++
		}
		started = started || err == nil && ev.Kind == parser.KindTransferStarted
		return nil
	})
	testutil.WaitFor(t, "50 outcomes", func() bool { mu.Lock(); defer mu.Unlock(); return n >= 50 })
	mu.Lock()
	defer mu.Unlock()
	if started {
		t.Error("a started line in the burst")
	}
}

// Run returns emit's error as is.
func TestLogEmitError(t *testing.T) {
	errStop := errors.New("stop")
	l := NewLog(LogOptions{Burst: -1, Rate: 1000})
	done := make(chan error, 1)
	go func() {
		done <- l.Run(context.Background(), func(source.Line) error { return errStop })
	}()
	select {
	case err := <-done:
		if !errors.Is(err, errStop) {
			t.Fatalf("Run = %v, want %v", err, errStop)
		}
	case <-time.After(testutil.Timeout):
		t.Fatal("Run did not return emit's error")
	}
}
