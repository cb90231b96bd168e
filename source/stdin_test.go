package source

import (
	"context"
	"errors"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// readAll runs a Reader on r to its end and returns the lines.
func readAll(t *testing.T, r io.Reader) []string {
	t.Helper()
	src := NewReader("test", r)
	src.MaxLine = 4 << 20 // the 3 MB line is held whole (maxline_test.go cuts lines)
	var got []string
	err := src.Run(context.Background(), func(l Line) error {
		if !src.Up() {
			t.Error("not Up while reading")
		}
		got = append(got, string(l.Data))
		return nil
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if src.Up() {
		t.Error("Up after the input ended")
	}
	if src.Lines() != uint64(len(got)) {
		t.Errorf("Lines() = %d, want %d", src.Lines(), len(got))
	}
	return got
}

// CRLF, empty lines, a 3 MB line and a last line without a newline, read
// in one go, a byte at a time and in halves.
func TestReaderLines(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 3<<20/16)
	in := "a\r\nb\n\n\r\n" + long + "\r\nafter\nno newline\r"
	want := []string{"a", "b", "", "", long, "after", "no newline"}
	for _, tc := range []struct {
		name string
		r    func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"halves", iotest.HalfReader},
		{"bytes", iotest.OneByteReader},
		{"data+EOF", iotest.DataErrReader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := in
			if tc.name == "bytes" {
				in = strings.Replace(in, long, long[:100<<10], 1) // 3 MB one byte at a time is slow under -race
			}
			got := readAll(t, tc.r(strings.NewReader(in)))
			want := slices.Clone(want)
			if tc.name == "bytes" {
				want[4] = long[:100<<10]
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %s\nwant %s", testutil.Abbrev(got, 20), testutil.Abbrev(want, 20))
			}
		})
	}
	if got := readAll(t, strings.NewReader("")); len(got) != 0 {
		t.Errorf("empty input: %q", got)
	}
}

// Errors: emit's is returned as is, a read error wrapped, and a reader
// that makes no progress is given up on.
func TestReaderErrors(t *testing.T) {
	stop := errors.New("stop")
	err := NewReader("in", strings.NewReader("a\nb\n")).Run(context.Background(), func(Line) error { return stop })
	if err != stop {
		t.Errorf("emit error: got %v", err)
	}

	broken := errors.New("broken pipe")
	r := io.MultiReader(strings.NewReader("a\npartial"), iotest.ErrReader(broken))
	var got []string
	err = NewReader("in", r).Run(context.Background(), func(l Line) error {
		got = append(got, string(l.Data))
		return nil
	})
	if !errors.Is(err, broken) || !strings.Contains(err.Error(), "in") {
		t.Errorf("read error: got %v", err)
	}
	if !slices.Equal(got, []string{"a"}) {
		t.Errorf("lines before the read error: %q", got)
	}

	err = NewReader("in", zeroReader{}).Run(context.Background(), func(Line) error { return nil })
	if !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("zero reads: got %v", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

// Run returns nil as soon as ctx is done, even while a Read blocks.
func TestReaderCancelWhileBlocked(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close() // lets the helper goroutine's Read return
	src := NewReader("stdin", pr)
	r := runSource(t, src, nil)
	if _, err := io.WriteString(pw, "x\ny"); err != nil {
		t.Fatal(err)
	}
	r.expect("x")
	if !src.Up() {
		t.Error("not Up while reading")
	}
	if err := r.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if src.Up() {
		t.Error("Up after Run returned")
	}

	// A context done before Run: nothing is read.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() {
		done <- NewReader("stdin", strings.NewReader("a\n")).Run(ctx, func(Line) error {
			t.Error("line emitted after cancellation")
			return nil
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(testutil.Timeout):
		t.Fatal("Run did not return")
	}
}
