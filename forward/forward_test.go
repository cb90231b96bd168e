package forward

import (
	"bufio"
	"context"
	"fmt"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/source"
)

// harness is a Server on a temporary log file, listening on 127.0.0.1:0,
// with a stepped poller.
type harness struct {
	t      *testing.T
	s      *Server
	p      *testutil.StepPoller
	path   string
	logs   *testutil.SyncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startServer starts a server; setup may adjust it before Run. It returns
// once the server listens and the follower is idle.
func startServer(t *testing.T, cfg Config, setup func(*Server)) *harness {
	t.Helper()
	h := &harness{t: t, p: testutil.NewStepPoller(), logs: &testutil.SyncBuffer{}, done: make(chan error, 1)}
	h.path = filepath.Join(t.TempDir(), "node.log")
	testutil.AppendFile(t, h.path, "history\n")
	cfg.Path = h.path
	cfg.Listen = "127.0.0.1:0"
	cfg.Poller = h.p
	cfg.Logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.s = New(cfg)
	if setup != nil {
		setup(h.s)
	}
	if h.s.Addr() != nil {
		t.Error("Addr set before Run")
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.s.Run(ctx) }()
	t.Cleanup(func() {
		h.stop()
		if t.Failed() {
			t.Logf("server log:\n%s", h.logs.String())
		}
	})
	select {
	case <-h.s.Ready():
	case err := <-h.done:
		t.Fatalf("Run returned early: %v", err)
	case <-time.After(testutil.Timeout):
		t.Fatal("server never listened")
	}
	h.p.WaitParked(t)
	return h
}

// stop cancels Run and checks that it returns nil.
func (h *harness) stop() {
	h.t.Helper()
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run returned %v, want nil", err)
		}
		h.done <- nil
	case <-time.After(testutil.Timeout):
		h.t.Fatal("Run did not return after cancellation")
	}
}

func (h *harness) addr() string { return h.s.Addr().String() }

func (h *harness) dial() net.Conn {
	h.t.Helper()
	c, err := net.Dial("tcp", h.addr())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c
}

func (h *harness) waitClients(n int) {
	h.t.Helper()
	testutil.WaitFor(h.t, fmt.Sprintf("%d clients", n), func() bool { return h.s.Stats().Clients == n })
}

// readLines reads n lines from a raw connection.
func readLines(t *testing.T, r *bufio.Reader, c net.Conn, n int) []string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(testutil.Timeout))
	lines := make([]string, 0, n)
	for range n {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %d lines: %v", len(lines), err)
		}
		lines = append(lines, strings.TrimSuffix(l, "\n"))
	}
	return lines
}

// expectEOF checks that the server closed c (after sending nothing more).
func expectEOF(t *testing.T, r io.Reader, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(testutil.Timeout))
	b, err := io.ReadAll(r)
	if err != nil || len(b) != 0 {
		t.Fatalf("want EOF and no data, got %d bytes %q, %v", len(b), b, err)
	}
}

// tcpClient runs a source.TCP against the server and collects its lines.
type tcpClient struct {
	src    *source.TCP
	mu     sync.Mutex
	lines  []string
	cancel context.CancelFunc
	done   chan error
}

func (h *harness) tcpClient() *tcpClient {
	c := &tcpClient{src: source.NewTCP(h.addr(), nil), done: make(chan error, 1)}
	c.src.After = func(time.Duration) <-chan time.Time {
		ch := make(chan time.Time, 1)
		ch <- time.Time{}
		return ch
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		c.done <- c.src.Run(ctx, func(l source.Line) error {
			c.mu.Lock()
			c.lines = append(c.lines, string(l.Data))
			c.mu.Unlock()
			return nil
		})
	}()
	h.t.Cleanup(func() {
		cancel()
		select {
		case err := <-c.done:
			if err != nil {
				h.t.Errorf("TCP source: %v", err)
			}
		case <-time.After(testutil.Timeout):
			h.t.Error("TCP source did not stop")
		}
	})
	return c
}

func (c *tcpClient) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.lines)
}

// take waits for n lines and returns them.
func (c *tcpClient) take(t *testing.T, n int) []string {
	t.Helper()
	testutil.WaitFor(t, fmt.Sprintf("%d lines from the TCP source", n), func() bool { return c.count() >= n })
	c.mu.Lock()
	defer c.mu.Unlock()
	got := c.lines
	c.lines = nil
	if len(got) != n {
		t.Fatalf("TCP source got %d lines, want %d", len(got), n)
	}
	return got
}

func seq(prefix string, from, to int) []string {
	var l []string
	for i := from; i <= to; i++ {
		l = append(l, fmt.Sprintf("2025-01-01T00:00:00.000Z\tINFO\tpiecestore\t%s %d", prefix, i))
	}
	return l
}

func text(lines []string) string { return strings.Join(lines, "\n") + "\n" }

func TestAllowed(t *testing.T) {
	p := netip.MustParsePrefix
	a := netip.MustParseAddr
	ten := []netip.Prefix{p("10.0.0.0/8")}
	for _, tc := range []struct {
		addr  string
		allow []netip.Prefix
		want  bool
	}{
		{"127.0.0.1", nil, true},
		{"127.1.2.3", nil, true},
		{"::1", nil, true},
		{"::ffff:127.0.0.1", nil, true},
		{"10.0.0.5", nil, false},
		{"10.0.0.5", ten, true},
		{"::ffff:10.0.0.5", ten, true},
		{"11.0.0.5", ten, false},
		{"192.168.1.7", []netip.Prefix{p("10.0.0.0/8"), p("192.168.1.0/24")}, true},
		{"192.168.2.7", []netip.Prefix{p("192.168.1.0/24")}, false},
		{"2001:db8::5", []netip.Prefix{p("2001:db8::/32")}, true},
		{"fe80::1%eth0", []netip.Prefix{p("fe80::/10")}, true},
		{"2001:db9::5", []netip.Prefix{p("2001:db8::/32")}, false},
		{"0.0.0.0", nil, false},
	} {
		if got := allowed(a(tc.addr), tc.allow); got != tc.want {
			t.Errorf("allowed(%s, %v) = %v, want %v", tc.addr, tc.allow, got, tc.want)
		}
	}
	if allowed(netip.Addr{}, nil) {
		t.Error("the zero address is allowed")
	}
}

// Two clients, a source.TCP and a raw connection, get the lines appended
// after they connected, in order, and nothing from before.
func TestTwoClients(t *testing.T) {
	h := startServer(t, Config{}, nil)
	testutil.AppendFile(t, h.path, "before anyone connected\n")
	h.p.Step(t)

	tc := h.tcpClient()
	raw := h.dial()
	rr := bufio.NewReader(raw)
	h.waitClients(2)

	want := seq("line", 1, 100)
	want[10] = strings.Repeat("long ", 50000)
	want[20] = ""
	testutil.AppendFile(t, h.path, text(want[:50]))
	h.p.Step(t)
	testutil.AppendFile(t, h.path, strings.ReplaceAll(text(want[50:]), "\n", "\r\n"))
	h.p.Step(t)

	if got := readLines(t, rr, raw, len(want)); !slices.Equal(got, want) {
		t.Errorf("raw client: lines differ")
	}
	if got := tc.take(t, len(want)); !slices.Equal(got, want) {
		t.Errorf("TCP source: lines differ")
	}
	s := h.s.Stats()
	if s.Clients != 2 || s.Accepted != 2 || s.Lines != 101 || !s.Open || s.SlowDisconnects != 0 {
		t.Errorf("stats %+v", s)
	}
}

// A client outside the allow list is closed at once, counted, and warned
// about once a minute at most; one inside it gets lines.
func TestRefused(t *testing.T) {
	var mu sync.Mutex
	peer := netip.MustParseAddr("10.0.0.5")
	now := time.Unix(1000, 0)
	h := startServer(t, Config{Allow: []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")}}, func(s *Server) {
		s.peer = func(net.Conn) netip.Addr {
			mu.Lock()
			defer mu.Unlock()
			return peer
		}
		s.now = func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		}
	})
	for range 3 {
		c := h.dial()
		expectEOF(t, c, c)
	}
	testutil.WaitFor(t, "3 refusals", func() bool { return h.s.Stats().Refused == 3 })
	if n := h.logs.Count("level=WARN msg=\"refused a client"); n != 1 {
		t.Errorf("%d warnings for 3 refusals within a minute, want 1", n)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	c := h.dial()
	expectEOF(t, c, c)
	testutil.WaitFor(t, "4 refusals", func() bool { return h.s.Stats().Refused == 4 })
	if n := h.logs.Count("refused_since_last_warning=3"); n != 1 {
		t.Errorf("no second warning with the count of refusals:\n%s", h.logs.String())
	}
	if s := h.s.Stats(); s.Accepted != 0 || s.Clients != 0 {
		t.Errorf("stats %+v", s)
	}

	mu.Lock()
	peer = netip.MustParseAddr("::ffff:192.168.3.4")
	mu.Unlock()
	c = h.dial()
	h.waitClients(1)
	testutil.AppendFile(t, h.path, "allowed\n")
	h.p.Step(t)
	if got := readLines(t, bufio.NewReader(c), c, 1); got[0] != "allowed" {
		t.Errorf("got %q", got)
	}
}

// blockingConn is a server-side connection whose writes block until it is
// closed: a client that stopped reading, without waiting for kernel
// buffers to fill.
type blockingConn struct {
	net.Conn
	once   sync.Once
	closed chan struct{}
}

func (c *blockingConn) Write(p []byte) (int, error) {
	<-c.closed
	return 0, net.ErrClosed
}

func (c *blockingConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// A client whose queue fills is disconnected; the other keeps receiving
// everything.
func TestSlowClient(t *testing.T) {
	var accepted sync.Mutex
	first := true
	// Batches of 10 lines, each read by the fast client before the next is
	// written, never fill a queue of about 20 lines that is being drained.
	h := startServer(t, Config{QueueBytes: 20 * 10100}, func(s *Server) {
		s.wrap = func(c net.Conn) net.Conn {
			accepted.Lock()
			defer accepted.Unlock()
			if first {
				first = false
				return &blockingConn{Conn: c, closed: make(chan struct{})}
			}
			return c
		}
	})
	slow := h.dial()
	h.waitClients(1)
	fast := h.dial()
	h.waitClients(2)

	// Lines of 10 kB: the slow writer's 64 kB buffer and its queue hold
	// fewer than 28 of them.
	want := seq(strings.Repeat("x", 10000), 1, 50)
	fr := bufio.NewReader(fast)
	for i := 0; i < len(want); i += 10 {
		testutil.AppendFile(t, h.path, text(want[i:i+10]))
		h.p.Step(t)
		if got := readLines(t, fr, fast, 10); !slices.Equal(got, want[i:i+10]) {
			t.Fatalf("fast client: lines %d.. differ", i)
		}
	}
	expectEOF(t, slow, slow)
	s := h.s.Stats()
	if s.SlowDisconnects != 1 || s.Clients != 1 || s.Accepted != 2 {
		t.Errorf("stats %+v", s)
	}
	if n := h.logs.Count("client too slow"); n != 1 {
		t.Errorf("%d slow-client warnings, want 1", n)
	}
}

// Cancellation closes the listener and every client, and Run returns nil.
func TestCancel(t *testing.T) {
	h := startServer(t, Config{}, nil)
	a, b := h.dial(), h.dial()
	h.waitClients(2)
	h.stop()
	expectEOF(t, a, a)
	expectEOF(t, b, b)
	if n := h.s.Stats().Clients; n != 0 {
		t.Errorf("%d clients after Run returned", n)
	}
	if c, err := net.Dial("tcp", h.addr()); err == nil {
		c.Close()
		t.Error("still accepting after Run returned")
	}
}

// Listening on an address in use fails, and Ready is not closed.
func TestListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := New(Config{Listen: ln.Addr().String(), Path: filepath.Join(t.TempDir(), "node.log"), Poller: testutil.NewStepPoller()})
	if err := s.Run(context.Background()); err == nil {
		t.Fatal("Run listened on an address in use")
	}
	select {
	case <-s.Ready():
		t.Error("Ready closed although Run could not listen")
	default:
	}
}

// The defaults, and when to warn that only local clients can connect.
func TestDefaultsAndLocalOnly(t *testing.T) {
	s := New(Config{})
	if s.cfg.Listen != DefaultListen || s.cfg.QueueBytes != DefaultQueueBytes || s.cfg.MaxClients != DefaultMaxClients {
		t.Errorf("defaults: %+v", s.cfg)
	}
	ten := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		addr  net.Addr
		allow []netip.Prefix
		want  bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9999}, nil, false},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 9999}, nil, false},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 9999}, nil, true},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 9999}, nil, true},
		{&net.TCPAddr{IP: net.IPv4(192, 168, 1, 2), Port: 9999}, nil, true},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 9999}, ten, false},
	} {
		if got := localOnly(tc.addr, tc.allow); got != tc.want {
			t.Errorf("localOnly(%v, %v) = %v, want %v", tc.addr, tc.allow, got, tc.want)
		}
	}
}

// End to end: 10,000 lines appended to the file come out of a source.TCP
// connected to the server exactly once each, in order.
func TestEndToEnd(t *testing.T) {
	h := startServer(t, Config{}, nil)
	tc := h.tcpClient()
	h.waitClients(1)
	want := seq("e2e", 1, 10000)
	for i := 0; i < len(want); i += 500 {
		testutil.AppendFile(t, h.path, text(want[i:i+500]))
		h.p.Step(t)
	}
	got := tc.take(t, len(want))
	if !slices.Equal(got, want) {
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("line %d: got %q, want %q", i, got[i], want[i])
			}
		}
	}
	if s := tc.src.Stats(); s.Lines != 10000 || s.Framed != 0 || s.Connects != 1 || s.DroppedPartial != 0 {
		t.Errorf("source stats %+v", s)
	}
	if s := h.s.Stats(); s.Lines != 10000 || s.SlowDisconnects != 0 {
		t.Errorf("server stats %+v", s)
	}
}
