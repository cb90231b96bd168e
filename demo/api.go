package demo

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// The sample node API responses (see nodeapi/README.md).
//
//go:embed nodeapi/*.json
var apiFiles embed.FS

// fixtureTime is when the sample responses were composed: served, their
// times move forward by the time since then.
var fixtureTime = time.Date(2026, 9, 5, 14, 20, 31, 0, time.UTC)

// timestamp matches a JSON string that is an RFC 3339 UTC time, as the node
// writes them.
var timestamp = regexp.MustCompile(`"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)"`)

// Shift moves the RFC 3339 UTC times in a sample response from fixtureTime
// to now: whole-hour times (daily rows, audit windows) by whole days, so
// the last daily row is today's; other times by the exact difference.
func Shift(body []byte, now time.Time) []byte {
	delta := now.Sub(fixtureTime)
	days := int(dayOf(now).Sub(dayOf(fixtureTime)) / (24 * time.Hour))
	return timestamp.ReplaceAllFunc(body, func(m []byte) []byte {
		t, err := time.Parse(time.RFC3339Nano, string(m[1:len(m)-1]))
		if err != nil || t.Year() < 2000 { // 0001-01-01T00:00:00Z is the node's "never"
			return m
		}
		if t.Equal(t.Truncate(time.Hour)) {
			t = t.AddDate(0, 0, days)
		} else {
			t = t.Add(delta)
		}
		return fmt.Appendf(nil, "%q", t.UTC().Format(time.RFC3339Nano))
	})
}

func dayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// APIHandler serves the sample node API: GET /api/sno/, /api/sno/satellites,
// /api/sno/satellite/{id} and /api/sno/estimated-payout, with times shifted
// to now() at each request. Other paths get the node's 404 JSON error.
func APIHandler(now func() time.Time) http.Handler {
	if now == nil {
		now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var file string
		switch p := r.URL.Path; {
		case p == "/api/sno/":
			file = "sno.json"
		case p == "/api/sno/satellites":
			file = "satellites.json"
		case p == "/api/sno/estimated-payout":
			file = "estimated-payout.json"
		case strings.HasPrefix(p, "/api/sno/satellite/"):
			id := strings.TrimPrefix(p, "/api/sno/satellite/")
			if id != "" && !strings.ContainsAny(id, "/.") {
				file = "satellite-" + id + ".json"
			}
		}
		body, err := apiFiles.ReadFile("nodeapi/" + file)
		if file == "" || err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"error":%q}`+"\n", "not found: "+r.URL.Path)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(Shift(body, now()))
	})
}

// API is the sample node API served on a loopback port of its own.
type API struct {
	srv  *http.Server
	url  string
	done chan error
}

// StartAPI serves APIHandler on 127.0.0.1 at a free port until Close.
func StartAPI() (*API, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo node API: %w", err)
	}
	a := &API{
		srv: &http.Server{
			Handler:           APIHandler(time.Now),
			ReadHeaderTimeout: 10 * time.Second,
		},
		url:  "http://" + ln.Addr().String(),
		done: make(chan error, 1),
	}
	go func() { a.done <- a.srv.Serve(ln) }()
	return a, nil
}

// URL is the API's base URL, http://127.0.0.1:PORT.
func (a *API) URL() string { return a.url }

// Close stops the server and waits until it has stopped.
func (a *API) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := a.srv.Shutdown(ctx)
	if serveErr := <-a.done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}
