package logfile

// Chunks of whole lines, for readers that parse chunks in parallel (report,
// and the sink's ingest). Memory is bounded by the line limit
// (ChunkOptions.MaxLine): a line longer than that is handed over as a chunk
// of its own, marked TooLong, holding only its first MaxLine bytes; the
// rest of it, up to the next newline, is read and discarded without being
// held.

import (
	"bytes"
	"io"
)

// ChunkOptions say how SplitChunks cuts.
type ChunkOptions struct {
	// Get returns a fresh buffer; its length is the chunk size. A line
	// longer than that (and at most MaxLine) makes its chunk grow to hold
	// it whole.
	Get func() []byte
	// Start is the offset of r's first byte; chunks carry their offset.
	Start int64
	// MaxLine is the longest line held, in bytes without the newline;
	// 0 means DefaultMaxLine.
	MaxLine int
	// KeepTail emits a last line without a newline at the end of r (else
	// it is left unread: it may still be being written).
	KeepTail bool
	// TailOnError also emits a partial last line when r fails.
	TailOnError bool
}

// Chunk is a run of whole lines of r, or one line that was too long.
type Chunk struct {
	// Buf holds whole lines, each ending in "\n" but perhaps the last one
	// at the end of r. In a TooLong chunk it holds the first MaxLine
	// bytes of one line, without its newline, for a consumer to show; it
	// is never to be parsed as a line.
	Buf []byte
	// Start is the offset of the chunk's first byte in r (plus
	// ChunkOptions.Start); End is the offset after its last one:
	// Start+len(Buf), but for a TooLong chunk after the newline that ends
	// the line (or the end of r).
	Start, End int64
	// TooLong says the chunk is one line longer than MaxLine.
	TooLong bool
}

// SplitChunks reads r into chunks of whole lines and hands each to emit,
// until r ends or emit returns false. A line longer than opts.MaxLine is
// handed over as a TooLong chunk of its own, in its place in the order. It
// returns r's error, after emitting the whole lines read before it; io.EOF
// is a clean end, while a stream cut short (a truncated gzip file says
// io.ErrUnexpectedEOF) is an error. A chunk other than a TooLong one is
// never empty. emit owns the chunk's buffer.
func SplitChunks(r io.Reader, opts ChunkOptions, emit func(Chunk) bool) error {
	limit := opts.MaxLine
	if limit <= 0 {
		limit = DefaultMaxLine
	}
	s := splitter{opts: opts, limit: limit, emit: emit, buf: opts.Get(), start: opts.Start}
	for {
		m, err := Fill(r, s.buf[s.n:])
		s.n += m
		if !s.cutLong() {
			return nil
		}
		if err != nil {
			tail := err == io.EOF && opts.KeepTail || err != io.EOF && opts.TailOnError
			if s.skipping {
				if tail {
					emit(s.cut)
				}
			} else {
				last := bytes.LastIndexByte(s.buf[:s.n], '\n')
				if tail {
					last = s.n - 1
				}
				if last >= 0 {
					emit(Chunk{Buf: s.buf[:last+1], Start: s.start, End: s.start + int64(last+1)})
				}
			}
			if err == io.EOF {
				return nil
			}
			return err
		}
		if s.skipping {
			continue
		}
		last := bytes.LastIndexByte(s.buf[:s.n], '\n')
		if last < 0 { // one line longer than the buffer, not than the limit: grow it
			bigger := make([]byte, min(2*len(s.buf), limit+1))
			copy(bigger, s.buf[:s.n])
			s.buf = bigger
			continue
		}
		if !s.emitLines(last+1, s.n) {
			return nil
		}
	}
}

type splitter struct {
	opts  ChunkOptions
	limit int
	emit  func(Chunk) bool
	buf   []byte
	n     int   // bytes of buf read and not emitted
	start int64 // offset of buf[0]
	// skipping: the rest of cut, a line longer than the limit, is being
	// discarded; cut.End grows with it until its newline.
	skipping bool
	cut      Chunk
}

// cutLong hands over the lines of buf[:n] that are longer than the limit
// (with the whole lines before each), and discards the rest of a cut line
// up to its newline. It returns false when emit said stop.
func (s *splitter) cutLong() bool {
	for {
		if s.skipping {
			i := bytes.IndexByte(s.buf[:s.n], '\n')
			if i < 0 {
				s.cut.End += int64(s.n)
				s.start += int64(s.n)
				s.n = 0
				return true
			}
			s.cut.End += int64(i + 1)
			s.skipping = false
			if !s.emit(s.cut) {
				return false
			}
			s.start += int64(i + 1)
			s.n = copy(s.buf, s.buf[i+1:s.n])
		}
		if s.n <= s.limit { // no line in it can be longer than the limit
			return true
		}
		from, eol := s.longLine()
		if from < 0 {
			return true
		}
		if from > 0 && !s.emitLines(from, s.n) {
			return false
		}
		// the long line now starts buf
		s.cut = Chunk{Buf: bytes.Clone(s.buf[:s.limit]), Start: s.start, End: s.start, TooLong: true}
		s.skipping = true
		if eol < 0 {
			continue // its newline is yet to come: the loop discards buf
		}
		eol -= from
		s.cut.End += int64(eol)
		s.start += int64(eol)
		s.n = copy(s.buf, s.buf[eol:s.n])
	}
}

// longLine returns the offset of the first line of buf[:n] longer than the
// limit, and of its newline (-1 if it is not in buf); from is -1 when no
// line is too long (the unfinished last one included).
func (s *splitter) longLine() (from, eol int) {
	b := s.buf[:s.n]
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			if len(b)-i > s.limit {
				return i, -1
			}
			return -1, -1
		}
		if j > s.limit {
			return i, i + j
		}
		i += j + 1
	}
	return -1, -1
}

// emitLines emits buf[:k] (whole lines) and moves buf[k:n] to the start of
// a fresh buffer. It returns false when emit said stop.
func (s *splitter) emitLines(k, n int) bool {
	next := s.opts.Get()
	if len(next) < n-k {
		next = make([]byte, max(len(next), 2*(n-k)))
	}
	rest := copy(next, s.buf[k:n])
	if !s.emit(Chunk{Buf: s.buf[:k], Start: s.start, End: s.start + int64(k)}) {
		return false
	}
	s.start += int64(k)
	s.buf, s.n = next, rest
	return true
}

// Fill reads into b until it is full or r fails; unlike io.ReadFull it
// returns io.EOF only for a clean end.
func Fill(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
