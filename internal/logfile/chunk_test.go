package logfile_test

import (
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

type chunkAt struct {
	text  string
	start int64
}

func split(t *testing.T, r io.Reader, opts logfile.ChunkOptions) ([]chunkAt, error) {
	t.Helper()
	var got []chunkAt
	err := logfile.SplitChunks(r, opts, func(c logfile.Chunk) bool {
		if c.TooLong || c.End != c.Start+int64(len(c.Buf)) {
			t.Errorf("chunk %q at %d: End %d, TooLong %v", c.Buf, c.Start, c.End, c.TooLong)
		}
		got = append(got, chunkAt{string(c.Buf), c.Start})
		return true
	})
	return got, err
}

func TestSplitChunks(t *testing.T) {
	t.Parallel()
	get := func() []byte { return make([]byte, 8) }
	in := "aaa\nbbb\ncccccccccccccccc\ndd"
	got, err := split(t, strings.NewReader(in), logfile.ChunkOptions{Get: get, Start: 100})
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
	got, _ = split(t, strings.NewReader(in), logfile.ChunkOptions{Get: get, KeepTail: true})
	if last := got[len(got)-1].text; !strings.HasSuffix(last, "dd") {
		t.Errorf("KeepTail: last chunk %q", last)
	}
	// a read error: whole lines are emitted, the tail only with TailOnError
	broken := io.MultiReader(strings.NewReader("x\ny"), errReader{})
	got, err = split(t, broken, logfile.ChunkOptions{Get: get})
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(got) != 1 || got[0].text != "x\n" {
		t.Errorf("error: %v %+v", err, got)
	}
	got, _ = split(t, io.MultiReader(strings.NewReader("x\ny"), errReader{}), logfile.ChunkOptions{Get: get, TailOnError: true})
	if len(got) != 1 || got[0].text != "x\ny" {
		t.Errorf("TailOnError: %+v", got)
	}
	// emit can stop the reading
	n := 0
	logfile.SplitChunks(strings.NewReader(strings.Repeat("1234567\n", 10)), logfile.ChunkOptions{Get: get}, func(logfile.Chunk) bool { n++; return false })
	if n != 1 {
		t.Errorf("%d chunks after emit said stop", n)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// line is a line as Split hands it over: its text (the first MaxLine bytes
// of a cut one), where it starts and where the next one starts.
type line struct {
	text       string
	start, end int64
	tooLong    bool
}

// lines splits the chunks Split emits into lines.
func lines(t *testing.T, r io.Reader, opts logfile.ChunkOptions) ([]line, error) {
	t.Helper()
	var got []line
	err := logfile.SplitChunks(r, opts, func(c logfile.Chunk) bool {
		if c.TooLong {
			got = append(got, line{string(c.Buf), c.Start, c.End, true})
			return true
		}
		if len(c.Buf) == 0 {
			t.Errorf("an empty chunk at %d", c.Start)
		}
		off := c.Start
		for _, l := range strings.SplitAfter(string(c.Buf), "\n") {
			if l != "" {
				got = append(got, line{strings.TrimSuffix(l, "\n"), off, off + int64(len(l)), false})
				off += int64(len(l))
			}
		}
		if off != c.End {
			t.Errorf("chunk at %d ends at %d, its lines at %d", c.Start, c.End, off)
		}
		return true
	})
	return got, err
}

// want is what Split must hand over: every line in order, those longer
// than limit cut to their first limit bytes and marked.
func want(in string, limit int, keepTail bool) []line {
	var out []line
	off := int64(0)
	for _, l := range strings.SplitAfter(in, "\n") {
		if l == "" || !strings.HasSuffix(l, "\n") && !keepTail {
			break
		}
		text := strings.TrimSuffix(l, "\n")
		ln := line{text, off, off + int64(len(l)), len(text) > limit}
		if ln.tooLong {
			ln.text = text[:limit]
		}
		out = append(out, ln)
		off += int64(len(l))
	}
	return out
}

func TestSplitChunksTooLong(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(strings.Repeat(string(rune('a'+rng.IntN(26))), rng.IntN(40)))
			b.WriteByte('\n')
		}
		if rng.IntN(2) == 0 {
			b.WriteString(strings.Repeat("z", rng.IntN(40)))
		}
		in := b.String()
		size, limit, keepTail := 1+rng.IntN(24), 1+rng.IntN(24), rng.IntN(2) == 0
		get := func() []byte { return make([]byte, size) }
		// a reader that returns a few bytes at a time, as a pipe does
		got, err := lines(t, iotest.HalfReader(strings.NewReader(in)), logfile.ChunkOptions{Get: get, MaxLine: limit, KeepTail: keepTail})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want(in, limit, keepTail), got, cmp.AllowUnexported(line{})); d != "" {
			t.Fatalf("case %d: %q, chunks of %d, limit %d, keepTail %v (-want +got):\n%s", i, in, size, limit, keepTail, d)
		}
	}
}

// A cut line's last bytes at a read error are handed over with TailOnError.
func TestSplitChunksTooLongAtError(t *testing.T) {
	t.Parallel()
	get := func() []byte { return make([]byte, 8) }
	in := io.MultiReader(strings.NewReader("ab\n"+strings.Repeat("x", 50)), errReader{})
	got, err := lines(t, in, logfile.ChunkOptions{Get: get, MaxLine: 10, TailOnError: true})
	wantLines := []line{{"ab", 0, 3, false}, {"xxxxxxxxxx", 3, 53, true}}
	if !errors.Is(err, io.ErrUnexpectedEOF) || !cmp.Equal(got, wantLines, cmp.AllowUnexported(line{})) {
		t.Errorf("got %+v, %v", got, err)
	}
	in = io.MultiReader(strings.NewReader("ab\n"+strings.Repeat("x", 50)), errReader{})
	got, _ = lines(t, in, logfile.ChunkOptions{Get: get, MaxLine: 10})
	if !cmp.Equal(got, wantLines[:1], cmp.AllowUnexported(line{})) {
		t.Errorf("without TailOnError: %+v", got)
	}
}

// A 64 MiB line is not held: what Split allocates while reading it stays
// within a few chunks, and the lines after it are all handed over. (Not
// parallel: it measures the process's allocations.)
func TestSplitChunksLongLineMemory(t *testing.T) {
	const huge = 64 << 20
	tail := strings.Repeat("after\n", 1000)
	r := io.MultiReader(testutil.Hole(huge), strings.NewReader("\n"+tail))
	get := func() []byte { return make([]byte, 1<<20) }
	cut, n, end := 0, 0, int64(0)
	var err error
	alloc := testutil.Allocated(func() {
		err = logfile.SplitChunks(r, logfile.ChunkOptions{Get: get}, func(c logfile.Chunk) bool {
			if c.TooLong {
				cut++
				if len(c.Buf) != logfile.DefaultMaxLine || c.End != huge+1 {
					t.Errorf("cut line: %d bytes kept, ends at %d", len(c.Buf), c.End)
				}
			} else {
				n += strings.Count(string(c.Buf), "after\n")
			}
			end = c.End
			return true
		})
	})
	if err != nil || cut != 1 || n != 1000 || end != huge+1+int64(len(tail)) {
		t.Fatalf("err %v, %d cut, %d lines after it, end %d", err, cut, n, end)
	}
	if alloc > 16<<20 {
		t.Errorf("reading a %d MiB line allocated %d MiB", huge>>20, alloc>>20)
	}
}
