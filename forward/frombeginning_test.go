package forward

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

// runServer runs a server with the production poller (fsnotify and a short
// ticker) until the test ends.
func runServer(t *testing.T, cfg Config) (*Server, *testutil.SyncBuffer) {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	cfg.Listen = "127.0.0.1:0"
	cfg.PollInterval = 20 * time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(testutil.Timeout):
			t.Error("Run did not return after cancellation")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run returned early: %v", err)
	case <-time.After(testutil.Timeout):
		t.Fatal("server never listened")
	}
	return s, logs
}

type lineConn struct {
	c net.Conn
	r *bufio.Reader
}

func dialLines(t *testing.T, s *Server) *lineConn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &lineConn{c, bufio.NewReader(c)}
}

func (l *lineConn) expect(t *testing.T, who string, want []string) {
	t.Helper()
	if got := readLines(t, l.r, l.c, len(want)); !slices.Equal(got, want) {
		t.Fatalf("%s: got %q, want %q", who, got, want)
	}
}

// With FromBeginning every client that connects gets the file's existing
// lines, then the new ones: a second client as well as the first.
func TestFromBeginningEveryClient(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "node.log")
	lines := seq("line", 1, 8)
	testutil.AppendFile(t, path, text(lines[:3]))
	s, _ := runServer(t, Config{Path: path, FromBeginning: true})

	first := dialLines(t, s)
	first.expect(t, "first client, existing lines", lines[:3])
	testutil.AppendFile(t, path, text(lines[3:5]))
	first.expect(t, "first client, new lines", lines[3:5])

	second := dialLines(t, s)
	second.expect(t, "second client, existing lines", lines[:5])
	testutil.WaitFor(t, "two clients", func() bool { return s.Stats().Clients == 2 })
	testutil.AppendFile(t, path, text(lines[5:8]))
	first.expect(t, "first client, newer lines", lines[5:8])
	second.expect(t, "second client, new lines", lines[5:8])

	// a client that comes back gets the file again, from its start
	first.c.Close()
	again := dialLines(t, s)
	again.expect(t, "a client connecting again", lines)
}

// With FromBeginning, a client connected before the file exists gets it
// whole once it appears; without it, a client gets only the lines written
// after it connected.
func TestFromBeginningFileLater(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "node.log")
	s, _ := runServer(t, Config{Path: path, FromBeginning: true})
	c := dialLines(t, s)
	testutil.WaitFor(t, "the client", func() bool { return s.Stats().Clients == 1 })
	lines := seq("late", 1, 4)
	if err := os.WriteFile(path, []byte(text(lines)), 0o644); err != nil {
		t.Fatal(err)
	}
	c.expect(t, "client connected before the file existed", lines)

	path2 := filepath.Join(t.TempDir(), "node.log")
	testutil.AppendFile(t, path2, text(seq("old", 1, 3)))
	s2, _ := runServer(t, Config{Path: path2})
	c2 := dialLines(t, s2)
	// the follower starts at the end of the file it finds when it starts
	testutil.WaitFor(t, "the client and the file open", func() bool { st := s2.Stats(); return st.Clients == 1 && st.Open })
	testutil.AppendFile(t, path2, text(seq("new", 1, 2)))
	c2.expect(t, "client without FromBeginning", seq("new", 1, 2))
}
