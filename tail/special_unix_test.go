//go:build !windows

package tail

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("cannot make a FIFO here: %v", err)
	}
}

func unixCancelStates(notRegular func(Stats) bool) []cancelState {
	return []cancelState{
		{"fifo", func(t *testing.T, p string) { mkfifo(t, p) }, notRegular},
		{"device", func(t *testing.T, p string) { must(t, os.Symlink(os.DevNull, p)) }, notRegular},
	}
}

// A FIFO or a device at the path is never read: a FIFO without a writer
// does not block the follower (it used to block in open, and SIGTERM could
// not end the process), a device is not read forever; the follower says
// why (one WARN per episode, Err ErrNotRegular, Open false) and follows the
// regular file that takes the path's place, and leaves it for a FIFO again.
func TestFIFOAndDevice(t *testing.T) {
	path := logPath(t)
	mkfifo(t, path)
	h := start(t, Config{Path: path}) // returns once the follower waits: nothing blocked
	expectNotRegular := func(kind string) {
		t.Helper()
		if s := h.stats(); s.Open || !errors.Is(s.Err, ErrNotRegular) || !strings.Contains(s.Err.Error(), kind) {
			t.Fatalf("%s at the path: Open %v, Err %v", kind, s.Open, s.Err)
		}
	}
	expectNotRegular("a FIFO")
	h.step()
	expectNotRegular("a FIFO")

	must(t, os.Remove(path))
	must(t, os.Symlink("/dev/zero", path)) // endless if read
	h.step()
	h.expect()
	expectNotRegular("a character device")

	must(t, os.Remove(path))
	testutil.AppendFile(t, path, text(seq(1, 2)))
	h.step()
	h.expect(seq(1, 2)...)
	if s := h.stats(); !s.Open || s.Err != nil {
		t.Fatalf("regular file: %+v", s)
	}

	must(t, os.Remove(path))
	mkfifo(t, path)
	h.step()
	expectNotRegular("a FIFO")
	if n := countLines(h.logs.String(), "log path is not a regular file"); n != 3 {
		t.Fatalf("not-a-regular-file warnings: %d, want 3 (FIFO, device, FIFO):\n%s", n, h.logs.String())
	}
	if s := h.stats(); s.Errors != 3 {
		t.Fatalf("Errors %d, want 3", s.Errors)
	}
}

// A FIFO swapped in between the follower's stat of the path and its open
// (here: a stat that says "regular file") is opened without blocking and
// then refused.
func TestFIFOOpenDoesNotBlock(t *testing.T) {
	path := logPath(t)
	mkfifo(t, path)
	regular := logPath(t)
	testutil.AppendFile(t, regular, "")
	h := start(t, Config{Path: path}, func(f *Follower) {
		f.stat = func(string) (fs.FileInfo, error) { return os.Stat(regular) }
	})
	if s := h.stats(); s.Open || !errors.Is(s.Err, ErrNotRegular) {
		t.Fatalf("FIFO: Open %v, Err %v", s.Open, s.Err)
	}
}
