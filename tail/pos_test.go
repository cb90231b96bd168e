package tail

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

// RunPos gives each line where it ends in its file, and a new epoch with
// each file followed and each truncation; File reads that file.
func TestRunPos(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, "old\n")
	p := testutil.NewStepPoller()
	f := New(Config{Path: path, Poller: p})
	type seen struct {
		line       string
		epoch      uint64
		start, end int64
		head       string // the first bytes of its file
	}
	var mu sync.Mutex
	var got []seen
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- f.RunPos(ctx, func(line []byte, pos Pos) error {
			head := make([]byte, 3)
			pos.File.ReadAt(head, 0)
			mu.Lock()
			got = append(got, seen{string(line), pos.Epoch, pos.Start, pos.End, string(head)})
			mu.Unlock()
			return nil
		})
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(timeout):
			t.Error("Run did not return")
		}
	}()
	step := func() {
		t.Helper()
		select {
		case p.Wake() <- struct{}{}:
		case <-time.After(timeout):
			t.Fatal("not waiting")
		}
		<-p.Parked()
	}
	<-p.Parked()
	testutil.AppendFile(t, path, "ab\ncd\nunfin")
	step()
	must(t, os.Rename(path, path+".1"))
	testutil.AppendFile(t, path, "xyz\n")
	step()
	must(t, os.Truncate(path, 0))
	testutil.AppendFile(t, path, "k\n") // shorter than what was read: a truncation
	step()
	want := []seen{
		{"ab", 1, 4, 7, "old"}, {"cd", 1, 7, 10, "old"}, {"unfin", 1, 10, 15, "old"}, // the old file's last line, flushed at rotation
		{"xyz", 2, 0, 4, "xyz"},
		{"k", 3, 0, 2, "k\n\x00"}, // 2 bytes read into 3
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
