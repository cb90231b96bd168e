package source

import "bytes"

const (
	readSize = 64 << 10 // initial buffer size, and the size it shrinks back to
	minRead  = 16 << 10 // never read into less free space than this
	bigBuf   = 1 << 20  // a buffer grown beyond this is shrunk when possible
)

// lineBuf splits a byte stream into lines of any length: the buffer grows
// as long as a line has no newline yet, and shrinks back once a long line
// is gone. buf[start:end] is data read but not returned yet;
// buf[start:scan] is known to hold no '\n'.
type lineBuf struct {
	buf              []byte
	start, scan, end int
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

// next returns the next complete line without its "\n" and one trailing
// "\r". The line is valid until the next call of room; its capacity is
// capped so that appending to it cannot overwrite the buffer.
func (b *lineBuf) next() ([]byte, bool) {
	i := bytes.IndexByte(b.buf[b.scan:b.end], '\n')
	if i < 0 {
		b.scan = b.end
		return nil, false
	}
	eol := b.scan + i
	line := b.buf[b.start:eol]
	b.start = eol + 1
	b.scan = b.start
	return trimCR(line), true
}

// pending returns the number of bytes of the unfinished line.
func (b *lineBuf) pending() int { return b.end - b.start }

// rest returns the unfinished line (trailing "\r" removed) and empties the
// buffer.
func (b *lineBuf) rest() []byte {
	line := b.buf[b.start:b.end]
	b.reset()
	return trimCR(line)
}

// reset drops pending data.
func (b *lineBuf) reset() { b.start, b.scan, b.end = 0, 0, 0 }

func trimCR(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line[:len(line):len(line)]
}
