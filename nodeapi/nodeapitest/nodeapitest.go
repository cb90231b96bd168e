// Package nodeapitest serves recorded node API responses over HTTP on
// loopback, the way a storage node serves its API, for the tests of the
// node API client, poller and collector and of serve (as net/http/httptest
// does for handlers). The responses are the composed fixtures of the
// repository's testdata/nodeapi (one folder per node version; shapes in
// docs/node-api.md). The earnings routes (estimated-payout?id=, the
// heldamount routes) are served from the version's folder, or, after
// BorrowEarnings, from testdata/nodeapi/earnings, the earnings of a node
// with the same four satellites.
package nodeapitest

import (
	"encoding/json"
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
	// FailSatellitePayout makes /api/sno/estimated-payout?id= answer 500
	// for this satellite ID ("*": for all).
	FailSatellitePayout atomic.Value
	FailHeldamount      atomic.Bool // /api/heldamount/* answer 500
	// Heldamount is how the /api/heldamount/* routes answer: Served, or
	// as an older node that lacks them (LackHTML, LackNotFound).
	Heldamount atomic.Int32

	// SNOHit receives one value per /api/sno/ request while it has room
	// (64).
	SNOHit chan struct{}

	mu      sync.Mutex
	hits    map[string]int // by path
	overlay string         // see Overlay
	borrow  bool           // see BorrowEarnings
}

// BorrowEarnings makes a version folder without earnings fixtures answer
// the earnings routes from testdata/nodeapi/earnings (same satellites).
func (s *Server) BorrowEarnings() *Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.borrow = true
	return s
}

// Overlay makes the server answer from the folder root/version first, and
// from its own folder for the files that one lacks: a variant of a node
// (later paystubs, say) without copying the rest.
func (s *Server) Overlay(version string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.overlay = filepath.Join(s.root, version)
}

// path returns the file of fixture name (relative to the version folder).
func (s *Server) path(name string) string {
	s.mu.Lock()
	overlay := s.overlay
	s.mu.Unlock()
	if overlay != "" {
		if p := filepath.Join(overlay, filepath.Base(name)); fileExists(p) {
			return p
		}
	}
	return filepath.Join(s.dir, name)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Values of Server.Heldamount.
const (
	Served       = 0
	LackHTML     = 1 // 200 with the dashboard's HTML page (gorilla/mux fall-through)
	LackNotFound = 2 // 404 text/plain (a node built without web assets)
)

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
		id := r.URL.Query().Get("id")
		if id == "" {
			s.serve(t, w, r, "estimated-payout.json", s.FailPayout.Load())
			return
		}
		fail, _ := s.FailSatellitePayout.Load().(string)
		s.serve(t, w, r, s.earnings("estimated-payout-id-"+id+".json"), fail == "*" || fail == id)
	})
	mux.HandleFunc("GET /api/heldamount/periods", func(w http.ResponseWriter, r *http.Request) {
		s.heldamount(t, w, r, "heldamount-periods.json", "", "")
	})
	mux.HandleFunc("GET /api/heldamount/held-history", func(w http.ResponseWriter, r *http.Request) {
		s.heldamount(t, w, r, "heldamount-held-history.json", "", "")
	})
	mux.HandleFunc("GET /api/heldamount/paystubs/{from}/{to}", func(w http.ResponseWriter, r *http.Request) {
		s.heldamount(t, w, r, "heldamount-paystubs.json", r.PathValue("from"), r.PathValue("to"))
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
	s.hits[r.URL.RequestURI()]++
	s.mu.Unlock()
	if fail || s.FailAll.Load() {
		writeJSON(w, http.StatusInternalServerError, []byte(`{"error":"console: database is locked"}`))
		return
	}
	body, err := os.ReadFile(s.path(name))
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

// earnings returns the path, relative to the version's folder, of an
// earnings fixture: the version's own, else (BorrowEarnings) the earnings
// folder's.
func (s *Server) earnings(name string) string {
	s.mu.Lock()
	borrow := s.borrow
	s.mu.Unlock()
	if !borrow || fileExists(filepath.Join(s.dir, name)) {
		return name
	}
	return filepath.Join("..", "earnings", name)
}

// heldamount serves a /api/heldamount route. heldamount-paystubs.json
// holds all paystubs; a range request gets those of its months, or null.
func (s *Server) heldamount(t testing.TB, w http.ResponseWriter, r *http.Request, name, from, to string) {
	switch s.Heldamount.Load() {
	case LackHTML:
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		_, _ = w.Write(s.fixture(t, "errors/not-json.txt"))
		return
	case LackNotFound:
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	name = s.earnings(name)
	if from == "" || !fileExists(s.path(name)) {
		s.serve(t, w, r, name, s.FailHeldamount.Load())
		return
	}
	if len(from) != 7 || len(to) != 7 || from > to {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, []byte(`{"error":"consoleapi payouts: wrong period format: period has wrong format"}`+"\n"))
		return
	}
	if s.FailHeldamount.Load() || s.FailAll.Load() {
		s.serve(t, w, r, name, true)
		return
	}
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.mu.Unlock()
	var all []json.RawMessage
	b, err := os.ReadFile(s.path(name))
	if err != nil {
		t.Errorf("nodeapitest: %v", err)
	}
	if err := json.Unmarshal(b, &all); err != nil {
		t.Errorf("nodeapitest: %s: %v", name, err)
	}
	var kept []json.RawMessage
	for _, raw := range all {
		var p struct {
			Period string `json:"period"`
		}
		_ = json.Unmarshal(raw, &p)
		if p.Period >= from && p.Period <= to {
			kept = append(kept, raw)
		}
	}
	body, _ := json.Marshal(kept) // nil: null, as the node sends
	writeJSON(w, http.StatusOK, append(body, '\n'))
}

// Hits returns how often path (with its query, if any) was requested.
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
