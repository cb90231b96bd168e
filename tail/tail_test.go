package tail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

// timeout bounds every wait of the tests; it is only reached on failure.
const timeout = 20 * time.Second

// harness runs a Follower with a stepPoller and records what it emits.
type harness struct {
	t    *testing.T
	f    *Follower
	p    *testutil.StepPoller
	logs *testutil.SyncBuffer

	mu    sync.Mutex
	lines []string
	pos   []Pos // of each line, File and Info cleared

	cancel context.CancelFunc
	done   chan error
	result *error // set once Run returned
}

// start runs a Follower on cfg (Poller and Logger are set by the harness),
// after applying setup to it, and returns once it is idle in its first
// Wait: the initial open and read are complete.
func start(t *testing.T, cfg Config, setup ...func(*Follower)) *harness {
	t.Helper()
	h := &harness{t: t, p: testutil.NewStepPoller(), logs: &testutil.SyncBuffer{}, done: make(chan error, 1)}
	cfg.Poller = h.p
	cfg.Logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.f = New(cfg)
	for _, s := range setup {
		s(h.f)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		h.done <- h.f.RunPos(ctx, func(line []byte, pos Pos) error {
			pos.File, pos.Info = nil, nil
			h.mu.Lock()
			h.lines = append(h.lines, string(line))
			h.pos = append(h.pos, pos)
			h.mu.Unlock()
			return nil
		})
	}()
	t.Cleanup(func() {
		h.stop()
		if t.Failed() {
			t.Logf("follower log:\n%s", h.logs.String())
		}
	})
	h.parked()
	return h
}

// stop cancels Run and checks that it returns nil.
func (h *harness) stop() {
	h.t.Helper()
	h.cancel()
	if h.result == nil {
		select {
		case err := <-h.done:
			h.result = &err
		case <-time.After(timeout):
			h.t.Fatal("Run did not return after cancellation")
		}
	}
	if *h.result != nil {
		h.t.Errorf("Run returned %v, want nil", *h.result)
	}
	if h.f.Stats().Open {
		h.t.Error("Stats.Open is true after Run returned")
	}
}

// parked waits until the follower is idle in Wait.
func (h *harness) parked() {
	h.t.Helper()
	select {
	case <-h.p.Parked():
	case err := <-h.done:
		h.result = &err
		h.t.Fatalf("Run returned early: %v", err)
	case <-time.After(timeout):
		h.t.Fatal("follower never became idle")
	}
}

// step wakes the follower once and waits until it is idle again, so that
// everything written before step has been processed when it returns.
func (h *harness) step() {
	h.t.Helper()
	select {
	case h.p.Wake() <- struct{}{}:
	case <-time.After(timeout):
		h.t.Fatal("follower is not waiting")
	}
	h.parked()
}

// take returns the lines emitted since the last take.
func (h *harness) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.lines
	h.lines, h.pos = nil, nil
	return l
}

// takePos returns the positions of the lines emitted since the last take.
func (h *harness) takePos() []Pos {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.pos
	h.lines, h.pos = nil, nil
	return p
}

// expect checks that exactly want was emitted since the last take.
func (h *harness) expect(want ...string) {
	h.t.Helper()
	got := h.take()
	if !slices.Equal(got, want) {
		h.t.Fatalf("emitted lines:\n got %d: %s\nwant %d: %s", len(got), testutil.Abbrev(got, 40), len(want), testutil.Abbrev(want, 40))
	}
}

func (h *harness) stats() Stats { return h.f.Stats() }

// seq returns "line-from" .. "line-to".
func seq(from, to int) []string {
	var l []string
	for i := from; i <= to; i++ {
		l = append(l, fmt.Sprintf("line-%d", i))
	}
	return l
}

// text joins lines, each followed by "\n".
func text(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// countLines counts the log lines that contain substr.
func countLines(logs, substr string) int {
	n := 0
	for l := range strings.Lines(logs) {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

func logPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "node.log")
}

// 1. Default start: at the end of the existing file.
func TestStartsAtEnd(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, "old-1\nold-2\n")
	h := start(t, Config{Path: path})
	h.expect()
	if s := h.stats(); !s.Open || s.Offset != 12 || s.Opens != 1 {
		t.Fatalf("stats after start: %+v", s)
	}
	testutil.AppendFile(t, path, text(seq(1, 3)))
	h.step()
	h.expect(seq(1, 3)...)
	h.step()
	h.expect()
	if s := h.stats(); s.Lines != 3 {
		t.Fatalf("Lines = %d, want 3", s.Lines)
	}
}

// Starting at the end of a file whose last line is unfinished: that line is
// emitted whole once finished, not as a fragment.
func TestStartsAtEndUnfinishedLine(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, "old-1\npart")
	h := start(t, Config{Path: path})
	h.expect()
	testutil.AppendFile(t, path, "ial\nnext\n")
	h.step()
	h.expect("partial", "next")

	// A file that is one unfinished line.
	path2 := filepath.Join(t.TempDir(), "other.log")
	testutil.AppendFile(t, path2, "no newline yet")
	h2 := start(t, Config{Path: path2})
	testutil.AppendFile(t, path2, "!\n")
	h2.step()
	h2.expect("no newline yet!")
}

// 2. FromBeginning reads the whole file.
func TestFromBeginning(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, text(seq(1, 1000)))
	h := start(t, Config{Path: path, FromBeginning: true})
	h.expect(seq(1, 1000)...)
	testutil.AppendFile(t, path, text(seq(1001, 1002)))
	h.step()
	h.expect(seq(1001, 1002)...)
}

// 3. A file that does not exist yet is waited for and read from its start.
func TestFileCreatedLater(t *testing.T) {
	path := logPath(t)
	h := start(t, Config{Path: path}) // default start: at end, but the file is new
	if s := h.stats(); s.Open || s.Opens != 0 || s.Errors != 0 {
		t.Fatalf("stats before creation: %+v", s)
	}
	h.step()
	h.expect()
	testutil.AppendFile(t, path, text(seq(1, 5)))
	h.step()
	h.expect(seq(1, 5)...)
	if s := h.stats(); !s.Open || s.Opens != 1 || s.Errors != 0 {
		t.Fatalf("stats after creation: %+v", s)
	}
	if n := countLines(h.logs.String(), "does not exist yet"); n != 1 {
		t.Fatalf("'does not exist' logged %d times, want 1", n)
	}
}

// 4. A partial last line is held until its newline arrives.
func TestPartialLineHeld(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, "")
	h := start(t, Config{Path: path})
	testutil.AppendFile(t, path, "abc")
	h.step()
	h.expect()
	h.step()
	h.expect()
	testutil.AppendFile(t, path, "def\n")
	h.step()
	h.expect("abcdef")
	testutil.AppendFile(t, path, "g\nh")
	h.step()
	h.expect("g")
	testutil.AppendFile(t, path, "\n")
	h.step()
	h.expect("h")
}

// 5. CRLF: one trailing "\r" is stripped, nothing else.
func TestCRLF(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, "a\r\nb\r\n\r\n\nx\ry\r\nc\r\r\n")
	h := start(t, Config{Path: path, FromBeginning: true})
	h.expect("a", "b", "", "", "x\ry", "c\r")
}

// 6. A single line of several MB is emitted whole, also when it arrives in
// pieces.
func TestLongLine(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, "")
	h := start(t, Config{Path: path, MaxLine: 8 << 20})
	long := strings.Repeat("0123456789abcdef", 5<<20/16) // 5 MiB
	testutil.AppendFile(t, path, long[:3<<20])
	h.step()
	h.expect()
	testutil.AppendFile(t, path, long[3<<20:]+"\nafter\n")
	h.step()
	got := h.take()
	if len(got) != 2 || got[0] != long || got[1] != "after" {
		t.Fatalf("got %s", testutil.Abbrev(got, 40))
	}
	// Whole in one go, followed by normal lines.
	testutil.AppendFile(t, path, long+"\n"+text(seq(1, 3)))
	h.step()
	got = h.take()
	if len(got) != 4 || got[0] != long || !slices.Equal(got[1:], seq(1, 3)) {
		t.Fatalf("got %s", testutil.Abbrev(got, 40))
	}
}

// A line longer than MaxLine is emitted as its first MaxLine bytes with
// TooLong set, whether its newline comes in the same read or much later;
// a line of exactly MaxLine bytes is whole; the positions of the cut line
// and of the lines after it are exact.
func TestMaxLine(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, "")
	h := start(t, Config{Path: path, MaxLine: 10})
	type got struct {
		line       string
		start, end int64
		tooLong    bool
	}
	check := func(want ...got) {
		t.Helper()
		h.mu.Lock()
		lines, pos := h.lines, h.pos
		h.mu.Unlock()
		h.take()
		var g []got
		for i := range lines {
			g = append(g, got{lines[i], pos[i].Start, pos[i].End, pos[i].TooLong})
		}
		if !slices.Equal(g, want) {
			t.Fatalf("emitted\n got %+v\nwant %+v", g, want)
		}
	}
	// Exactly 10 bytes, 11 bytes, 10 bytes with "\r" (11 with it: cut,
	// the "\r" kept as the line's bytes), all in one read.
	testutil.AppendFile(t, path, "0123456789\n0123456789a\n012345678\r\n0123456789\r\nok\n")
	h.step()
	check(got{"0123456789", 0, 11, false}, got{"0123456789", 11, 23, true},
		got{"012345678", 23, 34, false}, got{"0123456789", 34, 46, true}, got{"ok", 46, 49, false})

	// A long line arriving over several reads, its newline last.
	testutil.AppendFile(t, path, "abcdefgh")
	h.step()
	check()
	testutil.AppendFile(t, path, "ijklmnopqrstuvwxyz")
	h.step()
	check()
	if s := h.stats(); s.Offset != 49+26 {
		t.Fatalf("offset %d, want %d", s.Offset, 49+26)
	}
	testutil.AppendFile(t, path, strings.Repeat("-", 100<<10)) // more than a read
	h.step()
	check()
	testutil.AppendFile(t, path, "z\nnext\n")
	h.step()
	end := int64(49 + 26 + 100<<10 + 2)
	check(got{"abcdefghij", 49, end, true}, got{"next", end, end + 5, false})

	// A cut line still unfinished when its file is left behind (rename
	// rotation) is emitted cut, up to where the file ends.
	testutil.AppendFile(t, path, strings.Repeat("x", 30))
	h.step()
	check()
	must(t, os.Rename(path, path+".1"))
	testutil.AppendFile(t, path, "new\n")
	h.step()
	check(got{"xxxxxxxxxx", end + 5, end + 35, true}, got{"new", 0, 4, false})
}

// A 64 MB line without a newline, then lines: the lines after it are
// emitted, the long one cut to MaxLine (the default, 1 MiB), and the
// follower holds no more than about MaxLine plus a read meanwhile (it
// allocates well under the line's size).
func TestHugeLineBounded(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, "")
	h := start(t, Config{Path: path})
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	defer w.Close()
	chunk := bytes.Repeat([]byte{0}, 1<<20) // as a crash's hole of NULs
	const size = 64 << 20
	alloc := testutil.Allocated(func() {
		for range size / len(chunk) {
			_, err := w.Write(chunk)
			must(t, err)
		}
		h.step()
		h.expect()
		_, err = w.WriteString("\n" + text(seq(1, 3)))
		must(t, err)
		h.step()
	})
	pos := h.takePos()
	if len(pos) != 4 || !pos[0].TooLong || pos[0].Start != 0 || pos[0].End != size+1 || pos[1].TooLong || pos[1].Start != size+1 {
		t.Fatalf("positions %+v", pos)
	}
	testutil.AppendFile(t, path, text(seq(4, 4)))
	h.step()
	h.expect("line-4")
	if alloc > 16<<20 {
		t.Errorf("following a 64 MB line allocated %d MB", alloc>>20)
	}
}

// 7. Rename rotation with unread lines in the old file.
func TestRenameRotation(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, "")
	h := start(t, Config{Path: path})
	testutil.AppendFile(t, path, text(seq(1, 500))+"unfinished")
	must(t, os.Rename(path, path+".1"))
	testutil.AppendFile(t, path, text(seq(501, 1000)))
	h.step()
	want := append(seq(1, 500), "unfinished")
	h.expect(append(want, seq(501, 1000)...)...)
	if s := h.stats(); s.Rotations != 1 || s.Opens != 2 || s.Lines != 1001 || !s.Open {
		t.Fatalf("stats: %+v", s)
	}
	testutil.AppendFile(t, path, text(seq(1001, 1001)))
	h.step()
	h.expect("line-1001")
	testutil.AppendFile(t, path+".1", "written to the rotated file after the switch\n")
	h.step()
	h.expect()
}

// 8. Rename rotation while the writer keeps writing to its old descriptor
// (as a logger does until it reopens) and also already writes to the new
// file.
func TestRenameWriterKeepsOldDescriptor(t *testing.T) {
	path := logPath(t)
	w1, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	must(t, err)
	defer w1.Close()
	h := start(t, Config{Path: path})
	write := func(w *os.File, s string) {
		t.Helper()
		_, err := io.WriteString(w, s)
		must(t, err)
	}
	write(w1, text(seq(1, 3)))
	h.step()
	h.expect(seq(1, 3)...)

	write(w1, text(seq(4, 6))) // unread when the rename happens
	must(t, os.Rename(path, path+".1"))
	w2, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	must(t, err)
	defer w2.Close()
	write(w2, text(seq(101, 103)))   // the new file gets lines at once
	write(w1, text(seq(7, 9)))       // and the old descriptor still gets some
	write(w2, text(seq(104, 105)))   //
	write(w1, text(seq(10, 10))+"x") // including an unfinished line
	h.step()
	want := append(seq(4, 10), "x")
	h.expect(append(want, seq(101, 105)...)...)
	write(w2, text(seq(106, 106)))
	h.step()
	h.expect("line-106")
	if s := h.stats(); s.Rotations != 1 || s.Lines != 3+8+6 {
		t.Fatalf("stats: %+v", s)
	}
}

// Renamed away and re-created only later: the renamed file keeps being read
// meanwhile.
func TestRenamedAwayThenCreated(t *testing.T) {
	path := logPath(t)
	w1, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	must(t, err)
	defer w1.Close()
	h := start(t, Config{Path: path})
	_, err = io.WriteString(w1, text(seq(1, 2)))
	must(t, err)
	must(t, os.Rename(path, path+".1"))
	h.step()
	h.expect(seq(1, 2)...)
	_, err = io.WriteString(w1, text(seq(3, 4))+"part")
	must(t, err)
	h.step()
	h.expect(seq(3, 4)...)
	if s := h.stats(); !s.Open {
		t.Fatalf("stats: %+v", s)
	}
	testutil.AppendFile(t, path, text(seq(5, 6)))
	h.step()
	h.expect(append([]string{"part"}, seq(5, 6)...)...)
	if n := countLines(h.logs.String(), "removed or renamed"); n != 1 {
		t.Fatalf("'removed or renamed' logged %d times, want 1", n)
	}
}

// 9. copytruncate: content copied elsewhere, file truncated, new lines
// written.
func TestCopyTruncate(t *testing.T) {
	path := logPath(t)
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	must(t, err)
	defer w.Close()
	write := func(s string) {
		t.Helper()
		_, err := io.WriteString(w, s)
		must(t, err)
	}
	h := start(t, Config{Path: path})
	write(text(seq(1, 5)))
	h.step()
	h.expect(seq(1, 5)...)

	copytruncate := func() {
		t.Helper()
		b, err := os.ReadFile(path)
		must(t, err)
		must(t, os.WriteFile(path+".1", b, 0o644))
		must(t, os.Truncate(path, 0))
	}
	// Truncated to 0, then new lines, less than was read before: the file
	// is non-empty but smaller than the offset when the follower looks.
	copytruncate()
	write(text(seq(6, 7)))
	h.step()
	h.expect(seq(6, 7)...)
	if s := h.stats(); s.Truncations != 1 || s.Offset != int64(len(text(seq(6, 7)))) {
		t.Fatalf("stats: %+v", s)
	}

	// Truncated with a held unfinished line: it is emitted, not lost.
	write("unfinished")
	h.step()
	h.expect()
	copytruncate()
	write(text(seq(8, 8)))
	h.step()
	h.expect("unfinished", "line-8")

	// Truncated to 0 and nothing written yet.
	copytruncate()
	h.step()
	h.expect()
	if s := h.stats(); s.Truncations != 3 || s.Offset != 0 {
		t.Fatalf("stats: %+v", s)
	}
	write(text(seq(9, 10)))
	h.step()
	h.expect(seq(9, 10)...)
	h.step()
	h.expect()
	if s := h.stats(); s.Truncations != 3 || s.Rotations != 0 || s.Opens != 1 {
		t.Fatalf("stats: %+v", s)
	}
}

// 10. The file is deleted (with an unread line), waited for, re-created, and
// the new one read from its start.
func TestDeleteRecreate(t *testing.T) {
	path := logPath(t)
	h := start(t, Config{Path: path})
	testutil.AppendFile(t, path, text(seq(1, 3)))
	h.step()
	h.expect(seq(1, 3)...)
	testutil.AppendFile(t, path, text(seq(4, 4)))
	must(t, os.Remove(path))
	h.step()
	h.expect("line-4")
	h.step()
	h.expect()
	testutil.AppendFile(t, path, text(seq(5, 6)))
	h.step()
	h.expect(seq(5, 6)...)
	if s := h.stats(); s.Rotations != 1 || s.Opens != 2 || !s.Open || s.Errors != 0 {
		t.Fatalf("stats: %+v", s)
	}
}

// 11a. Permission denied for real (not possible as root).
func TestPermissionDeniedChmod(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: chmod does not deny access (TestPermissionDeniedInjected covers the logic)")
	}
	path := logPath(t)
	testutil.AppendFile(t, path, text(seq(1, 2)))
	must(t, os.Chmod(path, 0))
	h := start(t, Config{Path: path, FromBeginning: true})
	for range 3 {
		h.step()
	}
	h.expect()
	if s := h.stats(); s.Errors != 1 || s.Open {
		t.Fatalf("stats while denied: %+v", s)
	}
	if n := countLines(h.logs.String(), "permission denied"); n != 1 {
		t.Fatalf("permission error logged %d times, want 1:\n%s", n, h.logs.String())
	}
	must(t, os.Chmod(path, 0o644))
	h.step()
	h.expect(seq(1, 2)...)
	if s := h.stats(); s.Errors != 1 || !s.Open {
		t.Fatalf("stats after recovery: %+v", s)
	}
}

// faults injects permission errors into the follower's file system calls and
// counts them.
type faults struct {
	denyOpen, denyStat, denyRead atomic.Bool
	opens, stats, reads          atomic.Int64
}

func (fl *faults) install(f *Follower) {
	open, stat := f.openFile, f.stat
	f.openFile = func(name string) (file, error) {
		fl.opens.Add(1)
		if fl.denyOpen.Load() {
			return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EACCES}
		}
		fh, err := open(name)
		if err != nil {
			return nil, err
		}
		return &faultyFile{file: fh, fl: fl}, nil
	}
	f.stat = func(name string) (fs.FileInfo, error) {
		fl.stats.Add(1)
		if fl.denyStat.Load() {
			return nil, &fs.PathError{Op: "stat", Path: name, Err: syscall.EACCES}
		}
		return stat(name)
	}
}

type faultyFile struct {
	file
	fl *faults
}

func (ff *faultyFile) Read(p []byte) (int, error) {
	ff.fl.reads.Add(1)
	if ff.fl.denyRead.Load() {
		return 0, &fs.PathError{Op: "read", Path: "x", Err: syscall.EACCES}
	}
	return ff.file.Read(p)
}

// 11b. Permission errors on open, read and stat, injected: counted, logged
// once per episode, retried at each poll, recovered from.
func TestPermissionDeniedInjected(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, text(seq(1, 2)))
	fl := &faults{}
	fl.denyOpen.Store(true)
	h := start(t, Config{Path: path, FromBeginning: true}, fl.install)
	h.step()
	h.step()
	h.expect()
	if s := h.stats(); s.Errors != 1 || s.Open || s.Opens != 0 {
		t.Fatalf("stats while open denied: %+v", s)
	}
	if fl.opens.Load() != 3 {
		t.Fatalf("open attempts = %d, want 3 (one per poll)", fl.opens.Load())
	}
	if n := countLines(h.logs.String(), "permission denied"); n != 1 {
		t.Fatalf("permission error logged %d times, want 1:\n%s", n, h.logs.String())
	}
	fl.denyOpen.Store(false)
	h.step()
	h.expect(seq(1, 2)...)
	if s := h.stats(); s.Errors != 1 || !s.Open {
		t.Fatalf("stats after recovery: %+v", s)
	}
	if !strings.Contains(h.logs.String(), "accessible again") {
		t.Fatalf("recovery not logged:\n%s", h.logs.String())
	}

	// Read errors.
	fl.denyRead.Store(true)
	testutil.AppendFile(t, path, text(seq(3, 4)))
	h.step()
	h.step()
	h.expect()
	if s := h.stats(); s.Errors != 2 || s.Open {
		t.Fatalf("stats while read denied: %+v", s)
	}
	fl.denyRead.Store(false)
	h.step()
	h.expect(seq(3, 4)...)
	if s := h.stats(); s.Errors != 2 || !s.Open {
		t.Fatalf("stats after read recovery: %+v", s)
	}

	// Stat errors: the open file is still read.
	fl.denyStat.Store(true)
	testutil.AppendFile(t, path, text(seq(5, 5)))
	h.step()
	h.expect("line-5")
	h.step()
	if s := h.stats(); s.Errors != 3 {
		t.Fatalf("stats while stat denied: %+v", s)
	}
	fl.denyStat.Store(false)
	h.step()

	// The new file after a rotation cannot be opened: the old one stays
	// open and drained; the new one is read once it can be opened.
	fl.denyOpen.Store(true)
	testutil.AppendFile(t, path, text(seq(6, 6))+"unfinished")
	must(t, os.Rename(path, path+".1"))
	testutil.AppendFile(t, path, text(seq(8, 9)))
	h.step()
	h.expect("line-6")
	testutil.AppendFile(t, path+".1", "!\n"+text(seq(7, 7)))
	h.step()
	h.expect("unfinished!", "line-7")
	if s := h.stats(); s.Errors != 4 || !s.Open || s.Rotations != 0 {
		t.Fatalf("stats while new file denied: %+v", s)
	}
	fl.denyOpen.Store(false)
	h.step()
	h.expect(seq(8, 9)...)
	if s := h.stats(); s.Errors != 4 || !s.Open || s.Rotations != 1 || s.Lines != 9+1 {
		t.Fatalf("final stats: %+v", s)
	}
	if n := countLines(h.logs.String(), "level=WARN"); n != 4 {
		t.Fatalf("%d warnings logged, want 4:\n%s", n, h.logs.String())
	}
}

// 12. Idle: one Wait per poll, and exactly one read and one stat per poll;
// nothing at all between polls.
func TestIdleNoBusyLoop(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, text(seq(1, 3)))
	fl := &faults{}
	h := start(t, Config{Path: path}, fl.install)
	reads, stats := fl.reads.Load(), fl.stats.Load()
	for range 1000 {
		runtime.Gosched() // let a spinning follower spin
	}
	if fl.reads.Load() != reads || fl.stats.Load() != stats || h.p.Waits() != 1 {
		t.Fatalf("follower worked while not woken: reads %d→%d, stats %d→%d, waits %d",
			reads, fl.reads.Load(), stats, fl.stats.Load(), h.p.Waits())
	}
	const polls = 50
	for range polls {
		h.step()
	}
	h.expect()
	if d := fl.reads.Load() - reads; d != polls {
		t.Errorf("%d reads for %d idle polls", d, polls)
	}
	if d := fl.stats.Load() - stats; d != polls {
		t.Errorf("%d stats for %d idle polls", d, polls)
	}
	if w := h.p.Waits(); w != polls+1 {
		t.Errorf("%d waits for %d polls", w, polls)
	}
	if fl.opens.Load() != 1 {
		t.Errorf("%d opens", fl.opens.Load())
	}
}

// A burst of 100,000 lines appended at once.
func TestBurst(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, "")
	h := start(t, Config{Path: path})
	const n = 100_000
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "2024-01-01T00:00:00.000Z\tINFO\tpiecestore\tuploaded\t{\"Piece ID\": \"%d\"}\n", i)
	}
	testutil.AppendFile(t, path, b.String())
	h.step()
	got := h.take()
	if len(got) != n {
		t.Fatalf("got %d lines, want %d", len(got), n)
	}
	for i, l := range got {
		if want := fmt.Sprintf("{\"Piece ID\": \"%d\"}", i); !strings.HasSuffix(l, want) {
			t.Fatalf("line %d = %q", i, l)
		}
	}
}

// Random line lengths, written in random chunks with polls and rename
// rotations at arbitrary points (also mid-line): every file's content is
// emitted exactly, in order, its unfinished last line as a line.
func TestRandomChunksAndRotations(t *testing.T) {
	for seed := range uint64(5) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			path := logPath(t)
			testutil.AppendFile(t, path, "")
			h := start(t, Config{Path: path})
			var want []string
			var cur strings.Builder // content of the current file
			finish := func() {
				s := cur.String()
				cur.Reset()
				parts := strings.Split(s, "\n")
				if parts[len(parts)-1] == "" {
					parts = parts[:len(parts)-1]
				}
				for _, p := range parts {
					want = append(want, strings.TrimSuffix(p, "\r"))
				}
			}
			var content strings.Builder
			for i := range 3000 {
				n := rng.IntN(200)
				if rng.IntN(500) == 0 {
					n = 100_000 + rng.IntN(200_000)
				}
				fmt.Fprintf(&content, "%d:%s", i, strings.Repeat("x", n))
				if rng.IntN(10) == 0 {
					content.WriteString("\r")
				}
				content.WriteString("\n")
			}
			data := content.String()
			rotations := 0
			for len(data) > 0 {
				n := min(len(data), 1+rng.IntN(20_000))
				testutil.AppendFile(t, path, data[:n])
				cur.WriteString(data[:n])
				data = data[n:]
				switch rng.IntN(10) {
				case 0, 1, 2:
					h.step()
				case 3:
					must(t, os.Rename(path, fmt.Sprintf("%s.%d", path, rotations)))
					rotations++
					finish()
					testutil.AppendFile(t, path, "")
					// A rotated file is only seen if the follower opened
					// it before the next rotation: poll.
					h.step()
				}
			}
			h.step()
			finish()
			h.expect(want...)
			if s := h.stats(); s.Rotations != uint64(rotations) {
				t.Fatalf("Rotations = %d, want %d", s.Rotations, rotations)
			}
		})
	}
}

// emit's error ends Run and is returned as is.
func TestEmitError(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, text(seq(1, 3)))
	boom := errors.New("boom")
	f := New(Config{Path: path, FromBeginning: true, Poller: testutil.NewStepPoller()})
	var got []string
	err := f.Run(context.Background(), func(line []byte) error {
		got = append(got, string(line))
		if len(got) == 2 {
			return boom
		}
		return nil
	})
	if err != boom {
		t.Fatalf("Run returned %v, want boom", err)
	}
	if s := f.Stats(); s.Lines != 1 || s.Open {
		t.Fatalf("stats: %+v", s)
	}
}

// Cancellation ends Run with nil; a failing Poller ends it with its error.
func TestCancelAndPollerError(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, text(seq(1, 3)))
	ctx, cancel := context.WithCancel(context.Background())
	var n int
	f := New(Config{Path: path, FromBeginning: true, Poller: testutil.NewStepPoller()})
	err := f.Run(ctx, func([]byte) error {
		n++
		cancel() // stops at this line boundary
		return nil
	})
	if err != nil || n != 1 {
		t.Fatalf("Run after cancel: err %v, %d lines", err, n)
	}

	perr := errors.New("poller broke")
	f = New(Config{Path: path, Poller: pollerFunc(func(context.Context) error { return perr })})
	if err := f.Run(context.Background(), func([]byte) error { return nil }); !errors.Is(err, perr) {
		t.Fatalf("Run with failing poller returned %v", err)
	}
}

type pollerFunc func(context.Context) error

func (p pollerFunc) Wait(ctx context.Context) error { return p(ctx) }

// waitResult calls p.Wait in the background and returns its result channel.
func waitResult(p Poller, ctx context.Context) <-chan error {
	c := make(chan error, 1)
	go func() { c <- p.Wait(ctx) }()
	return c
}

func expectWake(t *testing.T, c <-chan error, what string) {
	t.Helper()
	select {
	case err := <-c:
		if err != nil {
			t.Fatalf("%s: Wait returned %v", what, err)
		}
	case <-time.After(timeout):
		t.Fatalf("%s: Wait did not return", what)
	}
}

// 13. The production poller wakes on writes and creations (fsnotify, with a
// ticker too slow to matter), and on its ticker when the directory cannot be
// watched.
func TestWatchPoller(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "node.log")

	p := NewPoller(path, time.Hour, nil)
	defer p.Close()
	if !p.watching() {
		t.Skip("fsnotify unavailable here")
	}
	c := waitResult(p, ctx)
	testutil.AppendFile(t, path, "created\n")
	expectWake(t, c, "create")
	c = waitResult(p, ctx)
	testutil.AppendFile(t, path, "written\n")
	expectWake(t, c, "write")
	c = waitResult(p, ctx)
	must(t, os.Rename(path, path+".1"))
	expectWake(t, c, "rename")

	// Events for other files in the directory wake nobody; an event for
	// the file, or for the directory itself, wakes its poller.
	other := NewPoller(filepath.Join(dir, "other.log"), time.Hour, nil)
	defer other.Close()
	pending := func(p *WatchPoller) bool {
		select {
		case <-p.wake:
			return true
		default:
			return false
		}
	}
	pending(p)
	w := hub.w
	hub.dispatch(w, fsnotify.Event{Name: filepath.Join(dir, "unrelated"), Op: fsnotify.Write})
	if pending(p) || pending(other) {
		t.Error("an event for another file woke a poller")
	}
	hub.dispatch(w, fsnotify.Event{Name: path, Op: fsnotify.Create})
	if !pending(p) || pending(other) {
		t.Error("an event for the file did not wake its poller alone")
	}
	hub.dispatch(w, fsnotify.Event{Name: dir, Op: fsnotify.Chmod})
	if !pending(p) || !pending(other) {
		t.Error("an event for the directory did not wake its pollers")
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.Wait(cctx); err != context.Canceled {
		t.Errorf("Wait on a cancelled context returned %v", err)
	}

	// Ticker fallback: the directory does not exist, so it cannot be
	// watched; once it exists it is watched at the next wake-up (a tick,
	// or here also the event of its creation in the watched parent).
	missing := filepath.Join(dir, "later", "node.log")
	tp := NewPoller(missing, 5*time.Millisecond, nil)
	defer tp.Close()
	if tp.watching() {
		t.Fatal("watching a directory that does not exist")
	}
	expectWake(t, waitResult(tp, ctx), "tick")
	expectWake(t, waitResult(tp, ctx), "second tick")
	must(t, os.Mkdir(filepath.Dir(missing), 0o755))
	expectWake(t, waitResult(tp, ctx), "after mkdir")
	if !tp.watching() {
		t.Error("directory not watched after it appeared")
	}
}

// The Follower with the production poller, end to end: only fsnotify can
// wake it (the ticker interval is an hour).
func TestFollowerWithWatchPoller(t *testing.T) {
	path := logPath(t)
	testutil.AppendFile(t, path, "")
	lines := make(chan string, 100)
	f := New(Config{Path: path, FromBeginning: true, PollInterval: time.Hour})
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
	expectLines := func(want ...string) {
		t.Helper()
		for _, w := range want {
			select {
			case got := <-lines:
				if got != w {
					t.Fatalf("got %q, want %q", got, w)
				}
			case <-time.After(timeout):
				t.Fatalf("timed out waiting for %q", w)
			}
		}
	}
	testutil.AppendFile(t, path, text(seq(1, 3)))
	expectLines(seq(1, 3)...)
	must(t, os.Rename(path, path+".1"))
	testutil.AppendFile(t, path, text(seq(4, 5)))
	expectLines(seq(4, 5)...)
	testutil.AppendFile(t, path, text(seq(6, 6)))
	expectLines("line-6")
}

// 14. Throughput reading a large file from its beginning.
func BenchmarkFollow(b *testing.B) {
	path := filepath.Join(b.TempDir(), "node.log")
	w, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	bw := bytes.NewBuffer(nil)
	const nLines = 200_000
	pad := strings.Repeat("x", 200)
	for i := range nLines {
		// ~300 bytes, storagenode-like
		fmt.Fprintf(bw, "2024-05-01T12:34:56.789Z\tINFO\tpiecestore\tuploaded\t{\"Piece ID\": \"%08d\", \"Satellite ID\": \"12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S\", \"Action\": \"PUT\", \"Size\": %d, \"pad\": \"%s\"}\n", i, i, pad[:111])
	}
	size := bw.Len()
	if _, err := w.Write(bw.Bytes()); err != nil {
		b.Fatal(err)
	}
	w.Close()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var total int
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		// At the first Wait the file has been read to its end: stop.
		f := New(Config{Path: path, FromBeginning: true, Poller: pollerFunc(func(ctx context.Context) error {
			cancel()
			return ctx.Err()
		})})
		n := 0
		if err := f.Run(ctx, func(line []byte) error {
			n++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if n != nLines {
			b.Fatalf("%d lines, want %d", n, nLines)
		}
		total += n
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(size)/nLines, "bytes/line")
}
