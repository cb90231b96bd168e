package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// maxEmptyReads is how many consecutive (0, nil) reads are tolerated before
// the reader is considered broken, as in bufio.
const maxEmptyReads = 100

// Reader is a Source reading lines from an io.Reader, typically standard
// input: lines each without its "\n" and one trailing "\r", a line longer
// than MaxLine cut (Line.TooLong).
// A last line without a newline is delivered when the input ends. Lines
// carry no Received time.
//
// Reading is done by a helper goroutine so that Run can return as soon as
// ctx is done, even while a Read blocks (standard input cannot be
// interrupted portably); that goroutine then stays blocked until its Read
// returns, and exits without touching anything else.
type Reader struct {
	// MaxLine is the longest line held, in bytes without the newline; 0
	// means logfile.DefaultMaxLine. Set it before Run.
	MaxLine int

	name  string
	r     io.Reader
	up    atomic.Bool
	lines atomic.Uint64
}

var _ Source = (*Reader)(nil)

// NewReader returns a Reader source for r. name identifies it in errors
// ("-" or "stdin", say).
func NewReader(name string, r io.Reader) *Reader {
	return &Reader{name: name, r: r}
}

// Name returns the name given to NewReader.
func (r *Reader) Name() string { return r.name }

// Up reports whether Run is reading: true from the start of Run until the
// input ends, fails or ctx is done.
func (r *Reader) Up() bool { return r.up.Load() }

// Lines returns the number of lines delivered (emit returned nil).
func (r *Reader) Lines() uint64 { return r.lines.Load() }

type readResult struct {
	n   int
	err error
}

// Run delivers the lines of the input. It returns nil at the end of the
// input (standard input ended: there will be no more lines, so the caller
// decides whether that ends the program) and when ctx is done, emit's error
// as is, and a read error wrapped (the unfinished line, if any, is then not
// delivered). Run must be called at most once: the input is consumed.
func (r *Reader) Run(ctx context.Context, emit func(Line) error) error {
	if ctx.Err() != nil {
		return nil
	}
	r.up.Store(true)
	defer r.up.Store(false)

	// The helper reads into the slice it is given and reports; Run only
	// touches the buffer while the helper is idle.
	reqs := make(chan []byte)
	results := make(chan readResult, 1) // never blocks the helper
	go func() {
		for p := range reqs {
			n, err := r.r.Read(p)
			results <- readResult{n, err}
		}
	}()
	defer close(reqs)

	lb := lineBuf{max: r.MaxLine}
	empty := 0
	for {
		select {
		case reqs <- lb.room():
		case <-ctx.Done():
			return nil
		}
		var res readResult
		select {
		case res = <-results:
		case <-ctx.Done():
			return nil
		}
		if res.n > 0 {
			empty = 0
			lb.advance(res.n)
			for {
				line, tooLong, ok := lb.next()
				if !ok {
					break
				}
				if err := r.emit(emit, Line{Data: line, TooLong: tooLong}); err != nil {
					return err
				}
				if ctx.Err() != nil {
					return nil
				}
			}
		}
		switch {
		case errors.Is(res.err, io.EOF):
			if lb.pending() > 0 {
				return r.emit(emit, Line{Data: lb.rest()})
			}
			return nil
		case res.err != nil:
			return fmt.Errorf("source: %s: read: %w", r.name, res.err)
		case res.n == 0:
			if empty++; empty >= maxEmptyReads {
				return fmt.Errorf("source: %s: read: %w", r.name, io.ErrNoProgress)
			}
		}
	}
}

func (r *Reader) emit(emit func(Line) error, line Line) error {
	if err := emit(line); err != nil {
		return err
	}
	r.lines.Add(1)
	return nil
}
