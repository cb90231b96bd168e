package logfile_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
)

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A log is told plain or gzip by its content, whatever its name, and read
// whole either way; from a path, from a stream, and by its first bytes.
func TestContent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	text := []byte("2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{}\nlast line without newline")
	files := map[string][]byte{
		"node.log":      text,
		"node.log.1":    gzipped(t, text), // logrotate's compress without .gz
		"node.log.2.gz": gzipped(t, text),
		"plain.gz":      text, // a name that lies the other way
		"empty.log":     nil,
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := logfile.OpenContent(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("%s: close: %v", name, err)
		}
		want := text
		if name == "empty.log" {
			want = nil
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: read %q", name, got)
		}

		sr, err := logfile.NewReader(bytes.NewReader(data)) // standard input
		if err != nil {
			t.Fatalf("%s as a stream: %v", name, err)
		}
		if got, err := io.ReadAll(sr); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s as a stream: %q, %v", name, got, err)
		}

		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		compressed := len(data) > 0 && data[0] == 0x1f
		if got := logfile.Compressed(f); got != compressed {
			t.Errorf("%s: Compressed %v, want %v", name, got, compressed)
		}
		if off, _ := f.Seek(0, io.SeekCurrent); off != 0 {
			t.Errorf("%s: Compressed moved the offset to %d", name, off)
		}
		f.Close()
	}
}

func TestContentErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := logfile.OpenContent(filepath.Join(dir, "missing.log")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := logfile.OpenContent(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	// a gzip header cut short is an error at open; a stream cut short one
	// when it is read
	cut := gzipped(t, bytes.Repeat([]byte("a line of a log\n"), 1000))
	for _, tc := range []struct {
		name   string
		data   []byte
		atOpen bool
	}{{"header.gz", cut[:5], true}, {"stream.gz", cut[:40], false}} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := logfile.OpenContent(path)
		if tc.atOpen {
			if err == nil || !strings.Contains(err.Error(), "gzip") {
				t.Errorf("%s: open: %v", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if _, err := io.ReadAll(r); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: read: %v, want an unexpected EOF", tc.name, err)
		}
		r.Close()
	}
}
