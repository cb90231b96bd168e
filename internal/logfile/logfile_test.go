package logfile_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
)

// While the log is open, the node appends to it, a rotator renames it and
// deletes it, and a new log is created at its path; the open file is read
// to its end all along. On Windows this fails with os.Open (no
// FILE_SHARE_DELETE: the rename is refused).
func TestOpenBlocksNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "node.log")
	if err := os.WriteFile(path, []byte("first\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := logfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatalf("the node cannot open its log for writing: %v", err)
	}
	if _, err := w.WriteString("second\n"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatalf("the rotator cannot rename the log: %v", err)
	}
	if err := os.WriteFile(path, []byte("new\n"), 0o644); err != nil {
		t.Fatalf("the node cannot create a new log: %v", err)
	}
	if err := os.Remove(path + ".1"); err != nil {
		t.Fatalf("the rotator cannot delete the old log: %v", err)
	}

	got, err := io.ReadAll(f)
	if err != nil || string(got) != "first\nsecond\n" {
		t.Errorf("read %q, %v; want the old log's two lines", got, err)
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != int64(len("first\nsecond\n")) {
		t.Errorf("Stat of the open file: %v, %v", fi, err)
	}
}

func TestOpenMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.log")
	_, err := logfile.Open(path)
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Path != path {
		t.Errorf("error %v: want a *fs.PathError naming %s, matching fs.ErrNotExist", err, path)
	}
}

func TestOpenDirectory(t *testing.T) {
	dir := t.TempDir()
	f, err := logfile.Open(dir)
	if err != nil {
		t.Fatalf("a directory opens as with os.Open: %v", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.IsDir() {
		t.Errorf("Stat: %v, %v; want a directory", fi, err)
	}
}
