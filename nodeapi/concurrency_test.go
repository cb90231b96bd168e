package nodeapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
)

// The satellite requests of one poll run SatelliteConcurrency at a time: a
// node whose every request is slow (here: held until the test lets them go)
// answers a poll in the time of one request per batch, not one per
// satellite, and is never asked more than that at once. Sequential
// requests never had two in flight, so this waited in vain.
func TestSatelliteRequestsConcurrent(t *testing.T) {
	dir := filepath.Join("..", "testdata", "nodeapi", "v1.162")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var (
		mu                sync.Mutex
		inflight, maxSeen int
		release           = make(chan struct{})
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		id, ok := strings.CutPrefix(r.URL.Path, "/api/sno/satellite/")
		if !ok {
			if r.URL.Path == "/api/sno/" {
				_, _ = w.Write(read("sno.json"))
			} else {
				_, _ = w.Write(read("estimated-payout.json"))
			}
			return
		}
		mu.Lock()
		inflight++
		maxSeen = max(maxSeen, inflight)
		rel := release
		mu.Unlock()
		select {
		case <-rel:
		case <-r.Context().Done():
		}
		mu.Lock()
		inflight--
		mu.Unlock()
		_, _ = w.Write(read("satellite-" + id + ".json"))
	}))
	defer srv.Close()
	c, err := nodeapi.NewClient(srv.URL, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, conc := range []int{2, 0} { // 0: the default
		want := conc
		if conc == 0 {
			want = nodeapi.DefaultSatelliteConcurrency
		}
		mu.Lock()
		maxSeen = 0
		release = make(chan struct{})
		rel := release
		mu.Unlock()
		p := nodeapi.NewPoller("N", c, nodeapi.PollerOptions{SatelliteConcurrency: conc})
		done := make(chan error, 1)
		go func() { done <- p.PollOnce(context.Background()) }()
		testutil.WaitFor(t, "satellite requests in flight together", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return inflight == want
		})
		close(rel)
		if err := <-done; err != nil {
			t.Fatalf("concurrency %d: %v", conc, err)
		}
		mu.Lock()
		got := maxSeen
		mu.Unlock()
		if got != want {
			t.Errorf("concurrency %d: at most %d requests in flight, want %d", conc, got, want)
		}
		if s := p.Snapshot(); !s.Up || len(s.Satellites) != 4 {
			t.Errorf("concurrency %d: up %v, %d satellites, want 4", conc, s.Up, len(s.Satellites))
		}
	}
}
