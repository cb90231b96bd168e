package logfile

import "fmt"

// DefaultMaxLine is the longest line, in bytes, that a reader of a log
// (the follower, the TCP and stdin sources, report, ingest, forward) holds
// by default. The longest real storagenode lines are errorVerbose stack
// traces of about 500 KB (docs/log-formats.md); a line longer than the
// limit is cut to its first DefaultMaxLine bytes, counted as unparsed with
// the reason "too_long", and the rest of it up to the next newline is
// skipped without being held.
const DefaultMaxLine = 1 << 20

// The bounds of a configured maximum line length (--max-line-length): at
// least a few real lines' worth, and little enough that a reader's buffer
// can always be allocated.
const (
	MinMaxLine = 4 << 10
	MaxMaxLine = 1 << 30
)

// CheckMaxLine returns why n bytes is not a usable maximum line length, or
// "" if it is.
func CheckMaxLine(n int64) string {
	if n < MinMaxLine || n > MaxMaxLine {
		return fmt.Sprintf("%d bytes is outside %d (4 KiB) to %d (1 GiB); the default is %d (1 MiB)", n, MinMaxLine, MaxMaxLine, DefaultMaxLine)
	}
	return ""
}
