package tail

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// WatchPoller is the production Poller: it wakes when fsnotify reports a
// change to the followed path in its directory (write, create, rename,
// remove), and in any case at every tick of a ticker, so that file systems
// without inotify (NFS, SMB) are still followed, only with more latency.
//
// Watching the directory rather than the file is what makes the creation of
// a new file at the path, or a rename onto it, visible.
type WatchPoller struct {
	dir, base string
	logger    *slog.Logger
	ticker    *time.Ticker
	watcher   *fsnotify.Watcher // nil: ticker only
	watching  bool              // dir is watched
	gap       time.Duration     // least time between two wake-ups by events
	woke      time.Time         // last wake-up
}

// WakeGap is the least time between two wake-ups caused by file events. A
// node writes every log line on its own, so waking at each write would cost
// a follower a few hundred microseconds of CPU per line (about 6 % of a core
// at 200 lines/s); waking at most ten times a second costs well under 1 %
// and delays a line by at most 100 ms, nothing next to a scrape interval.
const WakeGap = 100 * time.Millisecond

// NewPoller returns a WatchPoller for path that ticks every interval (0 →
// DefaultPollInterval). It never fails: if fsnotify cannot be set up it logs
// so once and relies on the ticker alone (and if only the directory cannot
// be watched yet, it retries at every tick). Close it when done.
func NewPoller(path string, interval time.Duration, logger *slog.Logger) *WatchPoller {
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	path = filepath.Clean(path)
	p := &WatchPoller{
		dir:    filepath.Dir(path),
		base:   filepath.Base(path),
		logger: logger,
		ticker: time.NewTicker(interval),
		gap:    WakeGap,
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		logger.Info("file notifications unavailable; polling only", "interval", interval, "err", err)
		return p
	}
	p.watcher = w
	if err := w.Add(p.dir); err != nil {
		logger.Info("cannot watch the log directory; polling until it can be watched",
			"dir", p.dir, "interval", interval, "err", err)
	} else {
		p.watching = true
		logger.Debug("watching the log directory", "dir", p.dir, "interval", interval)
	}
	return p
}

// Wait blocks until the followed path may have changed, the ticker ticks, or
// ctx is done (then it returns ctx.Err()).
func (p *WatchPoller) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var events <-chan fsnotify.Event
	var errs <-chan error
	if p.watcher != nil {
		events, errs = p.watcher.Events, p.watcher.Errors
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()

		case <-p.ticker.C:
			if p.watcher != nil && !p.watching {
				if err := p.watcher.Add(p.dir); err == nil {
					p.watching = true
					p.logger.Info("watching the log directory", "dir", p.dir)
				}
			}
			p.woke = time.Now()
			return nil

		case ev, ok := <-events:
			if !ok { // closed
				return nil
			}
			if !p.relevant(ev) {
				continue // another file in the directory
			}
			if wait := p.gap - time.Since(p.woke); wait > 0 {
				t := time.NewTimer(wait) // let more writes gather: one read for all
				select {
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				case <-t.C:
				}
			}
			p.drainEvents()
			p.woke = time.Now()
			return nil

		case err, ok := <-errs:
			if !ok {
				return nil
			}
			// E.g. an event queue overflow: events may have been lost, so
			// wake up and look.
			p.logger.Debug("file notification error", "err", err)
			return nil
		}
	}
}

// relevant reports whether ev concerns the followed path or its directory.
func (p *WatchPoller) relevant(ev fsnotify.Event) bool {
	if filepath.Clean(ev.Name) == p.dir {
		if ev.Has(fsnotify.Remove|fsnotify.Rename) && p.watching {
			// The directory itself went away and fsnotify dropped the
			// watch: rely on the ticker, and try to watch it again at each
			// tick.
			_ = p.watcher.Remove(p.dir)
			p.watching = false
			p.logger.Info("log directory removed or renamed; polling until it can be watched again", "dir", p.dir)
		}
		return true
	}
	return filepath.Base(ev.Name) == p.base
}

// drainEvents consumes the events already queued: the follower is about to
// read anyway, and this avoids a wake-up per queued write event.
func (p *WatchPoller) drainEvents() {
	for {
		select {
		case ev, ok := <-p.watcher.Events:
			if !ok {
				return
			}
			p.relevant(ev)
		default:
			return
		}
	}
}

// Close stops the ticker and the watcher. Do not call it while Wait runs.
func (p *WatchPoller) Close() error {
	p.ticker.Stop()
	if p.watcher != nil {
		return p.watcher.Close()
	}
	return nil
}
