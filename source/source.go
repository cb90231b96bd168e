// Package source delivers the lines of a node's log from wherever it is: a
// file followed through rotation (tail/), a TCP stream from a remote
// `storagenode-exporter forward`, or standard input. Every source delivers
// complete lines, in order, and applies backpressure: emit blocks while the
// pipeline is busy (for a file the file is the buffer; for TCP the kernel's
// flow control is).
//
// Memory is bounded by the longest line a source holds (its MaxLine, by
// default logfile.DefaultMaxLine): a longer line is delivered as its first
// MaxLine bytes with Line.TooLong set, and the rest of it, up to the next
// newline, is discarded as it arrives, without being held. A consumer
// never parses such a line: it counts it as unparsed (parser.ErrTooLong).
package source

import (
	"context"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/tail"
)

// Line is one complete log line without its newline. Data is only valid
// during the emit call. Received is when the line arrived (from the
// forwarder's framing for TCP streams that carry it; zero otherwise). Pos
// is where a followed file's line ends in it (zero for streams). TooLong
// says the line was longer than the source's limit: Data holds its first
// MaxLine bytes only, and it is not to be parsed.
type Line struct {
	Data     []byte
	Received time.Time
	Pos      tail.Pos
	TooLong  bool
}

// Source delivers lines until ctx is done or emit fails.
type Source interface {
	// Run delivers complete lines in order. It returns nil when ctx is
	// canceled, emit's error as is, or an error that makes retrying
	// pointless.
	Run(ctx context.Context, emit func(Line) error) error
	// Up reports whether the source is open and readable now.
	Up() bool
}
