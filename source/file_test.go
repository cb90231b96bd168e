package source

import (
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"path/filepath"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/tail"
)

// Appended lines are delivered, old content is not (default start), Up
// follows the file and Stats passes the follower's counters through.
func TestFileDeliversAppendedLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.log")
	testutil.AppendFile(t, path, "old\n")
	p := testutil.NewStepPoller()
	log, _ := testLogger(t)
	f := NewFileConfig(tail.Config{Path: path, Poller: p, Logger: log})
	if f.Up() {
		t.Error("Up before Run")
	}
	r := runSource(t, f, nil)
	p.WaitParked(t)
	if !f.Up() {
		t.Error("not Up while following")
	}
	r.none()

	testutil.AppendFile(t, path, "a\nb\r\n\nc")
	p.Step(t)
	r.expect("a", "b", "")
	testutil.AppendFile(t, path, "c\n")
	p.Step(t)
	got := r.take(1)
	if string(got[0].Data) != "cc" || !got[0].Received.IsZero() {
		t.Errorf("got %q received %v, want \"cc\" and no time", got[0].Data, got[0].Received)
	}
	if s := f.Stats(); s.Lines != 4 || s.Opens != 1 || !s.Open {
		t.Errorf("stats %+v", s)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if f.Up() {
		t.Error("Up after Run returned")
	}
}

// NewFile with fromBeginning reads the existing content, with the
// production poller.
func TestNewFileFromBeginning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.log")
	testutil.AppendFile(t, path, "one\ntwo\n")
	log, _ := testLogger(t)
	f := NewFile(path, true, log)
	r := runSource(t, f, nil)
	r.expect("one", "two")
	testutil.WaitFor(t, "Up", f.Up)
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
}
