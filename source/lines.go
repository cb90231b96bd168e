package source

import (
	"bytes"

	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
)

const (
	readSize = 64 << 10 // initial buffer size, and the size it shrinks back to
	minRead  = 16 << 10 // never read into less free space than this
	bigBuf   = 1 << 20  // a buffer grown beyond this is shrunk when possible
)

// lineBuf splits a byte stream into lines of at most max bytes: the buffer
// grows as long as a line has no newline yet, up to the limit, and shrinks
// back once a long line is gone. A longer line is returned cut to its first
// max bytes and marked; the rest of it, up to the next newline, is
// discarded as it arrives. buf[start:end] is data read but not returned
// yet; buf[start:scan] is known to hold no '\n'.
type lineBuf struct {
	max              int // 0: logfile.DefaultMaxLine
	buf              []byte
	start, scan, end int
	skipping         bool // discarding the rest of a cut line
}

// room returns the free space after the pending data to read into (at
// least minRead bytes); call advance with the number of bytes read.
func (b *lineBuf) room() []byte {
	if b.buf == nil {
		b.buf = make([]byte, readSize)
	}
	pending := b.end - b.start
	if pending == 0 {
		b.start, b.scan, b.end = 0, 0, 0
	}
	switch {
	case len(b.buf) > bigBuf && pending <= readSize/2:
		b.moveTo(make([]byte, readSize))
	case len(b.buf)-b.end < minRead:
		if b.start > 0 {
			b.moveTo(b.buf)
		}
		if len(b.buf)-b.end < minRead {
			b.moveTo(make([]byte, 2*len(b.buf)))
		}
	}
	return b.buf[b.end:]
}

// moveTo moves the pending data to the start of nb and makes nb the buffer.
func (b *lineBuf) moveTo(nb []byte) {
	n := copy(nb, b.buf[b.start:b.end])
	b.scan -= b.start
	b.start, b.end = 0, n
	b.buf = nb
}

// advance records n bytes read into the slice room returned.
func (b *lineBuf) advance(n int) { b.end += n }

func (b *lineBuf) limit() int {
	if b.max <= 0 {
		return logfile.DefaultMaxLine
	}
	return b.max
}

// next returns the next complete line without its "\n" and one trailing
// "\r", or the first max bytes of a line longer than that (tooLong; the
// line's end may not have arrived yet). The line is valid until the next
// call of room; its capacity is capped so that appending to it cannot
// overwrite the buffer.
func (b *lineBuf) next() (line []byte, tooLong, ok bool) {
	if b.skipping {
		i := bytes.IndexByte(b.buf[b.start:b.end], '\n')
		if i < 0 {
			b.start, b.scan = b.end, b.end
			return nil, false, false
		}
		b.skipping = false
		b.start += i + 1
		b.scan = b.start
	}
	i := bytes.IndexByte(b.buf[b.scan:b.end], '\n')
	limit := b.limit()
	if i < 0 {
		b.scan = b.end
		if b.end-b.start <= limit {
			return nil, false, false
		}
		i = -1 // too long, and its end is yet to come
	} else if b.scan+i-b.start <= limit {
		eol := b.scan + i
		line := b.buf[b.start:eol]
		b.start = eol + 1
		b.scan = b.start
		return trimCR(line), false, true
	}
	line = b.buf[b.start : b.start+limit : b.start+limit]
	if i < 0 {
		b.skipping = true
		b.start, b.scan = b.end, b.end
	} else {
		b.start = b.scan + i + 1
		b.scan = b.start
	}
	return line, true, true
}

// pending returns the number of bytes of the unfinished line (0 while the
// rest of a cut line is being discarded).
func (b *lineBuf) pending() int { return b.end - b.start }

// rest returns the unfinished line (trailing "\r" removed) and empties the
// buffer.
func (b *lineBuf) rest() []byte {
	line := b.buf[b.start:b.end]
	b.reset()
	return trimCR(line)
}

// reset drops pending data, and forgets a cut line being discarded.
func (b *lineBuf) reset() { b.start, b.scan, b.end, b.skipping = 0, 0, 0, false }

func trimCR(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line[:len(line):len(line)]
}
