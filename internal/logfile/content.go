package logfile

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
)

// A log's content is read the same way by report, ingest and serve: plain
// or gzip-compressed, told by the content and not by the name (logrotate's
// node.log.2 is compressed without a .gz when delaycompress meets
// compresscmd, and copies get renamed), rotated sets oldest first
// (SortRotated), and cut into chunks of whole lines (SplitChunks, chunk.go).

// gzipMagic are the first bytes of every gzip stream (RFC 1952).
var gzipMagic = [2]byte{0x1f, 0x8b}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == gzipMagic[0] && b[1] == gzipMagic[1] }

// Compressed tells whether the file behind f starts like gzip. It reads
// its first two bytes with ReadAt, so f's offset does not move.
func Compressed(f io.ReaderAt) bool {
	var b [2]byte
	n, _ := f.ReadAt(b[:], 0)
	return isGzip(b[:n])
}

// NewReader returns r's content: decompressed when r starts like gzip, as
// is otherwise. It serves streams (standard input), where nothing can be
// read twice. Closing the result does not close r.
func NewReader(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, err := br.Peek(2); err == nil && isGzip(magic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return readCloser{zr, zr.Close}, nil
	}
	return readCloser{br, func() error { return nil }}, nil
}

// OpenContent opens a log file (through Open) for its content, plain or
// gzip-compressed. A directory is an error. Closing the result closes the
// file.
func OpenContent(path string) (io.ReadCloser, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory", path)
	}
	r, err := NewReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return readCloser{r, func() error { r.Close(); return f.Close() }}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

var _ io.ReaderAt = (*os.File)(nil)
