// Package linechunk cuts a stream into chunks of whole lines, for readers
// that parse chunks in parallel (report, and the sink's ingest).
package linechunk

import (
	"bytes"
	"io"
)

// Options say how Split cuts.
type Options struct {
	// Get returns a fresh buffer; its length is the chunk size. A line
	// longer than that makes its chunk grow to hold it whole.
	Get func() []byte
	// Start is the offset of r's first byte; chunks carry their offset.
	Start int64
	// KeepTail emits a last line without a newline at the end of r (else
	// it is left unread: it may still be being written).
	KeepTail bool
	// TailOnError also emits a partial last line when r fails.
	TailOnError bool
}

// Split reads r into chunks of whole lines and hands each to emit with the
// offset of its first byte, until r ends or emit returns false. It returns
// r's error, after emitting the whole lines read before it; io.EOF is a
// clean end, while a stream cut short (a truncated gzip file says
// io.ErrUnexpectedEOF) is an error. A chunk is never empty. emit owns the
// buffer it is given.
func Split(r io.Reader, opts Options, emit func(buf []byte, start int64) bool) error {
	buf := opts.Get()
	n, start := 0, opts.Start
	for {
		m, err := Fill(r, buf[n:])
		n += m
		if err != nil {
			last := bytes.LastIndexByte(buf[:n], '\n')
			if err == io.EOF && opts.KeepTail || err != io.EOF && opts.TailOnError {
				last = n - 1
			}
			if last >= 0 {
				emit(buf[:last+1], start)
			}
			if err == io.EOF {
				return nil
			}
			return err
		}
		last := bytes.LastIndexByte(buf[:n], '\n')
		if last < 0 { // one line longer than the buffer: grow it
			bigger := make([]byte, 2*len(buf))
			copy(bigger, buf[:n])
			buf = bigger
			continue
		}
		next := opts.Get()
		if len(next) < n-last-1 {
			next = make([]byte, max(len(next), 2*(n-last-1)))
		}
		rest := copy(next, buf[last+1:n])
		if !emit(buf[:last+1], start) {
			return nil
		}
		start += int64(last + 1)
		buf, n = next, rest
	}
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
