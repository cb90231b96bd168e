package source

import (
	"context"
	"errors"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"io"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// lineServer is a TCP listener on loopback whose connections the test
// takes one by one.
type lineServer struct {
	t     *testing.T
	ln    net.Listener
	conns chan net.Conn
}

func newLineServer(t *testing.T) *lineServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &lineServer{t: t, ln: ln, conns: make(chan net.Conn, 100)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for {
			select {
			case c := <-s.conns:
				c.Close()
			default:
				return
			}
		}
	})
	return s
}

func (s *lineServer) addr() string { return s.ln.Addr().String() }

// accept returns the next connection.
func (s *lineServer) accept() net.Conn {
	s.t.Helper()
	select {
	case c := <-s.conns:
		s.t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(testutil.Timeout):
		s.t.Fatal("no connection")
		return nil
	}
}

func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatal(err)
	}
}

// fakeClock replaces time.After for the backoff: every delay asked for is
// recorded on calls; the wait ends at once if auto, else when the test
// sends on fire.
type fakeClock struct {
	auto  bool
	calls chan time.Duration
	fire  chan time.Time
}

func newFakeClock(auto bool) *fakeClock {
	return &fakeClock{auto: auto, calls: make(chan time.Duration, 1000), fire: make(chan time.Time)}
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.calls <- d
	if c.auto {
		ch := make(chan time.Time, 1)
		ch <- time.Time{}
		return ch
	}
	return c.fire
}

// next returns the next delay waited for.
func (c *fakeClock) next(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-c.calls:
		return d
	case <-time.After(testutil.Timeout):
		t.Fatal("the source never waited")
		return 0
	}
}

func (c *fakeClock) release(t *testing.T) {
	t.Helper()
	select {
	case c.fire <- time.Time{}:
	case <-time.After(testutil.Timeout):
		t.Fatal("the source is not waiting")
	}
}

func newTestTCP(t *testing.T, addr string, clock *fakeClock) (*TCP, *testutil.SyncBuffer) {
	log, buf := testLogger(t)
	src := NewTCP(addr, log)
	src.After = clock.After
	return src, buf
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{2, 2, 4, 8, 16, 32, 60, 60, 60}
	for attempt, w := range want {
		if got := Backoff(attempt); got != w*time.Second {
			t.Errorf("Backoff(%d) = %v, want %v", attempt, got, w*time.Second)
		}
	}
	for _, attempt := range []int{-1, 100, 1 << 30} {
		if got := Backoff(attempt); got != MinBackoff && got != MaxBackoff {
			t.Errorf("Backoff(%d) = %v", attempt, got)
		}
	}
}

func TestParseFrame(t *testing.T) {
	for _, tc := range []struct {
		in, data string
		received time.Time // zero: not framed
	}{
		{"1735689600.123 2025-01-01T00:00:00Z\tINFO\tx", "2025-01-01T00:00:00Z\tINFO\tx", time.Unix(1735689600, 123e6)},
		{"1735689600 plain after", "plain after", time.Unix(1735689600, 0)},
		{"1735689600.5 x", "x", time.Unix(1735689600, 5e8)},
		{"1735689600.123456789987 x", "x", time.Unix(1735689600, 123456789)},
		{"0 x", "x", time.Unix(0, 0)},
		{"1735689600.5  two spaces", " two spaces", time.Unix(1735689600, 5e8)},
		// Not framed.
		{"2025-01-01T00:00:00.000Z\tINFO\tpiecestore\tuploaded", "2025-01-01T00:00:00.000Z\tINFO\tpiecestore\tuploaded", time.Time{}},
		{"2025-01-01 00:00:00 x", "2025-01-01 00:00:00 x", time.Time{}},
		{"INFO\tpiecestore\tdownloaded", "INFO\tpiecestore\tdownloaded", time.Time{}},
		{"1735689600 ", "1735689600 ", time.Time{}},
		{"1735689600", "1735689600", time.Time{}},
		{"1735689600.", "1735689600.", time.Time{}},
		{"1735689600. x", "1735689600. x", time.Time{}},
		{"1735689600.x y", "1735689600.x y", time.Time{}},
		{"1735689600\tx", "1735689600\tx", time.Time{}},
		{"1735689600.1.2 x", "1735689600.1.2 x", time.Time{}},
		{"1234567890123 x", "1234567890123 x", time.Time{}},
		{" 1735689600 x", " 1735689600 x", time.Time{}},
		{"-1 x", "-1 x", time.Time{}},
		{"", "", time.Time{}},
	} {
		got := parseFrame([]byte(tc.in))
		if string(got.Data) != tc.data || !got.Received.Equal(tc.received) || got.Received.IsZero() != tc.received.IsZero() {
			t.Errorf("parseFrame(%q) = %q, %v; want %q, %v", tc.in, got.Data, got.Received, tc.data, tc.received)
		}
	}
}

// Plain and framed lines, detected line by line, over a real connection.
func TestTCPPlainAndFramed(t *testing.T) {
	srv := newLineServer(t)
	src, _ := newTestTCP(t, srv.addr(), newFakeClock(false))
	if src.Up() {
		t.Error("Up before Run")
	}
	r := runSource(t, src, nil)
	c := srv.accept()
	testutil.WaitFor(t, "Up", src.Up)
	write(t, c, "2025-01-01T00:00:00.000Z\tINFO\tpiecestore\tuploaded\n"+
		"1735689600.123 2025-01-01T00:00:00Z\tINFO\tframed\r\n"+
		"\n"+
		"1735689601 INFO\tno time\n")
	got := r.take(4)
	want := []Line{
		{Data: []byte("2025-01-01T00:00:00.000Z\tINFO\tpiecestore\tuploaded")},
		{Data: []byte("2025-01-01T00:00:00Z\tINFO\tframed"), Received: time.Unix(1735689600, 123e6)},
		{Data: []byte("")},
		{Data: []byte("INFO\tno time"), Received: time.Unix(1735689601, 0)},
	}
	for i := range want {
		if string(got[i].Data) != string(want[i].Data) || !got[i].Received.Equal(want[i].Received) {
			t.Errorf("line %d: got %q %v, want %q %v", i, got[i].Data, got[i].Received, want[i].Data, want[i].Received)
		}
	}
	if s := src.Stats(); s.Lines != 4 || s.Framed != 2 || s.Connects != 1 || !s.Up {
		t.Errorf("stats %+v", s)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if src.Up() {
		t.Error("Up after Run returned")
	}
}

// chunkConn returns at most max bytes per Read, so that lines are split
// across reads.
type chunkConn struct {
	net.Conn
	max int
}

func (c chunkConn) Read(p []byte) (int, error) {
	return c.Conn.Read(p[:min(len(p), c.max)])
}

// Lines split across reads, written in pieces, and a line longer than the
// initial buffer.
func TestTCPSplitLines(t *testing.T) {
	srv := newLineServer(t)
	src, _ := newTestTCP(t, srv.addr(), newFakeClock(false))
	var reads atomic.Int64
	src.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return chunkConn{c, 3 + int(reads.Add(1)%5)}, nil
	}
	r := runSource(t, src, nil)
	c := srv.accept()
	long := strings.Repeat("x", 300<<10)
	for _, piece := range []string{"17356", "89600.25 fra", "med\npla", "in\r", "\n", long[:1000], long[1000:] + "\n1 ", "a\n"} {
		write(t, c, piece)
	}
	got := r.take(4)
	if g := data(got); !slices.Equal(g, []string{"framed", "plain", long, "a"}) {
		t.Fatalf("got %s", testutil.Abbrev(g, 20))
	}
	if !got[0].Received.Equal(time.Unix(1735689600, 25e7)) || !got[3].Received.Equal(time.Unix(1, 0)) {
		t.Errorf("received %v, %v", got[0].Received, got[3].Received)
	}
}

// The server closes the connection: the line it cut is dropped and counted,
// Up goes false during the backoff, the source reconnects, and the backoff
// starts over after a connection that delivered data but keeps growing
// while connections end without any.
func TestTCPReconnect(t *testing.T) {
	srv := newLineServer(t)
	clock := newFakeClock(false)
	src, logs := newTestTCP(t, srv.addr(), clock)
	r := runSource(t, src, nil)

	c := srv.accept()
	testutil.WaitFor(t, "Up", src.Up)
	write(t, c, "one\ntwo\npart")
	r.expect("one", "two")
	c.Close()
	if d := clock.next(t); d != 2*time.Second {
		t.Errorf("first delay %v, want 2s", d)
	}
	if src.Up() {
		t.Error("Up while waiting to reconnect")
	}
	if s := src.Stats(); s.DroppedPartial != 1 || s.DroppedPartialBytes != 4 || s.Disconnects != 1 || s.Connects != 1 {
		t.Errorf("stats after the first disconnect: %+v", s)
	}
	clock.release(t)

	c = srv.accept()
	testutil.WaitFor(t, "Up again", src.Up)
	write(t, c, "three\n")
	r.expect("three") // not "partthree"
	c.Close()
	if d := clock.next(t); d != 2*time.Second {
		t.Errorf("delay after a connection with data: %v, want 2s", d)
	}

	// Connections closed at once (as by a forwarder's allow list): 2, 4,
	// 8 s, and one warning only.
	for _, want := range []time.Duration{4, 8, 16} {
		clock.release(t)
		srv.accept().Close()
		if d := clock.next(t); d != want*time.Second {
			t.Errorf("delay %v, want %v", d, want*time.Second)
		}
	}
	if n := logs.Count("without sending anything"); n != 1 {
		t.Errorf("%d warnings about empty connections, want 1", n)
	}
	clock.release(t)
	c = srv.accept()
	write(t, c, "four\n")
	r.expect("four")
	c.Close()
	if d := clock.next(t); d != 2*time.Second {
		t.Errorf("delay after data again: %v, want 2s", d)
	}
	if s := src.Stats(); s.Connects != 6 || s.Disconnects != 6 || s.DroppedPartial != 1 || s.Lines != 4 {
		t.Errorf("stats %+v", s)
	}
	if n := logs.Count("connection to the forwarder lost"); n != 3 {
		t.Errorf("%d warnings about lost connections, want 3 (one per episode)", n)
	}
	// Cancel during the backoff.
	if err := r.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// Failed dials back off 2, 4, 8, 16, 32, 60, 60 s with one warning, then
// the source connects.
func TestTCPDialFailures(t *testing.T) {
	srv := newLineServer(t)
	clock := newFakeClock(true)
	src, logs := newTestTCP(t, srv.addr(), clock)
	var fails atomic.Int64
	src.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if fails.Add(1) <= 7 {
			return nil, errors.New("connection refused")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	r := runSource(t, src, nil)
	c := srv.accept()
	testutil.WaitFor(t, "Up", src.Up)
	var got []time.Duration
	for range 7 {
		got = append(got, clock.next(t)/time.Second)
	}
	if want := []time.Duration{2, 4, 8, 16, 32, 60, 60}; !slices.Equal(got, want) {
		t.Errorf("delays %v s, want %v s", got, want)
	}
	if n := logs.Count("cannot connect"); n != 1 {
		t.Errorf("%d dial warnings, want 1", n)
	}
	if s := src.Stats(); s.DialErrors != 7 || s.Connects != 1 {
		t.Errorf("stats %+v", s)
	}
	write(t, c, "x\n")
	r.expect("x")
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
}

// Cancellation while connected and idle returns nil; emit's error is
// returned as is; an address without a port is an error at once.
func TestTCPEndings(t *testing.T) {
	srv := newLineServer(t)
	src, _ := newTestTCP(t, srv.addr(), newFakeClock(false))
	r := runSource(t, src, nil)
	srv.accept()
	testutil.WaitFor(t, "Up", src.Up)
	if err := r.stop(); err != nil {
		t.Fatalf("cancel while connected: %v", err)
	}
	if src.Up() {
		t.Error("Up after Run returned")
	}

	stop := errors.New("stop")
	src, _ = newTestTCP(t, srv.addr(), newFakeClock(false))
	r = runSource(t, src, func(Line) error { return stop })
	write(t, srv.accept(), "a\n")
	if err := r.result(); err != stop {
		t.Fatalf("emit error: got %v", err)
	}

	err := NewTCP("no-port", nil).Run(context.Background(), func(Line) error { return nil })
	if err == nil {
		t.Fatal("no error for an address without a port")
	}
}
