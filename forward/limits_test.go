package forward

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

// 1,000 clients that connect and never read, then 20,000 lines of 1 kB:
// only MaxClients are accepted (the rest closed at once and counted), every
// accepted one is dropped as slow once its queue is full, connections are
// logged at Debug only, and the heap stays bounded throughout. Before the
// connection limit and the byte-bounded queues, the 1,000 queues of 10,000
// line slots alone took 240 MB.
func TestManyClientsNeverRead(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 connections")
	}
	h := startServer(t, Config{}, nil)
	base := heapAlloc()
	const clients = 1000
	for range clients {
		c, err := net.Dial("tcp", h.addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	testutil.WaitFor(t, "every connection accepted or refused", func() bool {
		s := h.s.Stats()
		return s.Accepted+s.OverLimit == clients
	})
	if s := h.s.Stats(); s.Accepted != DefaultMaxClients || s.Clients != DefaultMaxClients || s.OverLimit != clients-DefaultMaxClients {
		t.Fatalf("stats %+v, want %d accepted and connected, %d over the limit", s, DefaultMaxClients, clients-DefaultMaxClients)
	}
	peak := heapAlloc()
	line := strings.Repeat("x", 1000)
	for i := range 20 {
		var b strings.Builder
		for j := range 1000 {
			fmt.Fprintf(&b, "%05d %s\n", i*1000+j, line)
		}
		testutil.AppendFile(t, h.path, b.String())
		h.p.Step(t)
		peak = max(peak, heapAlloc())
	}
	grown := int64(peak) - int64(base)
	t.Logf("heap: %d MB before the clients, at most %d MB more with %d clients and 20,000 lines", base>>20, grown>>20, clients)
	if grown > 64<<20 {
		t.Errorf("the heap grew by %d MB, want at most 64 MB", grown>>20)
	}
	// 20 MB of lines are more than a queue (8 MiB) and the kernel's
	// buffers (at most about 4 MB each way) hold.
	testutil.WaitFor(t, "every client dropped as slow", func() bool { return h.s.Stats().Clients == 0 })
	if s := h.s.Stats(); s.SlowDisconnects != DefaultMaxClients || s.Disconnected != DefaultMaxClients || s.Lines != 20000 {
		t.Errorf("stats %+v, want %d slow disconnects", s, DefaultMaxClients)
	}
	logs := h.logs.String()
	if n := strings.Count(logs, `level=DEBUG msg="client connected"`); n != DefaultMaxClients {
		t.Errorf("%d Debug logs of a connection, want %d", n, DefaultMaxClients)
	}
	if n := strings.Count(logs, `level=INFO msg="client`); n != 0 {
		t.Errorf("%d connection logs at Info, want none", n)
	}
	if n := strings.Count(logs, "too many clients connected"); n != 1 {
		t.Errorf("%d Warns about the connection limit, want 1 (at most one a minute)", n)
	}
	if n := strings.Count(logs, `msg="refused a client: too many clients"`); n != clients-DefaultMaxClients {
		t.Errorf("%d Debug logs of refused connections, want %d", n, clients-DefaultMaxClients)
	}
	h.stop()
	if !strings.Contains(h.logs.String(), `msg="forwarding stopped" clients_accepted=64 clients_disconnected=64 refused_not_allowed=0 refused_over_limit=936 slow_disconnects=64 lines_cut_too_long=0`) {
		t.Errorf("no summary at Info on exit:\n%s", lastLines(h.logs.String(), 3))
	}
}

// A client that leaves makes room under the limit.
func TestMaxClients(t *testing.T) {
	h := startServer(t, Config{MaxClients: 2}, nil)
	a := h.dial()
	h.dial()
	h.waitClients(2)
	c := h.dial()
	expectEOF(t, c, c)
	if s := h.s.Stats(); s.OverLimit != 1 || s.Accepted != 2 {
		t.Fatalf("stats %+v", s)
	}
	a.Close()
	// Writes notice a client that left: the first one draws the reset, a
	// later one fails.
	testutil.WaitFor(t, "the first client gone", func() bool {
		testutil.AppendFile(t, h.path, "line\n")
		h.p.Step(t)
		return h.s.Stats().Disconnected == 1
	})
	h.dial()
	h.waitClients(2)
	if s := h.s.Stats(); s.OverLimit != 1 || s.Accepted != 3 {
		t.Fatalf("stats %+v", s)
	}
}

// heapAlloc returns the live heap.
func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}
