package tail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

// inotifyInstances counts the process's inotify instances: the links
// anon_inode:inotify in /proc/self/fd.
func inotifyInstances(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && l == "anon_inode:inotify" {
			n++
		}
	}
	return n
}

// 1,000 followers in one process (100 directories of 10 logs) use one
// inotify instance, and every one of them still sees appends and a rename
// rotation, woken by file events alone (their tickers tick hourly). With a
// watcher per follower the 129th could not get one (128 instances per user
// by default) and polled instead.
func TestOneInotifyInstance(t *testing.T) {
	if n := inotifyInstances(t); n != 0 {
		t.Fatalf("%d inotify instances before the test", n)
	}
	const dirs, perDir = 100, 10
	root := t.TempDir()
	var paths []string
	for i := range dirs {
		dir := filepath.Join(root, fmt.Sprintf("node%03d", i))
		must(t, os.Mkdir(dir, 0o755))
		for j := range perDir {
			p := filepath.Join(dir, fmt.Sprintf("storagenode-%d.log", j))
			testutil.AppendFile(t, p, "")
			paths = append(paths, p)
		}
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	followers := make([]*Follower, len(paths))
	for i, p := range paths {
		f := New(Config{Path: p, PollInterval: time.Hour})
		followers[i] = f
		wg.Go(func() {
			if err := f.Run(ctx, func([]byte) error { return nil }); err != nil {
				t.Errorf("%s: Run returned %v", p, err)
			}
		})
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			wg.Wait()
		}
	}
	defer stop()
	every := func(what string, cond func(Stats) bool) {
		t.Helper()
		testutil.WaitFor(t, what, func() bool {
			for _, f := range followers {
				if !cond(f.Stats()) {
					return false
				}
			}
			return true
		})
	}
	every("every follower open", func(s Stats) bool { return s.Open })
	if n := inotifyInstances(t); n != 1 {
		t.Fatalf("%d inotify instances for %d followers, want 1", n, len(paths))
	}
	// An idle follower holds a small buffer (4 KiB, not 64 KiB).
	var idle runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&idle)
	if per := (int64(idle.HeapAlloc) - int64(before.HeapAlloc)) / int64(len(paths)); per > 16<<10 {
		t.Errorf("an idle follower holds %d bytes of heap", per)
	} else {
		t.Logf("an idle follower holds %d bytes of heap", per)
	}

	for _, p := range paths {
		testutil.AppendFile(t, p, "appended\n")
	}
	every("every append seen", func(s Stats) bool { return s.Lines == 1 })
	for _, p := range paths {
		must(t, os.Rename(p, p+".1"))
		testutil.AppendFile(t, p, "rotated\n")
	}
	every("every rotation followed", func(s Stats) bool { return s.Lines == 2 && s.Rotations == 1 })
	if n := inotifyInstances(t); n != 1 {
		t.Fatalf("%d inotify instances after rotation, want 1", n)
	}

	stop()
	if n := inotifyInstances(t); n != 0 {
		t.Errorf("%d inotify instances after every follower stopped, want 0", n)
	}
}
