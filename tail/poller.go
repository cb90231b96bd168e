package tail

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// WatchPoller is the production Poller: it wakes when a file notification
// concerns the followed path or its directory (write, create, rename,
// remove), and in any case at every tick of a ticker, so that file systems
// without inotify (NFS, SMB) are still followed, only with more latency.
//
// Watching the directory rather than the file is what makes the creation of
// a new file at the path, or a rename onto it, visible.
//
// Every WatchPoller of a process shares one fsnotify watcher (one inotify
// instance on Linux, where a user has 128 by default): each directory is
// watched once, however many followed files it holds, and each event is
// handed to the pollers of the file it names. A thousand followed files
// cost one instance and one watch per directory, not a thousand instances.
type WatchPoller struct {
	dir, base string
	logger    *slog.Logger
	ticker    *time.Ticker
	wake      chan struct{} // an event concerned the path; buffered 1
	notified  bool          // registered with the shared watcher
	gap       time.Duration // least time between two wake-ups by events
	woke      time.Time     // last wake-up
}

// WakeGap is the least time between two wake-ups caused by file events. A
// node writes every log line on its own, so waking at each write would cost
// a follower a few hundred microseconds of CPU per line (about 6 % of a core
// at 200 lines/s); waking at most four times a second costs about 1 % with
// the sink on (bench/sink.sh) and delays a line by at most 250 ms, nothing
// next to a scrape interval.
const WakeGap = 250 * time.Millisecond

// NewPoller returns a WatchPoller for path that ticks every interval (0 →
// DefaultPollInterval). It never fails: if file notifications cannot be set
// up it logs so once and relies on the ticker alone (and if only the
// directory cannot be watched yet, it retries at every tick). Close it when
// done.
func NewPoller(path string, interval time.Duration, logger *slog.Logger) *WatchPoller {
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	path = filepath.Clean(path)
	p := &WatchPoller{
		dir:    filepath.Dir(path),
		base:   filepath.Base(path),
		logger: logger,
		ticker: time.NewTicker(interval),
		wake:   make(chan struct{}, 1),
		gap:    WakeGap,
	}
	watching, err := hub.subscribe(p)
	switch {
	case !p.notified:
		logger.Info("file notifications unavailable; polling only", "interval", interval, "err", err)
	case !watching:
		logger.Info("cannot watch the log directory; polling until it can be watched",
			"dir", p.dir, "interval", interval, "err", err)
	default:
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
	select {
	case <-ctx.Done():
		return ctx.Err()

	case <-p.ticker.C:

	case <-p.wake:
		if wait := p.gap - time.Since(p.woke); wait > 0 {
			t := time.NewTimer(wait) // let more writes gather: one read for all
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
	}
	// The follower is about to read anyway: a notification queued
	// meanwhile would only wake it for nothing.
	select {
	case <-p.wake:
	default:
	}
	if p.notified && hub.watch(p.dir) { // the directory is back (or new)
		p.logger.Info("watching the log directory", "dir", p.dir)
	}
	p.woke = time.Now()
	return nil
}

// watching reports whether p's directory is watched now.
func (p *WatchPoller) watching() bool { return p.notified && hub.watching(p.dir) }

// Close stops the ticker and the poller's notifications. Do not call it
// while Wait runs.
func (p *WatchPoller) Close() error {
	p.ticker.Stop()
	if p.notified {
		hub.unsubscribe(p)
		p.notified = false
	}
	return nil
}

// hub is the process's one fsnotify watcher, shared by every WatchPoller.
var hub watchHub

// watchHub watches the directories of the subscribed pollers with one
// fsnotify watcher, created for the first subscriber and closed after the
// last one leaves, and wakes the pollers an event concerns.
type watchHub struct {
	mu   sync.Mutex
	w    *fsnotify.Watcher // nil: no subscriber
	dirs map[string]*hubDir
}

// hubDir is a directory some pollers follow files in.
type hubDir struct {
	watching bool                                 // added to the watcher, not removed since
	files    map[string]map[*WatchPoller]struct{} // base name → its pollers
	n        int                                  // pollers in all
}

// subscribe registers p (setting p.notified) and watches its directory.
// watching is false when the directory could not be watched (err says why,
// and the poller retries at its ticks); p.notified stays false when no
// watcher can be made at all.
func (h *watchHub) subscribe(p *WatchPoller) (watching bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.w == nil {
		// Unbuffered: while run pauses, fsnotify's reader waits and the
		// kernel gathers the events, read then in one go.
		w, err := fsnotify.NewWatcher()
		if err != nil {
			return false, err
		}
		h.w, h.dirs = w, map[string]*hubDir{}
		go h.run(w)
	}
	d := h.dirs[p.dir]
	if d == nil {
		d = &hubDir{files: map[string]map[*WatchPoller]struct{}{}}
		h.dirs[p.dir] = d
	}
	if d.files[p.base] == nil {
		d.files[p.base] = map[*WatchPoller]struct{}{}
	}
	d.files[p.base][p] = struct{}{}
	d.n++
	p.notified = true
	if !d.watching {
		if err = h.w.Add(p.dir); err == nil {
			d.watching = true
		}
	}
	return d.watching, err
}

// unsubscribe forgets p; the last poller of a directory stops its watch,
// the last one of all closes the watcher.
func (h *watchHub) unsubscribe(p *WatchPoller) {
	h.mu.Lock()
	d := h.dirs[p.dir]
	if d != nil {
		if ps := d.files[p.base]; ps != nil {
			if _, ok := ps[p]; ok {
				delete(ps, p)
				d.n--
			}
			if len(ps) == 0 {
				delete(d.files, p.base)
			}
		}
		if d.n == 0 {
			if d.watching {
				_ = h.w.Remove(p.dir)
			}
			delete(h.dirs, p.dir)
		}
	}
	var closing *fsnotify.Watcher
	if len(h.dirs) == 0 && h.w != nil {
		closing, h.w, h.dirs = h.w, nil, nil
	}
	h.mu.Unlock()
	if closing != nil {
		_ = closing.Close() // outside the lock: run may be waiting for it
	}
}

// watch tries again to watch dir if it is not watched; it reports whether
// it now is and was not before.
func (h *watchHub) watch(dir string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.dirs[dir]
	if d == nil || d.watching || h.w == nil {
		return false
	}
	if h.w.Add(dir) != nil {
		return false
	}
	d.watching = true
	return true
}

// watching reports whether dir is watched.
func (h *watchHub) watching(dir string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.dirs[dir]
	return d != nil && d.watching
}

// run hands w's events and errors to the pollers until w is closed. After
// each round (an event and those that follow within takeGap) it pauses for
// WakeGap: a node writes each line on its own, and taking each event as it
// comes cost a read(2) and two goroutine wake-ups per line (serve at 200
// lines/s: 5-7 % of a core instead of 1.3 %), while the pollers wake at
// most every WakeGap anyway. Meanwhile fsnotify's reader waits and the
// kernel gathers the events (an overflow of its queue is an error, which
// wakes every poller).
func (h *watchHub) run(w *fsnotify.Watcher) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		if !h.take(w, nil) {
			return
		}
		for {
			t.Reset(takeGap)
			if !h.take(w, t.C) {
				break
			}
		}
		select {
		case <-h.closed(w):
			return
		case <-time.After(WakeGap):
		}
	}
}

// takeGap is how long a round of run waits for a next event.
const takeGap = 2 * time.Millisecond

// closed returns a channel closed once w is no longer the hub's watcher.
func (h *watchHub) closed(w *fsnotify.Watcher) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.w != w {
		c := make(chan struct{})
		close(c)
		return c
	}
	return nil // a closed watcher is noticed at the next take
}

// take hands one event or error of w to the pollers, waiting for it until
// timeout fires (nil: as long as it takes); it returns false when none came
// or w is closed.
func (h *watchHub) take(w *fsnotify.Watcher, timeout <-chan time.Time) bool {
	var ev fsnotify.Event
	var isEvent, ok bool
	select {
	case ev, ok = <-w.Events:
		isEvent = true
	case _, ok = <-w.Errors:
	case <-timeout:
		return false
	}
	switch {
	case !ok:
		return false
	case isEvent:
		h.dispatch(w, ev)
	default:
		// E.g. an event queue overflow: events may have been lost, for
		// any directory, so every poller wakes up and looks.
		h.mu.Lock()
		if h.w == w {
			for _, d := range h.dirs {
				d.wakeAll()
			}
		}
		h.mu.Unlock()
	}
	return true
}

// dispatch wakes the pollers of the file ev names, and all the pollers of a
// directory when ev concerns the directory itself.
func (h *watchHub) dispatch(w *fsnotify.Watcher, ev fsnotify.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.w != w {
		return // a watcher closed meanwhile
	}
	name := filepath.Clean(ev.Name)
	if d := h.dirs[name]; d != nil {
		if ev.Op&(fsnotify.Remove|fsnotify.Rename) != 0 && d.watching {
			// The directory itself went away and its watch with it: the
			// pollers rely on their tickers, and try to watch it again at
			// each tick.
			_ = w.Remove(name)
			d.watching = false
			for _, ps := range d.files {
				for p := range ps {
					p.logger.Info("log directory removed or renamed; polling until it can be watched again", "dir", name)
				}
			}
		}
		d.wakeAll()
	}
	if d := h.dirs[filepath.Dir(name)]; d != nil {
		for p := range d.files[filepath.Base(name)] {
			p.notify()
		}
	}
}

func (d *hubDir) wakeAll() {
	for _, ps := range d.files {
		for p := range ps {
			p.notify()
		}
	}
}

// notify wakes p's Wait, or its next one; it never blocks.
func (p *WatchPoller) notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}
