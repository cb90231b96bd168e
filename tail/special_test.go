package tail

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

// The path becomes a directory and then a file again (rm n.log; mkdir
// n.log; rmdir n.log; append to a new n.log): the directory is refused
// (WARN once, Open false, Err ErrNotRegular) and the new file is followed
// from its start. Before, the directory was opened as the new file and its
// read error returned before the path was checked again: counting never
// resumed.
func TestDirectoryAndBack(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, "")
	h := start(t, Config{Path: path})
	testutil.AppendFile(t, path, text(seq(1, 2))+"part")
	h.step()
	h.expect(seq(1, 2)...)

	must(t, os.Remove(path))
	must(t, os.Mkdir(path, 0o755))
	h.step()
	h.expect("part") // the old file read to its end, as at rotation
	h.step()
	h.step()
	h.expect()
	if s := h.stats(); s.Open || !errors.Is(s.Err, ErrNotRegular) || !strings.Contains(s.Err.Error(), "is a directory") {
		t.Fatalf("directory at the path: Open %v, Err %v", s.Open, s.Err)
	}

	must(t, os.Remove(path))
	testutil.AppendFile(t, path, text(seq(3, 4)))
	h.step()
	h.expect(seq(3, 4)...)
	testutil.AppendFile(t, path, text(seq(5, 5)))
	h.step()
	h.expect("line-5")
	if s := h.stats(); !s.Open || s.Err != nil || s.Errors != 1 {
		t.Fatalf("file again: %+v", s)
	}
	if n := countLines(h.logs.String(), "level=WARN msg=\"log path is not a regular file"); n != 1 {
		t.Fatalf("not-a-regular-file warning logged %d times, want 1:\n%s", n, h.logs.String())
	}
}

// A read error does not keep the follower on its file: a new file at the
// path is followed although the old one still cannot be read (before, the
// error returned before the path was checked, for ever).
func TestReadErrorThenNewFile(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, "")
	var opened atomic.Int32
	h := start(t, Config{Path: path}, func(f *Follower) {
		open := f.openFile
		f.openFile = func(name string) (file, error) {
			fh, err := open(name)
			if err == nil && opened.Add(1) == 1 {
				fh = brokenFile{fh} // the first file opened cannot be read
			}
			return fh, err
		}
	})
	h.step()
	if s := h.stats(); s.Open || s.Errors != 1 || !errors.Is(s.Err, syscall.EIO) {
		t.Fatalf("read failing: %+v", s)
	}
	must(t, os.Rename(path, path+".1"))
	testutil.AppendFile(t, path, text(seq(1, 2)))
	h.step()
	h.expect(seq(1, 2)...)
	if s := h.stats(); !s.Open || s.Rotations != 1 || s.Err != nil {
		t.Fatalf("new file: %+v", s)
	}
}

// brokenFile fails every read, as a file on a failing disk.
type brokenFile struct{ file }

func (brokenFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: "x", Err: syscall.EIO}
}

// Cancelling ends Run promptly in every state of the follower, with the
// production poller (its ticker an hour, so only cancellation can end a
// wait).
func TestCancelInEveryState(t *testing.T) {
	for _, tc := range cancelStates(t) {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "node.log")
			tc.setup(t, path)
			f := New(Config{Path: path, PollInterval: time.Hour})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- f.Run(ctx, func([]byte) error { return nil }) }()
			testutil.WaitFor(t, "the follower in state "+tc.name, func() bool {
				s := f.Stats()
				return tc.reached(s)
			})
			cancel()
			began := time.Now()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run returned %v", err)
				}
			case <-time.After(timeout):
				t.Fatal("Run did not return after cancellation")
			}
			if d := time.Since(began); d > 5*time.Second {
				t.Errorf("Run took %v to return", d)
			}
			if f.Stats().Open {
				t.Error("a file is still open")
			}
		})
	}
}

type cancelState struct {
	name    string
	setup   func(t *testing.T, path string)
	reached func(Stats) bool
}

func cancelStates(t *testing.T) []cancelState {
	notRegular := func(s Stats) bool { return errors.Is(s.Err, ErrNotRegular) }
	states := []cancelState{
		{"missing", func(*testing.T, string) {}, func(s Stats) bool { return errors.Is(s.Err, fs.ErrNotExist) }},
		{"directory", func(t *testing.T, p string) { must(t, os.Mkdir(p, 0o755)) }, notRegular},
		{"following", func(t *testing.T, p string) { testutil.AppendFile(t, p, "a\n") }, func(s Stats) bool { return s.Open }},
	}
	return append(states, unixCancelStates(notRegular)...)
}

// The followed file's directory is removed and made again: the follower
// polls meanwhile, reads the new file, and watches the new directory. (The
// old directory's removal is only reported once the follower closed the
// removed file it still held, which kept the directory's entry alive: when
// it moves to the new file.)
func TestWatchedDirectoryRemovedAndBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	must(t, os.Mkdir(dir, 0o755))
	path := filepath.Join(dir, "node.log")
	testutil.AppendFile(t, path, "")
	f := New(Config{Path: path, PollInterval: 10 * time.Millisecond})
	lines := make(chan string, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- f.Run(ctx, func(l []byte) error {
			lines <- string(l)
			return nil
		})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v", err)
		}
	}()
	testutil.WaitFor(t, "the file open", func() bool { return f.Stats().Open })
	if !hub.watching(dir) {
		t.Skip("file notifications unavailable here")
	}
	must(t, os.RemoveAll(dir))
	must(t, os.Mkdir(dir, 0o755))
	testutil.AppendFile(t, path, "back\n")
	select {
	case l := <-lines:
		if l != "back" {
			t.Fatalf("got %q", l)
		}
	case <-time.After(timeout):
		t.Fatal("the new file's line was not read")
	}
	testutil.WaitFor(t, "the new directory watched", func() bool {
		hub.mu.Lock()
		defer hub.mu.Unlock()
		d := hub.dirs[dir]
		return d != nil && d.watching && slices.Contains(hub.w.WatchList(), dir) && f.Stats().Rotations == 1
	})
}
