// Package tail follows one log file by path, like "tail -F", without losing
// or duplicating lines across rotation, re-creation or truncation.
//
// # Model
//
// A [Follower] follows exactly one path and hands complete lines to an emit
// callback, in file order. A line is the bytes before a "\n"; the "\n" and
// one trailing "\r" are removed. Empty lines are emitted too. A partial
// last line (no "\n" yet) is held back until its newline arrives; it is only
// emitted without a newline when the file it belongs to is left behind (see
// rotation and truncation below), so that no byte is ever dropped silently.
//
// Line length: a line of up to Config.MaxLine bytes (its "\r" included;
// internal/logfile.DefaultMaxLine when 0) is emitted whole. A longer one is
// emitted as its first MaxLine bytes with Pos.TooLong set, and the rest of
// it, up to its newline, is read and dropped without being held, so the
// buffer never holds much more than MaxLine plus one read whatever the file
// holds (a line of a gigabyte, a hole of NULs). The cut line is emitted when
// its newline arrives (or when its file is left behind, as a partial line
// is), so its Pos.End is exact, like every other line's.
//
// Start: by default reading starts at the end of the file that is at the path
// when Run starts, so old content is not emitted (if that file ends in an
// unfinished line, reading starts at the beginning of that line so it is
// emitted whole once finished). With Config.FromBeginning it starts at offset
// 0. If no file exists yet, the follower waits for one and reads it from
// offset 0, because all of its content is new.
//
// Whenever the open file is read to its end (EOF), the follower stats the
// path and compares it with the open file (os.SameFile):
//
//   - same file, size >= read offset: nothing to do; wait for the next poll
//     (the follower never spins while idle).
//   - same file, size < read offset: the file was truncated (copytruncate).
//     The held partial line, if any, is emitted as a line, and reading
//     restarts at offset 0. Whatever is in the file at that moment is taken
//     as new content.
//   - a different file at the path (rename rotation, re-creation): the new
//     file is opened first; then the old file, still open, is read to its
//     end (lines a writer appended to it through its own descriptor in the
//     meantime included), its partial last line is emitted as a line, it is
//     closed, and the new file is read from offset 0. If the new file cannot
//     be opened yet, the old one stays open and followed.
//   - something other than a regular file at the path (a directory, a
//     FIFO, a device, a socket): it is never opened for reading (a FIFO
//     without a writer would block, a device would be read forever); the
//     old file is read to its end, its partial last line emitted, and it
//     is closed, as at rotation. The follower logs a WARN once, Stats.Err
//     matches [ErrNotRegular] and Stats.Open is false (the exporter's
//     storj_log_source_up is 0), and it checks the path at every poll
//     until a regular file is there again, which it reads from offset 0.
//   - nothing at the path (deleted, or renamed away and not yet re-created):
//     the open file stays open and keeps being read (a writer may still
//     append to it), and the follower waits for the path to come back, then
//     proceeds as for a different file.
//
// Errors (permission denied on open, stat or read, and others) never end Run:
// they are logged once when they start (and once when they end), counted in
// Stats.Errors, and the operation is retried at the next poll. A read error
// does not keep the follower on its file: the path is still checked after
// it, so a new file there is followed. A file that does not exist is logged
// once too, at Warn, and waited for. While no file can be read, Stats.Err
// says why.
//
// Shutdown: no call of the follower can block on the file system beyond a
// regular file's read (the path is opened only after a stat shows a regular
// file, and without blocking on Unix, so a FIFO swapped in between does not
// hang the open), and Run checks ctx between reads, so cancelling ends Run
// promptly in every state.
//
// On Windows the file is opened sharing reading, writing and deleting
// (package internal/logfile), so that holding it open never stops the node
// or a rotator from renaming or deleting it.
//
// Waiting is done by a [Poller]. The default one ([NewPoller]) watches the
// file's directory with fsnotify, so that writes, creations and renames wake
// the follower at once, and also wakes on a ticker (1s by default) so that
// filesystems without inotify (NFS, SMB, some container mounts) still work.
// All the default pollers of a process share one fsnotify watcher (one
// inotify instance), whatever the number of files followed.
//
// Known limits, inherent to the rotation methods rather than to this
// package: with copytruncate, lines written between the copy and the
// truncation are lost by logrotate itself, and a truncation followed by
// more new data than was read before it, all between two polls, looks like
// plain growth; with rename rotation, lines a writer appends to the old file
// after the follower has drained it and switched are not seen, and a file
// that is rotated away again before the follower ever opened it (two
// rotations within one poll) is not seen at all.
package tail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
)

// DefaultPollInterval is the ticker interval of the default poller when
// Config.PollInterval is 0.
const DefaultPollInterval = time.Second

// ErrNotRegular is matched by Stats.Err while the path holds something other
// than a regular file (a directory, a FIFO, a device, a socket).
var ErrNotRegular = errors.New("not a regular file")

// notRegular returns the error for a path that holds fi, not a regular
// file: "PATH is a directory, not a regular file".
func notRegular(path string, fi fs.FileInfo) error {
	m := fi.Mode()
	kind := "something"
	switch {
	case m.IsDir():
		kind = "a directory"
	case m&fs.ModeNamedPipe != 0:
		kind = "a FIFO (named pipe)"
	case m&fs.ModeCharDevice != 0:
		kind = "a character device"
	case m&fs.ModeDevice != 0:
		kind = "a block device"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	}
	return fmt.Errorf("%s is %s, %w", path, kind, ErrNotRegular)
}

const (
	initBuf  = 4 << 10  // a follower's buffer at first: what an idle log needs
	readSize = 64 << 10 // a busy log's buffer, and the size a big one shrinks back to
	minRead  = 16 << 10 // never issue a read into less free space than this (or half a smaller buffer)
	bigBuf   = 1 << 20  // a buffer grown beyond this is shrunk when possible
)

// Poller tells the follower when to look at the file again.
//
// Wait blocks until something may have changed (or some time has passed) and
// returns nil, or returns an error when ctx is done. It is only called from
// the goroutine running [Follower.Run], after the follower has read all
// available data, so an implementation may return spuriously but should not
// return immediately forever.
type Poller interface {
	Wait(ctx context.Context) error
}

// Config configures a Follower.
type Config struct {
	Path          string
	FromBeginning bool
	Poller        Poller        // nil: the production fsnotify+ticker poller
	PollInterval  time.Duration // ticker interval for the default poller; 0 → 1s
	Logger        *slog.Logger  // nil → discard
	// MaxLine is the longest line emitted whole, in bytes; a longer one is
	// cut (Pos.TooLong). 0 → logfile.DefaultMaxLine.
	MaxLine int
}

// Stats is a snapshot of a Follower's counters.
type Stats struct {
	Lines       uint64 // lines emitted (emit returned nil)
	Opens       uint64 // files opened
	Rotations   uint64 // switches to a different file at the path
	Truncations uint64 // truncations detected
	Errors      uint64 // error episodes (each one logged once)
	Offset      int64  // bytes read from the current file, a held partial line included
	// Open is true while a file is open and readable. A file that was
	// removed or renamed away stays open (and read) until another file
	// appears at the path.
	Open bool
	// Err is the last problem with the file while there is one: an error
	// matching fs.ErrNotExist while the file does not exist, else the
	// failed open, stat or read (fs.ErrPermission, ...). It is nil while
	// the file is followed normally.
	Err error
}

// file is what the follower needs from an open file; *os.File implements
// it. Tests replace the open function to inject failures.
type file interface {
	io.Reader
	io.ReaderAt
	io.Seeker
	io.Closer
	Stat() (fs.FileInfo, error)
}

// Follower follows one log file. Create it with New.
type Follower struct {
	cfg Config
	log *slog.Logger

	// openFile and stat are openNoBlock (logfile.Open, without blocking
	// on a FIFO) and os.Stat, replaceable by tests.
	openFile func(name string) (file, error)
	stat     func(name string) (fs.FileInfo, error)

	lines, opens, rotations, truncations, errs atomic.Uint64
	offset                                     atomic.Int64
	open                                       atomic.Bool
	problem                                    atomic.Pointer[error] // Stats.Err; nil: none
}

// New returns a Follower for cfg. It does not touch the file system; Run
// does.
func New(cfg Config) *Follower {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.MaxLine <= 0 {
		cfg.MaxLine = logfile.DefaultMaxLine
	}
	return &Follower{
		cfg: cfg,
		log: logger.With("path", cfg.Path),
		openFile: func(name string) (file, error) {
			f, err := openNoBlock(name)
			if err != nil {
				return nil, err
			}
			return f, nil
		},
		stat: os.Stat,
	}
}

// Stats returns a snapshot of the counters. It is safe to call concurrently
// with Run.
func (f *Follower) Stats() Stats {
	return Stats{
		Lines:       f.lines.Load(),
		Opens:       f.opens.Load(),
		Rotations:   f.rotations.Load(),
		Truncations: f.truncations.Load(),
		Errors:      f.errs.Load(),
		Offset:      f.offset.Load(),
		Open:        f.open.Load(),
		Err:         f.err(),
	}
}

func (f *Follower) err() error {
	if p := f.problem.Load(); p != nil {
		return *p
	}
	return nil
}

// Run follows the file and calls emit for every line until ctx is done or
// emit returns an error.
//
// When ctx is done Run stops at a line boundary, closes its files and
// returns nil. When emit returns an error, Run returns that error as is. If
// the Poller's Wait fails while ctx is not done, Run returns that error
// wrapped. File system errors do not end Run (see the package doc).
//
// The line passed to emit is only valid during the call; emit must copy it
// to keep it. emit may block: the follower simply stops reading meanwhile
// (the file is the buffer). Run must not be called concurrently on the same
// Follower; calling it again after it returned starts afresh (counters keep
// accumulating).
func (f *Follower) Run(ctx context.Context, emit func(line []byte) error) error {
	return f.RunPos(ctx, func(line []byte, _ Pos) error { return emit(line) })
}

// Pos is where a line ends in the file it was read from, for a reader that
// keeps its own record of how far it got (the raw-event sink).
type Pos struct {
	// Epoch numbers the files followed, from 1: it changes with each file
	// opened (the start, rotation, re-creation) and each truncation, so
	// that the content at End is another log's.
	Epoch uint64
	// Start is the offset of the line's first byte, End the offset just
	// after its newline (after its last byte for a last line emitted
	// without one).
	Start, End int64
	// File reads the file the line came from (its identity: its first
	// bytes), and Info describes it; both only during the emit call.
	File io.ReaderAt
	Info fs.FileInfo
	// TooLong is set on a line longer than Config.MaxLine: the line given
	// is its first MaxLine bytes, and [Start, End) still spans all of it.
	TooLong bool
}

// RunPos is Run with the position of each line.
func (f *Follower) RunPos(ctx context.Context, emit func(line []byte, pos Pos) error) error {
	poller := f.cfg.Poller
	if poller == nil {
		p := NewPoller(f.cfg.Path, f.cfg.PollInterval, f.log)
		defer p.Close()
		poller = p
	}
	r := &runner{
		f:    f,
		ctx:  ctx,
		done: ctx.Done(),
		emit: emit,
		max:  f.cfg.MaxLine,
		buf:  make([]byte, initBuf),
	}
	defer r.closeFile()

	// The file at the path now, if any, is the one that starts at its end.
	if !f.cfg.FromBeginning {
		if fi, err := f.stat(f.cfg.Path); err == nil && fi.Mode().IsRegular() {
			r.startInfo = fi
		}
	}
	for {
		if ctx.Err() != nil {
			return nil
		}
		if err := r.cycle(); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		if err := poller.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("tail: poller: %w", err)
		}
	}
}

// runner is the state of one Run call.
type runner struct {
	f     *Follower
	ctx   context.Context
	done  <-chan struct{}
	emit  func([]byte, Pos) error
	epoch uint64 // Pos.Epoch of the open file

	file      file        // the open file, nil if none
	info      fs.FileInfo // file's identity, from when it was opened
	offset    int64       // read position in file
	startInfo fs.FileInfo // the file to start at the end of; nil once used

	// buf[start:end] is data read but not emitted yet (at most one partial
	// line once split has run); buf[start:scan] is known to hold no '\n'.
	// While cut is set, buf[start:scan] is the first max bytes of a line
	// too long to hold, which started at offset cutStart, and the bytes
	// read after them are dropped up to the line's newline.
	buf              []byte
	start, scan, end int
	full             bool // the last read filled the free space: more may wait
	max              int
	cut              bool
	cutStart         int64

	state      string // for logging: "", "ok", "missing", "gone", or an error
	stateIsErr bool
}

// cycle reads everything that is available, handling rotation and
// truncation, and returns when it is time to wait for the next poll. It
// returns only emit's errors.
func (r *runner) cycle() error {
	path := r.f.cfg.Path
	if r.file == nil {
		fh, fi, err := r.openPath()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				r.f.problem.Store(&err)
				r.setState("missing", false, func() {
					r.f.log.Warn("log file does not exist yet; waiting for it to appear")
				})
				return nil
			}
			r.fail("open", err)
			return nil
		}
		var off int64
		if r.startInfo != nil && os.SameFile(fi, r.startInfo) {
			off, err = lastLineStart(fh, fi.Size(), r.done)
			if err == nil {
				_, err = fh.Seek(off, io.SeekStart)
			}
			if err != nil {
				fh.Close()
				if r.ctx.Err() != nil {
					return nil
				}
				r.fail("seek", err)
				return nil
			}
		}
		r.startInfo = nil
		r.adopt(fh, fi, off)
	}

	for {
		ok, err := r.drain()
		if err != nil || r.ctx.Err() != nil {
			return err
		}
		// After a read error (logged by drain) the path is still checked:
		// another file may have taken its place.
		fi, err := r.f.stat(path)
		switch {
		case err == nil && os.SameFile(fi, r.info):
			if !ok {
				return nil // retry the read at the next poll
			}
			if fi.Size() >= r.offset {
				r.setState("ok", false, nil)
				return nil
			}
			r.f.truncations.Add(1)
			r.f.log.Info("log file truncated; reading it again from the start",
				"size", fi.Size(), "offset", r.offset)
			if err := r.flushPartial(); err != nil {
				return err
			}
			if _, err := r.file.Seek(0, io.SeekStart); err != nil {
				// Cannot happen on a regular file; reopen to be safe.
				r.closeFile()
				r.fail("seek", err)
				return nil
			}
			r.setOffset(0)
			r.epoch++

		case err == nil && !fi.Mode().IsRegular():
			// Not a file to follow: leave the old one, as at rotation.
			if _, err := r.drain(); err != nil || r.ctx.Err() != nil {
				return err
			}
			if err := r.flushPartial(); err != nil {
				return err
			}
			r.closeFile()
			r.fail("open", notRegular(path, fi))
			return nil

		case err == nil: // a different file is at the path
			fh, nfi, err := r.openPath()
			if err != nil {
				if !errors.Is(err, fs.ErrNotExist) { // else: gone again, retry later
					r.fail("open", err)
				}
				return nil
			}
			// Drain the old file: a writer may have appended to it until
			// it reopened the path.
			if _, err := r.drain(); err != nil || r.ctx.Err() != nil {
				fh.Close()
				return err
			}
			if err := r.flushPartial(); err != nil {
				fh.Close()
				return err
			}
			old := r.offset
			r.closeFile()
			r.f.rotations.Add(1)
			r.f.log.Info("log file rotated; old file read to its end, following the new file",
				"old_file_bytes", old)
			r.adopt(fh, nfi, 0)

		case errors.Is(err, fs.ErrNotExist):
			if !ok {
				return nil // the read error stays the state
			}
			r.setState("gone", false, func() {
				r.f.log.Info("log file was removed or renamed; still reading the open file until a new one appears")
			})
			return nil

		default:
			r.fail("stat", err)
			return nil
		}
	}
}

// openPath opens the path and stats the open file. Anything but a regular
// file is refused (ErrNotRegular), before opening it when a stat of the
// path shows it already.
func (r *runner) openPath() (file, fs.FileInfo, error) {
	path := r.f.cfg.Path
	if fi, err := r.f.stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, nil, notRegular(path, fi)
	}
	fh, err := r.f.openFile(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := fh.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = notRegular(path, fi) // swapped in since the stat
	}
	if err != nil {
		fh.Close()
		return nil, nil, err
	}
	return fh, fi, nil
}

// adopt makes fh, positioned at off, the followed file.
func (r *runner) adopt(fh file, fi fs.FileInfo, off int64) {
	r.epoch++
	r.file, r.info = fh, fi
	r.start, r.scan, r.end, r.cut = 0, 0, 0, false
	r.setOffset(off)
	r.f.opens.Add(1)
	r.f.open.Store(true)
	r.f.problem.Store(nil)
	r.f.log.Info("following log file", "offset", off)
}

func (r *runner) closeFile() {
	if r.file != nil {
		r.file.Close()
		r.file, r.info = nil, nil
	}
	r.f.open.Store(false)
}

func (r *runner) setOffset(off int64) {
	r.offset = off
	r.f.offset.Store(off)
}

// drain reads the open file to its end, emitting complete lines. ok is false
// if it stopped early: on a read error (logged) or because ctx is done. err
// is emit's error.
func (r *runner) drain() (ok bool, err error) {
	for {
		select {
		case <-r.done:
			return false, nil
		default:
		}
		r.makeRoom()
		free := len(r.buf) - r.end
		n, rerr := r.file.Read(r.buf[r.end:])
		r.full = n == free
		if n > 0 {
			r.end += n
			r.setOffset(r.offset + int64(n))
			if err := r.split(); err != nil {
				return false, err
			}
		}
		switch {
		case rerr == io.EOF:
			r.f.open.Store(true)
			return true, nil
		case rerr != nil:
			r.f.open.Store(false)
			r.fail("read", rerr)
			return false, nil
		}
	}
}

// makeRoom ensures there are at least minRead free bytes after r.end (half
// the buffer while it is smaller than that), compacting, growing or
// shrinking the buffer as needed. The buffer starts small (initBuf, so a
// thousand idle followers hold 4 MB, not 64) and doubles up to readSize
// while reads fill it; it grows to at most max+readSize bytes: split leaves
// at most max pending.
func (r *runner) makeRoom() {
	pending := r.end - r.start
	if pending == 0 {
		r.start, r.scan, r.end = 0, 0, 0
	}
	if len(r.buf) > bigBuf && pending <= readSize/2 {
		r.moveTo(make([]byte, readSize))
		return
	}
	if r.full && len(r.buf) < readSize {
		r.moveTo(make([]byte, 2*len(r.buf))) // more is waiting: read more at once
		return
	}
	want := min(minRead, len(r.buf)/2)
	if len(r.buf)-r.end >= want {
		return
	}
	if r.start > 0 {
		r.moveTo(r.buf)
	}
	if len(r.buf)-r.end < want {
		size := 2 * len(r.buf)
		if size > r.max+readSize {
			size = max(r.max+readSize, r.end+minRead)
		}
		r.moveTo(make([]byte, size))
	}
}

// moveTo moves the pending data to the start of nb and makes nb the buffer.
func (r *runner) moveTo(nb []byte) {
	n := copy(nb, r.buf[r.start:r.end])
	r.scan -= r.start
	r.start, r.end = 0, n
	r.buf = nb
}

// split emits the complete lines in the buffer, and keeps only the first
// max bytes of a line longer than that.
func (r *runner) split() error {
	for {
		i := bytes.IndexByte(r.buf[r.scan:r.end], '\n')
		if i < 0 {
			switch {
			case r.cut:
				r.end = r.scan // drop the middle of a line too long
			case r.end-r.start > r.max:
				r.cut = true
				r.cutStart = r.offset - int64(r.end-r.start)
				r.end = r.start + r.max
			}
			r.scan = r.end
			return nil
		}
		eol := r.scan + i
		line := r.buf[r.start:eol]
		from := r.offset - int64(r.end-r.start)
		tooLong := r.cut || len(line) > r.max
		if r.cut {
			line, from = r.buf[r.start:r.scan], r.cutStart
		} else if tooLong {
			line = line[:r.max]
		}
		r.start, r.cut = eol+1, false
		r.scan = r.start
		if err := r.emitLine(line, from, r.offset-int64(r.end-r.start), tooLong); err != nil {
			return err
		}
		select {
		case <-r.done:
			return nil // drain notices too; stop at this line boundary
		default:
		}
	}
}

// flushPartial emits the held partial line, if any, as a line.
func (r *runner) flushPartial() error {
	if r.start == r.end {
		return nil
	}
	line := r.buf[r.start:r.end]
	from, tooLong := r.offset-int64(len(line)), r.cut
	if tooLong {
		from = r.cutStart
	}
	r.start, r.scan, r.end, r.cut = 0, 0, 0, false
	return r.emitLine(line, from, r.offset, tooLong)
}

func (r *runner) emitLine(line []byte, start, end int64, tooLong bool) error {
	if n := len(line); n > 0 && line[n-1] == '\r' && !tooLong {
		line = line[:n-1]
	}
	// Cap the slice so that an append in emit cannot scribble on the buffer.
	if err := r.emit(line[:len(line):len(line)], Pos{Epoch: r.epoch, Start: start, End: end, File: r.file, Info: r.info, TooLong: tooLong}); err != nil {
		return err
	}
	r.f.lines.Add(1)
	return nil
}

// fail records an error: it is logged and counted when it differs from the
// current state, so a persistent error is reported once, not at every poll.
func (r *runner) fail(op string, err error) {
	r.f.problem.Store(&err)
	key := op + ": " + err.Error()
	r.setState(key, true, func() {
		r.f.errs.Add(1)
		msg := "cannot " + op + " log file; will retry"
		if errors.Is(err, ErrNotRegular) {
			msg = "log path is not a regular file; not reading it, checking it at every poll until a regular file is there"
		}
		if errors.Is(err, fs.ErrPermission) {
			msg += " (permission denied: the exporter's user needs read access to the file and search access to its directory)"
		}
		r.f.log.Warn(msg, "err", err)
	})
}

// setState runs logIt when the state changes, and logs a recovery when an
// error state gives way to normal following.
func (r *runner) setState(key string, isErr bool, logIt func()) {
	if key == "ok" {
		r.f.problem.Store(nil)
	}
	if key == r.state {
		return
	}
	if r.stateIsErr && key == "ok" {
		r.f.log.Info("log file accessible again", "after", r.state)
	}
	r.state, r.stateIsErr = key, isErr
	if logIt != nil {
		logIt()
	}
}

// lastLineStart returns the offset just after the last '\n' before size, or
// 0 if there is none: where the unfinished last line of the file starts (or
// size if the file ends with a newline). It gives up with ctx's error when
// done is closed: a file that ends in a line of gigabytes takes a while.
func lastLineStart(r io.ReaderAt, size int64, done <-chan struct{}) (int64, error) {
	buf := make([]byte, min(size, readSize))
	for end := size; end > 0; {
		select {
		case <-done:
			return 0, context.Canceled
		default:
		}
		n := min(int64(len(buf)), end)
		chunk := buf[:n]
		if _, err := r.ReadAt(chunk, end-n); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			return end - n + int64(i) + 1, nil
		}
		end -= n
	}
	return 0, nil
}
