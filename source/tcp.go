package source

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"
)

// Reconnection delays: see Backoff.
const (
	MinBackoff = 2 * time.Second
	MaxBackoff = 60 * time.Second
)

// CutMark ends a line that its sender cut for being longer than its limit
// (`storagenode-exporter forward` sends the first bytes of such a line, then
// the mark). A storagenode line has no NUL byte, and a hole of NULs is not
// followed by "cut" on the same line.
const CutMark = "\x00cut"

// stableAfter is how long a connection must stay up, if it delivers nothing,
// to count as a success that resets the backoff.
const stableAfter = 10 * time.Second

// maxFrameDigits bounds the integer part of a "<unix_ts> " prefix (seconds
// up to the year 33658), so that parsing cannot overflow.
const maxFrameDigits = 12

// TCP is a Source that connects to host:port (a `storagenode-exporter
// forward` server, or anything that streams log lines over TCP) and reads
// lines, each without its "\n" and one trailing "\r", a line longer than
// MaxLine cut (Line.TooLong; a framing prefix counts in its length).
//
// Connection: when the connection fails or ends, TCP waits and dials again,
// forever, with the delays of Backoff (2 s, 4 s, ... 60 s); the sequence
// starts over at 2 s after a connection that delivered data or stayed up
// for 10 s. Warnings are logged when the state changes (cannot connect,
// connection lost, server closes connections at once), not at every retry.
// The only error ending Run besides emit's is an address without a port.
//
// Framing, detected line by line: a line that starts with a decimal Unix
// time in seconds, optionally with a fraction, then one space and a
// non-empty rest ("1735689600.123 2025-01-01T00:00:00Z\tINFO\t...", the
// framing of the predecessor's forwarder) is delivered without that prefix
// and with Line.Received set to that time. Any other line is delivered as
// is with a zero Received: a storagenode line starts with a date
// ("2025-01-01T...", a '-' after the digits) or with a level, so it is not
// mistaken for a framed one.
//
// A line cut by a disconnect (bytes after the last "\n" when the connection
// ends) is incomplete: it is not delivered, and it is counted in
// TCPStats.DroppedPartial. The forward server only ever sends whole lines,
// so this happens only when a connection breaks mid-write.
//
// A line that ends in CutMark (forward sends a line it cut so) is
// delivered without the mark, with Line.TooLong set.
//
// Backpressure: while emit blocks, nothing is read, and the kernel's flow
// control slows the sender down.
type TCP struct {
	// Dial opens a connection; nil means a net.Dialer with a 30 s timeout
	// (and the default TCP keep-alive, so that a dead peer is noticed).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Backoff returns the delay before the attempt-th reconnection (1, 2,
	// ... since the last successful connection); nil means Backoff.
	Backoff func(attempt int) time.Duration
	// After waits for a delay, like time.After; tests inject their own
	// clock. nil means time.After.
	After func(d time.Duration) <-chan time.Time
	// MaxLine is the longest line held, in bytes without the newline; 0
	// means logfile.DefaultMaxLine.
	MaxLine int

	addr string
	log  *slog.Logger
	now  func() time.Time

	up                                  atomic.Bool
	lines, framed                       atomic.Uint64
	connects, dialErrors, disconnects   atomic.Uint64
	droppedPartial, droppedPartialBytes atomic.Uint64

	state string // for logging; only used by Run's goroutine
}

var _ Source = (*TCP)(nil)

// TCPStats is a snapshot of a TCP source's counters.
type TCPStats struct {
	Lines               uint64 // lines delivered (emit returned nil)
	Framed              uint64 // of which had a "<unix_ts> " prefix
	Connects            uint64 // connections established
	DialErrors          uint64 // failed connection attempts
	Disconnects         uint64 // connections ended (by either side, or by ctx)
	DroppedPartial      uint64 // unfinished lines dropped when a connection ended
	DroppedPartialBytes uint64 // their bytes
	Up                  bool   // connected now
}

// NewTCP returns a TCP source for addr ("host:port"). Set Dial, Backoff or
// After before calling Run to replace the defaults.
func NewTCP(addr string, logger *slog.Logger) *TCP {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &TCP{addr: addr, log: logger.With("addr", addr), now: time.Now}
}

// Addr returns the address given to NewTCP.
func (t *TCP) Addr() string { return t.addr }

// Up reports whether the source is connected.
func (t *TCP) Up() bool { return t.up.Load() }

// Stats returns a snapshot of the counters. It is safe to call concurrently
// with Run.
func (t *TCP) Stats() TCPStats {
	return TCPStats{
		Lines:               t.lines.Load(),
		Framed:              t.framed.Load(),
		Connects:            t.connects.Load(),
		DialErrors:          t.dialErrors.Load(),
		Disconnects:         t.disconnects.Load(),
		DroppedPartial:      t.droppedPartial.Load(),
		DroppedPartialBytes: t.droppedPartialBytes.Load(),
		Up:                  t.up.Load(),
	}
}

// Backoff is the default reconnection delay: 2 s before the first attempt,
// doubling at each further attempt, at most 60 s (2, 4, 8, 16, 32, 60, 60,
// ...). An attempt below 1 counts as 1.
func Backoff(attempt int) time.Duration {
	d := MinBackoff
	for i := 1; i < attempt && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

// Run connects, delivers lines and reconnects until ctx is done (it then
// returns nil) or emit fails (it returns emit's error as is). Run must not
// be called concurrently on the same TCP.
func (t *TCP) Run(ctx context.Context, emit func(Line) error) error {
	if _, _, err := net.SplitHostPort(t.addr); err != nil {
		return fmt.Errorf("source: tcp: %w", err)
	}
	dial := t.Dial
	if dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second}
		dial = d.DialContext
	}
	backoff := t.Backoff
	if backoff == nil {
		backoff = Backoff
	}
	after := t.After
	if after == nil {
		after = time.After
	}

	lb := lineBuf{max: t.MaxLine}
	attempt := 0
	for {
		if ctx.Err() != nil {
			return nil
		}
		conn, err := dial(ctx, "tcp", t.addr)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil
		case err != nil:
			t.dialErrors.Add(1)
			t.setState("dial: "+err.Error(), func() {
				t.log.Warn("cannot connect to the forwarder; retrying with backoff", "err", err)
			})
		default:
			t.connects.Add(1)
			if t.state != "empty" {
				t.log.Info("connected to the forwarder")
			} else {
				t.log.Debug("connected to the forwarder")
			}
			c := t.serve(ctx, conn, &lb, emit)
			if c.emitErr != nil {
				return c.emitErr
			}
			if ctx.Err() != nil {
				return nil
			}
			if c.bytes > 0 || c.lasted >= stableAfter {
				attempt = 0
				t.setState("down", func() {
					t.log.Warn("connection to the forwarder lost; reconnecting",
						"err", c.err, "lasted", c.lasted, "dropped_partial_bytes", c.partial,
						"retry_in", backoff(1))
				})
			} else {
				t.setState("empty", func() {
					t.log.Warn("the forwarder closed the connection without sending anything (does its --allow list include this host?); retrying with backoff",
						"err", c.err)
				})
			}
		}
		attempt++
		select {
		case <-after(backoff(attempt)):
		case <-ctx.Done():
			return nil
		}
	}
}

// connResult is how one connection went.
type connResult struct {
	bytes   int64         // bytes received
	partial int           // bytes of the unfinished line dropped at the end
	lasted  time.Duration // how long it was up
	err     error         // why it ended (read error, io.EOF for a close)
	emitErr error         // emit's error, which ends Run
}

// serve reads lines from conn until it fails, ctx is done or emit fails,
// and closes conn.
func (t *TCP) serve(ctx context.Context, conn net.Conn, lb *lineBuf, emit func(Line) error) (c connResult) {
	start := t.now()
	t.up.Store(true)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer func() {
		stop()
		conn.Close()
		t.up.Store(false)
		t.disconnects.Add(1)
		if c.partial = lb.pending(); c.partial > 0 {
			t.droppedPartial.Add(1)
			t.droppedPartialBytes.Add(uint64(c.partial))
		}
		lb.reset()
		c.lasted = t.now().Sub(start)
	}()
	for {
		n, err := conn.Read(lb.room())
		if n > 0 {
			if c.bytes == 0 {
				t.setState("up", func() { t.log.Info("receiving lines from the forwarder") })
			}
			c.bytes += int64(n)
			lb.advance(n)
			for {
				line, tooLong, ok := lb.next()
				if !ok {
					break
				}
				l := parseFrame(line)
				if d, cut := bytes.CutSuffix(l.Data, []byte(CutMark)); cut && !tooLong {
					l.Data, tooLong = d, true
				}
				l.TooLong = tooLong
				if err := emit(l); err != nil {
					c.emitErr = err
					return c
				}
				t.lines.Add(1)
				if !l.Received.IsZero() {
					t.framed.Add(1)
				}
				if ctx.Err() != nil {
					return c
				}
			}
		}
		if err != nil {
			c.err = err
			return c
		}
	}
}

// setState runs logIt when the connection state changes.
func (t *TCP) setState(key string, logIt func()) {
	if key == t.state {
		return
	}
	t.state = key
	logIt()
}

// parseFrame recognizes the "<unix_ts> <line>" framing: decimal seconds,
// optionally "." and a fraction, one space, and a non-empty rest. It
// returns the line without the prefix and the time, or the line as is.
func parseFrame(line []byte) Line {
	i := 0
	var sec int64
	for i < len(line) && isDigit(line[i]) {
		if i == maxFrameDigits {
			return Line{Data: line}
		}
		sec = sec*10 + int64(line[i]-'0')
		i++
	}
	if i == 0 {
		return Line{Data: line}
	}
	var nsec int64
	if i < len(line) && line[i] == '.' {
		i++
		digits := 0
		for i < len(line) && isDigit(line[i]) {
			if digits < 9 {
				nsec = nsec*10 + int64(line[i]-'0')
			}
			digits++
			i++
		}
		if digits == 0 {
			return Line{Data: line}
		}
		for ; digits < 9; digits++ {
			nsec *= 10
		}
	}
	if i+1 >= len(line) || line[i] != ' ' {
		return Line{Data: line}
	}
	return Line{Data: line[i+1:], Received: time.Unix(sec, nsec)}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
