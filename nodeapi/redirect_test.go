package nodeapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
)

// A node API that redirects to another server is an error that says so:
// the other server's data (a valid dashboard here) is not taken as this
// node's. A redirect on the node's own address (the trailing-slash
// redirect the node sends) is still followed.
func TestRedirects(t *testing.T) {
	sno, err := os.ReadFile(filepath.Join("..", "testdata", "nodeapi", "v1.162", "sno.json"))
	if err != nil {
		t.Fatal(err)
	}
	serveSNO := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(sno)
	}
	var otherHits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
		serveSNO(w, r)
	}))
	defer other.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("/away/api/sno/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/api/sno/", http.StatusFound)
	})
	mux.HandleFunc("/same/api/sno/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/real/api/sno/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/real/api/sno/", serveSNO)
	node := httptest.NewServer(mux)
	defer node.Close()

	ctx := context.Background()
	away, err := nodeapi.NewClient(node.URL+"/away", 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := away.SNO(ctx)
	if err == nil {
		t.Fatalf("a redirect to another server was followed: %+v", d)
	}
	if !errors.Is(err, nodeapi.ErrRedirectOtherHost) || !strings.Contains(err.Error(), "redirected to another host") ||
		!strings.Contains(err.Error(), strings.TrimPrefix(other.URL, "http://")) {
		t.Errorf("error %q: want one that names the other host", err)
	}
	if n := otherHits.Load(); n != 0 {
		t.Errorf("the other server was asked %d times", n)
	}

	same, err := nodeapi.NewClient(node.URL+"/same", 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := same.SNO(ctx); err != nil || d.NodeID == "" {
		t.Errorf("a redirect on the node's own address: %v, %+v", err, d)
	}
}
