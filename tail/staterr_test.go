package tail

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

// Stats.Err says why no file is followed: not there yet (logged once at
// Warn, with the path), permission denied; nil once it is followed.
func TestStatsErr(t *testing.T) {
	path := logPath(t)
	fl := &faults{}
	h := start(t, Config{Path: path}, fl.install)
	if s := h.stats(); s.Open || !errors.Is(s.Err, fs.ErrNotExist) {
		t.Fatalf("missing file: Open %v, Err %v", s.Open, s.Err)
	}
	h.step()
	warn := "level=WARN msg=\"log file does not exist yet; waiting for it to appear\" path=" + path
	if n := countLines(h.logs.String(), warn); n != 1 {
		t.Fatalf("%q logged %d times, want 1", warn, n)
	}

	fl.denyOpen.Store(true)
	testutil.AppendFile(t, path, text(seq(1, 2)))
	h.step()
	if s := h.stats(); s.Open || !errors.Is(s.Err, fs.ErrPermission) {
		t.Fatalf("open denied: Open %v, Err %v", s.Open, s.Err)
	}
	fl.denyOpen.Store(false)
	h.step()
	h.expect(seq(1, 2)...)
	if s := h.stats(); !s.Open || s.Err != nil {
		t.Fatalf("followed: Open %v, Err %v", s.Open, s.Err)
	}

	fl.denyRead.Store(true)
	testutil.AppendFile(t, path, text(seq(3, 3)))
	h.step()
	if s := h.stats(); s.Open || !errors.Is(s.Err, fs.ErrPermission) {
		t.Fatalf("read denied: Open %v, Err %v", s.Open, s.Err)
	}
	fl.denyRead.Store(false)
	h.step()
	h.expect(seq(3, 3)...)
	if s := h.stats(); !s.Open || s.Err != nil {
		t.Fatalf("read again: Open %v, Err %v", s.Open, s.Err)
	}

	// removed: the open file is still read, and is no problem yet
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	h.step()
	if s := h.stats(); !s.Open || s.Err != nil {
		t.Fatalf("removed: Open %v, Err %v", s.Open, s.Err)
	}
	if strings.Count(h.logs.String(), "level=WARN") != 3 { // missing, open denied, read denied
		t.Errorf("warnings:\n%s", h.logs.String())
	}
}
