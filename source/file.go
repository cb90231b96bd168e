package source

import (
	"context"
	"log/slog"

	"github.com/storagenode-exporter/storagenode-exporter/tail"
)

// File is a Source that follows a log file by path through rotation,
// copytruncate and truncation, with the model described in package tail.
// Lines carry no Received time, and their position in the file (Pos). A
// line longer than tail.Config.MaxLine is delivered cut, with TooLong set
// (as its Pos.TooLong is).
type File struct {
	follower *tail.Follower
}

var _ Source = (*File)(nil)

// NewFile returns a File source for path with the production poller
// (fsnotify plus a 1 s ticker). fromBeginning reads the file present at
// start from offset 0 instead of from its end.
func NewFile(path string, fromBeginning bool, logger *slog.Logger) *File {
	return NewFileConfig(tail.Config{Path: path, FromBeginning: fromBeginning, Logger: logger})
}

// NewFileConfig returns a File source for any tail configuration, such as a
// test's Poller or another poll interval.
func NewFileConfig(cfg tail.Config) *File {
	return &File{follower: tail.New(cfg)}
}

// Run follows the file until ctx is done (it then returns nil) or emit
// fails (it returns emit's error as is). File system errors do not end it:
// they are logged and retried. The file is the buffer: while emit blocks,
// nothing is read.
func (f *File) Run(ctx context.Context, emit func(Line) error) error {
	return f.follower.RunPos(ctx, func(b []byte, pos tail.Pos) error {
		return emit(Line{Data: b, Pos: pos, TooLong: pos.TooLong})
	})
}

// Up reports whether a file is open and readable.
func (f *File) Up() bool { return f.follower.Stats().Open }

// Stats returns the follower's counters. It is safe to call concurrently
// with Run.
func (f *File) Stats() tail.Stats { return f.follower.Stats() }
