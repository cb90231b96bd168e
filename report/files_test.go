package report_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/report"
)

// ReadFiles counts what it can read: the fixture plain, gzip-compressed
// and on stdin count three times its lines; a missing file, a directory
// and a file of no log lines fail, each named once (a missing file's error
// does not repeat its path); an empty file is fine.
func TestReadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/fixture.log")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain, compressed := write("a.log", data), write("b.log.gz", gz.Bytes())
	empty, binary := write("empty.log", nil), write("notes.txt", []byte("not a log\nnor this\n"))
	missing := filepath.Join(dir, "missing.log")
	c := report.NewCounter()
	errs := map[string]error{}
	n := c.ReadFiles([]string{plain, missing, compressed, "-", empty, binary, dir}, bytes.NewReader(data), 2, func(path string, err error) {
		if _, dup := errs[path]; dup {
			t.Errorf("%s failed twice", path)
		}
		errs[path] = err
	})
	if n != 3 || len(errs) != 3 {
		t.Errorf("%d failed: %v", n, errs)
	}
	if !errors.Is(errs[binary], report.ErrNoLogLines) {
		t.Errorf("no log lines: %v", errs[binary])
	}
	for _, p := range []string{missing} {
		if err := errs[p]; err == nil || strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want an error without the path", p, err)
		}
	}
	one := report.NewCounter()
	if err := one.Read(bytes.NewReader(data), 1); err != nil {
		t.Fatal(err)
	}
	if got, want := c.Summary.Transfers, one.Summary.Transfers; got[1].Success != 3*want[1].Success || c.Summary.Lines != 3*one.Summary.Lines+2 {
		t.Errorf("lines %d, want 3 x %d + 2 of notes.txt", c.Summary.Lines, one.Summary.Lines)
	}
}
