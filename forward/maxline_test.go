package forward

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/source"
)

// addHole appends a line of n NUL bytes (a crash's hole, sparse on disk),
// its newline and then lines to the file at path.
func addHole(t *testing.T, path string, n int64, then string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()+n); err != nil {
		t.Fatal(err)
	}
	testutil.AppendFile(t, path, "\n"+then)
}

// receiver is serve's TCP source reading from the server, counting.
type receiver struct {
	lines, cut, after, cutLen atomic.Int64
}

func receive(t *testing.T, addr string) *receiver {
	t.Helper()
	r := &receiver{}
	src := source.NewTCP(addr, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(l source.Line) error {
			r.lines.Add(1)
			switch {
			case l.TooLong:
				r.cut.Add(1)
				r.cutLen.Store(int64(len(l.Data)))
			case string(l.Data) == "after":
				r.after.Add(1)
			}
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return r
}

// A 64 MiB line is read without being held and sent as its first MaxLine
// bytes and source.CutMark: serve's TCP source takes it as one line too
// long, and the lines after it arrive. (Not parallel: it measures the
// process's allocations.)
func TestLongLineQueued(t *testing.T) {
	const huge, limit = 64 << 20, 8 << 10
	h := startServer(t, Config{MaxLine: limit}, nil)
	var r *receiver
	alloc := testutil.Allocated(func() {
		r = receive(t, h.addr())
		h.waitClients(1)
		addHole(t, h.path, huge, strings.Repeat("after\n", 1000))
		h.p.Step(t)
		testutil.WaitFor(t, "the lines after the long one", func() bool { return r.after.Load() == 1000 })
	})
	if r.lines.Load() != 1001 || r.cut.Load() != 1 || r.cutLen.Load() != limit || h.s.Stats().TooLong != 1 {
		t.Errorf("received %d lines, %d cut (%d bytes kept); stats %+v", r.lines.Load(), r.cut.Load(), r.cutLen.Load(), h.s.Stats())
	}
	if alloc > 32<<20 {
		t.Errorf("forwarding a %d MiB line allocated %d MiB", huge>>20, alloc>>20)
	}
	h.stop()
	if !strings.Contains(h.logs.String(), "lines_cut_too_long=1") {
		t.Errorf("the summary on exit lacks the cut line:\n%s", h.logs.String())
	}
}

// The same for a client that gets the file from its start (a follower of
// its own), under the default limit.
func TestLongLineFromBeginning(t *testing.T) {
	const huge = 64 << 20
	path := filepath.Join(t.TempDir(), "node.log")
	testutil.AppendFile(t, path, "before\n")
	addHole(t, path, huge, strings.Repeat("after\n", 1000))
	s, _ := runServer(t, Config{Path: path, FromBeginning: true})
	var r *receiver
	alloc := testutil.Allocated(func() {
		r = receive(t, s.Addr().String())
		testutil.WaitFor(t, "the lines after the long one", func() bool { return r.after.Load() == 1000 })
	})
	if r.lines.Load() != 1002 || r.cut.Load() != 1 || r.cutLen.Load() != 1<<20 {
		t.Errorf("received %d lines, %d cut (%d bytes kept)", r.lines.Load(), r.cut.Load(), r.cutLen.Load())
	}
	if alloc > 32<<20 {
		t.Errorf("forwarding a %d MiB line allocated %d MiB", huge>>20, alloc>>20)
	}
}
