// Package forward serves a local log file over TCP: a [Server] follows the
// file with package tail and writes every new line, followed by "\n", to
// every connected client. `storagenode-exporter serve` reads such a stream
// with source.TCP, so that a node's log can be exported from another host.
//
// # Model
//
//   - Framing is plain: lines exactly as in the file (without a trailing
//     "\r"), each ending in "\n", and nothing else. Only whole lines are
//     written.
//   - Line length: a line longer than Config.MaxLine is read by package
//     tail without being held: its first MaxLine bytes are sent, followed
//     by source.CutMark, so that serve's TCP source counts it as too long
//     (unparsed) and never parses it; the rest of the line is not sent.
//   - No history: a client receives the lines read from the file after it
//     connected. The file is followed from its end when the server starts;
//     lines read while no client is connected are read and discarded.
//   - Config.FromBeginning: every client that connects receives the file
//     from its start, then its new lines: each such client has a follower
//     of its own (package tail, from offset 0, through rotation), so a
//     second client gets the whole file as the first did. The follower
//     waits for a slow client instead of queueing (the file is the buffer),
//     and gives up on a client that takes no data for clientWriteTimeout.
//     The server's own follower still follows the file from its end, for
//     Stats and for logging the file's state once.
//   - Access: clients on a loopback address are always accepted; any other
//     client only if an address prefix of Config.Allow contains its
//     address. A refused connection is closed at once, counted, logged at
//     Debug, and at Warn at most once a minute.
//   - Connection limit: at most Config.MaxClients clients are connected at
//     a time. A connection beyond it is closed at once, counted in
//     Stats.OverLimit, logged at Debug, and at Warn at most once a minute.
//   - Slow clients: every client has a queue of at most Config.QueueBytes
//     bytes (each line counted with its "\n" and its slice header) between
//     the follower and the connection; lines being written count until they
//     are written. The follower never waits for a client: a line that does
//     not fit in a client's queue disconnects that client (counted in
//     Stats.SlowDisconnects and logged); the others carry on. An empty
//     queue takes one line of any length. Lines are shared by the queues,
//     so the lines queued for all clients together take at most about
//     QueueBytes plus the slice headers: memory stays bounded however many
//     clients stop reading. A disconnected client may reconnect, and gets
//     lines from then on.
//   - Logs: connections and disconnections are logged at Debug (a client
//     that reconnects in a loop must not flood the log) and counted in
//     Stats; when Run returns it logs the totals at Info.
//   - A client that went away unannounced is noticed when a write to it
//     fails, that is at the next lines after it left.
//   - Shutdown: when ctx is done the server stops accepting, closes every
//     client (lines still queued are not sent) and Run returns nil.
package forward

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/source"
	"github.com/storagenode-exporter/storagenode-exporter/tail"
)

// DefaultListen is the listen address when Config.Listen is empty: loopback
// only, so that nothing is exposed unless asked for.
const DefaultListen = "127.0.0.1:9999"

// DefaultQueueBytes is the per-client queue bound when Config.QueueBytes is
// 0: above 16 times the longest real storagenode line (an errorVerbose stack
// trace of about 500 KB, docs/log-formats.md).
const DefaultQueueBytes = 8 << 20

// DefaultMaxClients is the connection limit when Config.MaxClients is 0.
const DefaultMaxClients = 64

// queueEntryOverhead is what a queued line costs besides its bytes: its
// slice header in the queue.
const queueEntryOverhead = 24

// refusedLogEvery is the minimum interval between Warn logs about refused
// clients.
const refusedLogEvery = time.Minute

// clientWriteTimeout is how long a write to a client with a follower of
// its own (Config.FromBeginning) may take before the client is dropped.
const clientWriteTimeout = time.Minute

// Config configures a Server.
type Config struct {
	Listen        string         // host:port; "" → DefaultListen
	Allow         []netip.Prefix // non-loopback clients allowed; loopback always is
	Path          string         // the log file to follow
	FromBeginning bool           // send every client the file from offset 0 before its new lines
	QueueBytes    int            // bytes queued per client; 0 → DefaultQueueBytes
	MaxClients    int            // clients connected at a time; 0 → DefaultMaxClients
	Logger        *slog.Logger   // nil → discard
	Poller        tail.Poller    // nil → the production poller (tests step their own)
	PollInterval  time.Duration  // ticker of the production poller; 0 → 1 s
	MaxLine       int            // longest line sent whole, in bytes; a longer one is cut; 0 → logfile.DefaultMaxLine
}

// Stats is a snapshot of a Server's counters.
type Stats struct {
	Clients         int    // clients connected now
	Accepted        uint64 // client connections accepted
	Refused         uint64 // connections refused by the allow list
	OverLimit       uint64 // connections closed because MaxClients were connected
	Disconnected    uint64 // accepted clients that went away or were closed
	SlowDisconnects uint64 // clients disconnected because their queue was full
	Lines           uint64 // lines read from the file by the server's follower (not the clients' own)
	TooLong         uint64 // of which were longer than Config.MaxLine, and cut
	Open            bool   // the log file is open and readable
}

// Server follows a log file and streams its new lines to TCP clients.
// Create it with New; Run it once.
type Server struct {
	cfg      Config
	log      *slog.Logger
	follower *tail.Follower
	ready    chan struct{}

	// Test hooks: peer returns a client's address (for the allow check),
	// wrap may replace an accepted connection.
	peer func(net.Conn) netip.Addr
	wrap func(net.Conn) net.Conn
	now  func() time.Time

	mu      sync.Mutex
	addr    net.Addr
	clients map[*client]struct{}
	closed  bool // no more clients are registered

	accepted, refused, overLimit, slow, disconnected atomic.Uint64
	tooLong                                          atomic.Uint64

	refusedWarn, limitWarn rateWarn
}

// rateWarn limits a Warn to one every refusedLogEvery, counting what it
// did not log.
type rateWarn struct {
	mu      sync.Mutex
	logged  time.Time
	pending uint64 // events since the last Warn
}

// event counts one event and reports whether to Warn now, with the number
// of events since the last Warn (this one included).
func (w *rateWarn) event(now time.Time) (bool, uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending++
	if !w.logged.IsZero() && now.Sub(w.logged) < refusedLogEvery {
		return false, 0
	}
	n := w.pending
	w.logged, w.pending = now, 0
	return true, n
}

// New returns a Server for cfg, with the defaults filled in. It does not
// listen or open anything; Run does.
func New(cfg Config) *Server {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.QueueBytes <= 0 {
		cfg.QueueBytes = DefaultQueueBytes
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.Logger = logger
	allow := make([]netip.Prefix, len(cfg.Allow))
	for i, p := range cfg.Allow {
		allow[i] = p.Masked()
	}
	cfg.Allow = allow
	return &Server{
		cfg: cfg,
		log: logger,
		follower: tail.New(tail.Config{
			Path:         cfg.Path,
			Poller:       cfg.Poller,
			PollInterval: cfg.PollInterval,
			MaxLine:      cfg.MaxLine,
			Logger:       logger,
		}),
		ready:   make(chan struct{}),
		peer:    peerAddr,
		now:     time.Now,
		clients: make(map[*client]struct{}),
	}
}

// Ready is closed once the server listens; Addr is then set. It is never
// closed if Run fails to listen, so wait for Run's return too.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr returns the address the server listens on, or nil before it does.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Stats returns a snapshot of the counters. It is safe to call concurrently
// with Run.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n := len(s.clients)
	s.mu.Unlock()
	fs := s.follower.Stats()
	return Stats{
		Clients:         n,
		Accepted:        s.accepted.Load(),
		Refused:         s.refused.Load(),
		OverLimit:       s.overLimit.Load(),
		Disconnected:    s.disconnected.Load(),
		SlowDisconnects: s.slow.Load(),
		Lines:           fs.Lines,
		TooLong:         s.tooLong.Load(),
		Open:            fs.Open,
	}
}

// Run listens, follows the file and serves clients until ctx is done; it
// then closes the listener and every client and returns nil. It returns an
// error if it cannot listen, if accepting fails for good, or if the
// follower's poller fails.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("forward: %w", err)
	}
	s.mu.Lock()
	s.addr = ln.Addr()
	s.mu.Unlock()
	close(s.ready)

	attrs := []any{"listen", ln.Addr().String(), "path", s.cfg.Path}
	if len(s.cfg.Allow) > 0 {
		attrs = append(attrs, "allow", fmt.Sprint(s.cfg.Allow))
	}
	s.log.Info("forwarding the log file", attrs...)
	if localOnly(ln.Addr(), s.cfg.Allow) {
		s.log.Warn("listening on a non-loopback address without --allow: only clients on this host can connect",
			"listen", ln.Addr().String())
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()

	var wg sync.WaitGroup
	var acceptErr error
	wg.Go(func() {
		acceptErr = s.acceptLoop(ctx, ln, &wg)
		cancel() // a listener that failed for good ends Run
	})
	followErr := s.follower.RunPos(ctx, s.broadcast)
	cancel()
	ln.Close()

	s.mu.Lock()
	s.closed = true
	for c := range s.clients {
		c.close()
	}
	clear(s.clients)
	s.mu.Unlock()
	wg.Wait()
	st := s.Stats()
	s.log.Info("forwarding stopped", "clients_accepted", st.Accepted, "clients_disconnected", st.Disconnected,
		"refused_not_allowed", st.Refused, "refused_over_limit", st.OverLimit, "slow_disconnects", st.SlowDisconnects,
		"lines_cut_too_long", st.TooLong)

	if followErr != nil {
		return fmt.Errorf("forward: %w", followErr)
	}
	if acceptErr != nil {
		return fmt.Errorf("forward: accept: %w", acceptErr)
	}
	return nil
}

// acceptLoop accepts clients until the listener is closed (it then returns
// nil if ctx is done) or fails for good. Temporary errors (out of file
// descriptors, say) are logged and retried after a growing pause.
func (s *Server) acceptLoop(ctx context.Context, ln net.Listener, wg *sync.WaitGroup) error {
	var pause time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if isTemporary(err) {
				pause = min(max(2*pause, 5*time.Millisecond), time.Second)
				s.log.Warn("cannot accept a client; retrying", "err", err, "retry_in", pause)
				select {
				case <-time.After(pause):
					continue
				case <-ctx.Done():
					return nil
				}
			}
			return err
		}
		pause = 0
		addr := s.peer(conn)
		if !allowed(addr, s.cfg.Allow) {
			s.refusedClient(addr) // counted before the client sees its end
			conn.Close()
			continue
		}
		if s.wrap != nil {
			conn = s.wrap(conn)
		}
		c := &client{
			conn:   conn,
			addr:   conn.RemoteAddr().String(),
			done:   make(chan struct{}),
			queued: !s.cfg.FromBeginning, // else the client has a follower of its own
			wake:   make(chan struct{}, 1),
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return nil
		}
		if len(s.clients) >= s.cfg.MaxClients {
			s.mu.Unlock()
			s.overLimitClient(addr) // counted before the client sees its end
			conn.Close()
			continue
		}
		s.accepted.Add(1) // counted before the client is seen connected
		s.clients[c] = struct{}{}
		s.mu.Unlock()
		s.log.Debug("client connected", "client", c.addr)
		wg.Go(func() { s.write(ctx, c) })
	}
}

// isTemporary reports whether an accept error is worth retrying.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// refusedClient counts and logs a refused connection: at Debug each time,
// at Warn at most once every refusedLogEvery.
func (s *Server) refusedClient(addr netip.Addr) {
	defer s.refused.Add(1) // last, so that a test seeing the count sees the logs
	s.log.Debug("refused a client not in the allow list", "client", addr)
	if warn, n := s.refusedWarn.event(s.now()); warn {
		s.log.Warn("refused a client not in the allow list (add its network with --allow)",
			"client", addr, "refused_since_last_warning", n)
	}
}

// overLimitClient counts and logs a connection closed because MaxClients
// were connected: at Debug each time, at Warn at most once every
// refusedLogEvery.
func (s *Server) overLimitClient(addr netip.Addr) {
	defer s.overLimit.Add(1)
	s.log.Debug("refused a client: too many clients", "client", addr, "max_clients", s.cfg.MaxClients)
	if warn, n := s.limitWarn.event(s.now()); warn {
		s.log.Warn("refused a client: too many clients connected (raise --max-clients?)",
			"client", addr, "max_clients", s.cfg.MaxClients, "refused_since_last_warning", n)
	}
}

// broadcast queues a copy of line, with its "\n" (and source.CutMark
// before it if it was cut), to every client, and disconnects the clients
// whose queue is full. It never blocks.
func (s *Server) broadcast(line []byte, pos tail.Pos) error {
	if pos.TooLong {
		s.tooLong.Add(1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.clients) == 0 {
		return nil
	}
	msg := appendLine(make([]byte, 0, len(line)+len(source.CutMark)+1), line, pos.TooLong) // shared by all clients, never modified
	for c := range s.clients {
		if !c.queued {
			continue // it reads the file itself
		}
		if !c.push(msg, s.cfg.QueueBytes) {
			delete(s.clients, c)
			c.close()
			s.slow.Add(1)
			s.disconnected.Add(1)
			s.log.Warn("client too slow: its queue is full; disconnected it",
				"client", c.addr, "queue_bytes", s.cfg.QueueBytes)
		}
	}
	return nil
}

// write sends a client's lines to its connection until the client is
// closed, ctx is done or a write fails.
func (s *Server) write(ctx context.Context, c *client) {
	var err error
	if c.queued {
		err = c.send()
	} else {
		err = s.replay(ctx, c)
	}
	s.mu.Lock()
	_, registered := s.clients[c]
	delete(s.clients, c)
	s.mu.Unlock()
	c.close()
	if registered { // not closed by the server: the client went away
		s.disconnected.Add(1)
		s.log.Debug("client disconnected", "client", c.addr, "err", err)
	}
}

// replay sends a client the file from its start, then its new lines, with a
// follower of its own, until ctx is done or the client is closed or fails.
func (s *Server) replay(ctx context.Context, c *client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // the server closes the client: stop
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	bw := bufio.NewWriterSize(deadlineWriter{c.conn}, 64<<10)
	poller := tail.NewPoller(s.cfg.Path, s.cfg.PollInterval, nil)
	defer poller.Close()
	f := tail.New(tail.Config{
		Path:          s.cfg.Path,
		FromBeginning: true,
		MaxLine:       s.cfg.MaxLine,
		// Flush whenever the follower has read all there is, then wait.
		Poller: flushingPoller{poller, bw.Flush},
		// The server's own follower logs the file's state, once.
	})
	var msg []byte
	err := f.RunPos(ctx, func(line []byte, pos tail.Pos) error {
		msg = appendLine(msg[:0], line, pos.TooLong)
		_, err := bw.Write(msg)
		return err
	})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// appendLine appends line as it is sent: source.CutMark after it if it was
// cut, then "\n".
func appendLine(b, line []byte, cut bool) []byte {
	b = append(b, line...)
	if cut {
		b = append(b, source.CutMark...)
	}
	return append(b, '\n')
}

// flushingPoller flushes a client's buffer before each wait of its follower.
type flushingPoller struct {
	tail.Poller
	flush func() error
}

func (p flushingPoller) Wait(ctx context.Context) error {
	if err := p.flush(); err != nil {
		return err
	}
	return p.Poller.Wait(ctx)
}

// deadlineWriter gives up on a write that takes longer than
// clientWriteTimeout (a client that stopped reading).
type deadlineWriter struct{ conn net.Conn }

func (w deadlineWriter) Write(p []byte) (int, error) {
	if err := w.conn.SetWriteDeadline(time.Now().Add(clientWriteTimeout)); err != nil {
		return 0, err
	}
	return w.conn.Write(p)
}

// client is one connected client.
type client struct {
	conn   net.Conn
	addr   string
	queued bool // false: the client has a follower of its own
	done   chan struct{}
	once   sync.Once
	wake   chan struct{} // signalled when lines are queued

	mu    sync.Mutex
	queue [][]byte // lines not yet taken by send
	bytes int      // cost of queue and of the lines send is writing
}

// push queues msg unless that would take the queue above limit bytes; an
// empty queue takes any line. It never blocks.
func (c *client) push(msg []byte, limit int) bool {
	cost := len(msg) + queueEntryOverhead
	c.mu.Lock()
	if c.bytes > 0 && c.bytes+cost > limit {
		c.mu.Unlock()
		return false
	}
	c.queue = append(c.queue, msg)
	c.bytes += cost
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

// close closes the connection and stops the writer. It may be called more
// than once, from any goroutine.
func (c *client) close() {
	c.once.Do(func() {
		close(c.done)
		c.conn.Close()
	})
}

// send writes queued lines, buffered, flushing whenever the queue is empty.
// The lines it took count in the queue's bytes until they are written.
func (c *client) send() error {
	var bw *bufio.Writer // allocated at the first line
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return nil
		}
		c.mu.Lock()
		batch := c.queue
		c.queue = nil
		c.mu.Unlock()
		if bw == nil && len(batch) > 0 {
			bw = bufio.NewWriterSize(c.conn, 64<<10)
		}
		cost := 0
		for i, msg := range batch {
			if _, err := bw.Write(msg); err != nil {
				return err
			}
			cost += len(msg) + queueEntryOverhead
			batch[i] = nil
		}
		if bw != nil {
			if err := bw.Flush(); err != nil {
				return err
			}
		}
		c.mu.Lock()
		c.bytes -= cost
		c.mu.Unlock()
	}
}

// peerAddr returns the IP address of a connection's remote end.
func peerAddr(conn net.Conn) netip.Addr {
	if ta, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		return ta.AddrPort().Addr()
	}
	ap, err := netip.ParseAddrPort(conn.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr()
}

// localOnly reports whether listening on addr with allow lets only local
// clients in although addr is not a loopback address: probably not what was
// meant.
func localOnly(addr net.Addr, allow []netip.Prefix) bool {
	ta, ok := addr.(*net.TCPAddr)
	return ok && !ta.IP.IsLoopback() && len(allow) == 0
}

// allowed reports whether a client at addr may connect: loopback addresses
// always, others when a prefix of allow contains them. IPv4-mapped IPv6
// addresses count as IPv4, and zones are ignored.
func allowed(addr netip.Addr, allow []netip.Prefix) bool {
	addr = addr.WithZone("")
	plain := addr.Unmap()
	if plain.IsLoopback() {
		return true
	}
	for _, p := range allow {
		if p.Contains(plain) || p.Contains(addr) {
			return true
		}
	}
	return false
}
