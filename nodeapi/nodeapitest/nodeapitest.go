// Package nodeapitest serves recorded node API responses over HTTP on
// loopback, the way a storage node serves its API, for the tests of the
// node API client, poller and collector and of serve (as net/http/httptest
// does for handlers). The responses are the composed fixtures of the
// repository's testdata/nodeapi (one folder per node version; shapes in
// docs/node-api.md).
package nodeapitest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// Server serves one fixture folder as a node serves its API: JSON with
// status 200 on the API routes, the node's error body with status 404 for a
// satellite it does not know, and an HTML page with status 200 everywhere
// else. It is closed when the test ends.
type Server struct {
	*httptest.Server
	root, dir string

	FailAll       atomic.Bool // every API route answers 500
	FailSatellite atomic.Bool // /api/sno/satellite/{id} answers 500
	FailPayout    atomic.Bool // /api/sno/estimated-payout answers 500

	// SNOHit receives one value per /api/sno/ request while it has room
	// (64).
	SNOHit chan struct{}

	mu   sync.Mutex
	hits map[string]int // by path
}

// NewServer starts a server of the responses in root/version (root is
// the testdata/nodeapi folder, version e.g. "v1.162").
func NewServer(t testing.TB, root, version string) *Server {
	t.Helper()
	s := &Server{
		root:   root,
		dir:    filepath.Join(root, version),
		hits:   make(map[string]int),
		SNOHit: make(chan struct{}, 64),
	}
	if _, err := os.Stat(filepath.Join(s.dir, "sno.json")); err != nil {
		t.Fatalf("nodeapitest: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/sno/{$}", func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.SNOHit <- struct{}{}:
		default:
		}
		s.serve(t, w, r, "sno.json", false)
	})
	mux.HandleFunc("GET /api/sno/satellites", func(w http.ResponseWriter, r *http.Request) {
		s.serve(t, w, r, "satellites.json", false)
	})
	mux.HandleFunc("GET /api/sno/satellite/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.serve(t, w, r, "satellite-"+r.PathValue("id")+".json", s.FailSatellite.Load())
	})
	mux.HandleFunc("GET /api/sno/estimated-payout", func(w http.ResponseWriter, r *http.Request) {
		s.serve(t, w, r, "estimated-payout.json", s.FailPayout.Load())
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		_, _ = w.Write(s.fixture(t, "errors/not-json.txt"))
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(t testing.TB, w http.ResponseWriter, r *http.Request, name string, fail bool) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.mu.Unlock()
	if fail || s.FailAll.Load() {
		writeJSON(w, http.StatusInternalServerError, []byte(`{"error":"console: database is locked"}`))
		return
	}
	body, err := os.ReadFile(filepath.Join(s.dir, name))
	if errors.Is(err, os.ErrNotExist) {
		writeJSON(w, http.StatusNotFound, s.fixture(t, "errors/api-error-404.json"))
		return
	}
	if err != nil {
		t.Errorf("nodeapitest: %v", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// Hits returns how often path was requested.
func (s *Server) Hits(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func (s *Server) fixture(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join(s.root, name))
	if err != nil {
		t.Errorf("nodeapitest: %v", err)
	}
	return b
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
