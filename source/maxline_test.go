package source

import (
	"context"
	"io"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

type cutLine struct {
	Text    string
	TooLong bool
}

// lineBuf cuts every line longer than its limit, wherever the reads end,
// and delivers the others whole.
func TestLineBufTooLong(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 3000 {
		var b strings.Builder
		for range rng.IntN(10) {
			b.WriteString(strings.Repeat(string(rune('a'+rng.IntN(26))), rng.IntN(30)))
			if rng.IntN(4) == 0 {
				b.WriteByte('\r')
			}
			b.WriteByte('\n')
		}
		b.WriteString(strings.Repeat("z", rng.IntN(30)))
		in := b.String()
		limit := 1 + rng.IntN(20)
		var want []cutLine
		for _, l := range strings.SplitAfter(in, "\n") {
			text := strings.TrimSuffix(l, "\n")
			switch {
			case text == "" && !strings.HasSuffix(l, "\n"):
			case len(text) > limit:
				want = append(want, cutLine{text[:limit], true})
			default:
				want = append(want, cutLine{strings.TrimSuffix(text, "\r"), false})
			}
		}
		lb := lineBuf{max: limit}
		var got []cutLine
		for rest := in; ; {
			room := lb.room()
			k := copy(room[:min(len(room), 1+rng.IntN(40))], rest)
			lb.advance(k)
			rest = rest[k:]
			for {
				line, tooLong, ok := lb.next()
				if !ok {
					break
				}
				got = append(got, cutLine{string(line), tooLong})
			}
			if rest == "" {
				break
			}
		}
		if lb.pending() > 0 {
			got = append(got, cutLine{string(lb.rest()), false})
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("case %d: %q, limit %d (-want +got):\n%s", i, in, limit, d)
		}
	}
}

// counted counts what a source emits without keeping it.
type counted struct {
	lines, cut, after atomic.Int64
	cutLen            atomic.Int64
}

func (c *counted) emit(l Line) error {
	c.lines.Add(1)
	switch {
	case l.TooLong:
		c.cut.Add(1)
		c.cutLen.Store(int64(len(l.Data)))
	case string(l.Data) == "after":
		c.after.Add(1)
	}
	return nil
}

// A 64 MiB line on standard input is delivered cut, without being held,
// and the lines after it are delivered. (Not parallel: it measures the
// process's allocations.)
func TestReaderLongLine(t *testing.T) {
	const huge = 64 << 20
	var c counted
	alloc := testutil.Allocated(func() {
		src := NewReader("-", io.MultiReader(testutil.Hole(huge), strings.NewReader("\n"+strings.Repeat("after\n", 1000))))
		if err := src.Run(context.Background(), c.emit); err != nil {
			t.Fatal(err)
		}
	})
	if c.lines.Load() != 1001 || c.cut.Load() != 1 || c.after.Load() != 1000 || c.cutLen.Load() != logfile.DefaultMaxLine {
		t.Errorf("%d lines, %d cut (%d bytes kept), %d after it", c.lines.Load(), c.cut.Load(), c.cutLen.Load(), c.after.Load())
	}
	if alloc > 16<<20 {
		t.Errorf("reading a %d MiB line allocated %d MiB", huge>>20, alloc>>20)
	}
}

// The same over TCP, with a smaller limit: a 64 MiB line without a newline
// from a real connection, then lines. (Not parallel: it measures the
// process's allocations.)
func TestTCPLongLine(t *testing.T) {
	const huge = 64 << 20
	addr := testutil.SendOnce(t, io.MultiReader(testutil.Hole(huge), strings.NewReader("\n"+strings.Repeat("after\n", 1000))))
	var c counted
	alloc := testutil.Allocated(func() {
		src := NewTCP(addr, nil)
		src.MaxLine = 64 << 10
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- src.Run(ctx, c.emit) }()
		testutil.WaitFor(t, "the lines after the long one", func() bool { return c.after.Load() == 1000 })
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	if c.lines.Load() != 1001 || c.cut.Load() != 1 || c.cutLen.Load() != 64<<10 {
		t.Errorf("%d lines, %d cut (%d bytes kept), %d after it", c.lines.Load(), c.cut.Load(), c.cutLen.Load(), c.after.Load())
	}
	if alloc > 16<<20 {
		t.Errorf("reading a %d MiB line allocated %d MiB", huge>>20, alloc>>20)
	}
}
