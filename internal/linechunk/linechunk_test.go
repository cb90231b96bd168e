package linechunk_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/linechunk"
)

type chunkAt struct {
	text  string
	start int64
}

func split(t *testing.T, r io.Reader, opts linechunk.Options) ([]chunkAt, error) {
	t.Helper()
	var got []chunkAt
	err := linechunk.Split(r, opts, func(buf []byte, start int64) bool {
		got = append(got, chunkAt{string(buf), start})
		return true
	})
	return got, err
}

func TestSplit(t *testing.T) {
	t.Parallel()
	get := func() []byte { return make([]byte, 8) }
	in := "aaa\nbbb\ncccccccccccccccc\ndd"
	got, err := split(t, strings.NewReader(in), linechunk.Options{Get: get, Start: 100})
	if err != nil {
		t.Fatal(err)
	}
	var whole strings.Builder
	next := int64(100)
	for _, c := range got {
		if c.start != next || !strings.HasSuffix(c.text, "\n") {
			t.Errorf("chunk %q at %d, want whole lines at %d", c.text, c.start, next)
		}
		next += int64(len(c.text))
		whole.WriteString(c.text)
	}
	if whole.String() != "aaa\nbbb\ncccccccccccccccc\n" {
		t.Errorf("without KeepTail: %q", whole.String())
	}
	got, _ = split(t, strings.NewReader(in), linechunk.Options{Get: get, KeepTail: true})
	if last := got[len(got)-1].text; !strings.HasSuffix(last, "dd") {
		t.Errorf("KeepTail: last chunk %q", last)
	}
	// a read error: whole lines are emitted, the tail only with TailOnError
	broken := io.MultiReader(strings.NewReader("x\ny"), errReader{})
	got, err = split(t, broken, linechunk.Options{Get: get})
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(got) != 1 || got[0].text != "x\n" {
		t.Errorf("error: %v %+v", err, got)
	}
	got, _ = split(t, io.MultiReader(strings.NewReader("x\ny"), errReader{}), linechunk.Options{Get: get, TailOnError: true})
	if len(got) != 1 || got[0].text != "x\ny" {
		t.Errorf("TailOnError: %+v", got)
	}
	// emit can stop the reading
	n := 0
	linechunk.Split(strings.NewReader(strings.Repeat("1234567\n", 10)), linechunk.Options{Get: get}, func([]byte, int64) bool { n++; return false })
	if n != 1 {
		t.Errorf("%d chunks after emit said stop", n)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
