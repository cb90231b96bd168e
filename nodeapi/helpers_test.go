package nodeapi_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
)

// fixtures are the composed node API responses of ../testdata/nodeapi
// (shapes in docs/node-api.md).
const fixtures = "../testdata/nodeapi"

// Satellite IDs of the fixtures.
const (
	us1      = "12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S"
	eu1      = "12L9ZFwhzVpuEKMUNUqkaTLGzwY9G24tbiigLiXpmZWKwmcNDDs"
	ap1      = "121RTSDpyNZVcEU84Ticf2L1ntiuUimbWgfATz21tuvgk3vzoA6"
	saltlake = "1wFTAgs9DP5RSnCqKV1eLf6N9wtk4EAtmN5DpSxcs8EjT69tGE"
)

// nodeServer serves one fixture folder the way a node serves its API:
// JSON with status 200 on the API routes, the error body of §5.1 for an
// unknown satellite, and an HTML page with status 200 everywhere else.
type nodeServer struct {
	*httptest.Server
	dir string

	failAll       atomic.Bool // every API route answers 500
	failSatellite atomic.Bool // /api/sno/satellite/{id} answers 500
	failPayout    atomic.Bool // /api/sno/estimated-payout answers 500

	mu   sync.Mutex
	hits map[string]int // by path

	snoHit chan struct{} // one value per /api/sno/ request, if not full
}

func newNodeServer(t *testing.T, version string) *nodeServer {
	t.Helper()
	s := &nodeServer{
		dir:    filepath.Join(fixtures, version),
		hits:   make(map[string]int),
		snoHit: make(chan struct{}, 64),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/sno/{$}", func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.snoHit <- struct{}{}:
		default:
		}
		s.serve(t, w, r, "sno.json", false)
	})
	mux.HandleFunc("GET /api/sno/satellites", func(w http.ResponseWriter, r *http.Request) {
		s.serve(t, w, r, "satellites.json", false)
	})
	mux.HandleFunc("GET /api/sno/satellite/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.serve(t, w, r, "satellite-"+r.PathValue("id")+".json", s.failSatellite.Load())
	})
	mux.HandleFunc("GET /api/sno/estimated-payout", func(w http.ResponseWriter, r *http.Request) {
		s.serve(t, w, r, "estimated-payout.json", s.failPayout.Load())
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		_, _ = w.Write(readFixture(t, "errors/not-json.txt"))
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *nodeServer) serve(t *testing.T, w http.ResponseWriter, r *http.Request, name string, fail bool) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.mu.Unlock()
	if fail || s.failAll.Load() {
		writeJSON(w, http.StatusInternalServerError, []byte(`{"error":"console: database is locked"}`))
		return
	}
	body, err := os.ReadFile(filepath.Join(s.dir, name))
	if errors.Is(err, os.ErrNotExist) {
		writeJSON(w, http.StatusNotFound, readFixture(t, "errors/api-error-404.json"))
		return
	}
	if err != nil {
		t.Errorf("fixture: %v", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// hitCount returns how often path was requested.
func (s *nodeServer) hitCount(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return b
}

func newClient(t *testing.T, url string, timeout time.Duration) *nodeapi.Client {
	t.Helper()
	c, err := nodeapi.NewClient(url, timeout, nil)
	if err != nil {
		t.Fatalf("NewClient(%q): %v", url, err)
	}
	return c
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logBuffer collects a text logger's output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// count returns the number of log lines containing all of subs.
func (b *logBuffer) count(subs ...string) int {
	n := 0
	for line := range strings.Lines(b.String()) {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all {
			n++
		}
	}
	return n
}
