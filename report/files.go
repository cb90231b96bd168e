package report

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
)

// ErrNoLogLines is a file's error when it holds lines but not one of them
// is a storagenode log line: a binary, the wrong file, another program's
// log. An empty file is no error: a log just rotated is empty.
var ErrNoLogLines = errors.New("no storagenode log lines found")

// ReadFiles counts the log files into c, a rotated set oldest first as the
// node wrote it, whatever the order given; each file plain or gzip, told
// by content. The path "-" is stdin when stdin is not nil. A file that
// cannot be read, or holds no storagenode log line (ErrNoLogLines), is
// handed to failed with its error (which does not repeat the path) and the
// others are still counted; ReadFiles returns how many failed.
func (c *Counter) ReadFiles(paths []string, stdin io.Reader, workers int, failed func(path string, err error)) int {
	n := 0
	for _, path := range logfile.SortRotated(paths) {
		if err := c.readFile(path, stdin, workers); err != nil {
			failed(path, err)
			n++
		}
	}
	return n
}

func (c *Counter) readFile(path string, stdin io.Reader, workers int) error {
	var r io.ReadCloser
	var err error
	if path == "-" && stdin != nil {
		r, err = logfile.NewReader(stdin)
	} else {
		r, err = logfile.OpenContent(path)
	}
	if err != nil {
		return unwrapPath(err)
	}
	defer r.Close()
	s := &c.Summary
	lines, blank, unparsed := s.Lines, s.Blank, s.Unparsed
	if err := c.Read(r, workers); err != nil {
		return unwrapPath(err)
	}
	if nonBlank := (s.Lines - lines) - (s.Blank - blank); nonBlank > 0 && s.Unparsed-unparsed == nonBlank {
		return ErrNoLogLines
	}
	return nil
}

// unwrapPath drops the path an *os.PathError repeats, since the caller
// names the file already.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
