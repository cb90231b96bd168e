package nodeapi_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi/nodeapitest"
)

// t0 is "now" in the v1.162 fixtures.
var t0 = time.Date(2026, 9, 5, 14, 20, 0, 0, time.UTC)

type pollerEnv struct {
	srv   *nodeapitest.Server
	clock *testutil.Clock
	logs  *logBuffer
	p     *nodeapi.Poller
}

func newPollerEnv(t *testing.T, version string) *pollerEnv {
	t.Helper()
	env := &pollerEnv{
		srv:   newNodeServer(t, version),
		clock: testutil.NewClock(t0),
		logs:  &logBuffer{},
	}
	env.p = nodeapi.NewPoller("node1", newClient(t, env.srv.URL, 5*time.Second), nodeapi.PollerOptions{
		Logger: slog.New(slog.NewTextHandler(env.logs, nil)),
		Now:    env.clock.Now,
	})
	return env
}

func TestPollerSuccess(t *testing.T) {
	t.Parallel()
	env := newPollerEnv(t, "v1.162")
	if s := env.p.Snapshot(); s.Node != "node1" || s.Up || !s.LastSuccess.IsZero() || s.Dashboard != nil {
		t.Fatalf("snapshot before the first poll = %+v", s)
	}
	if err := env.p.PollOnce(t.Context()); err != nil {
		t.Fatalf("PollOnce: %v", err)
	}
	s := env.p.Snapshot()
	if !s.Up || s.LastErr != nil || !s.LastSuccess.Equal(t0) || !s.LastPoll.Equal(t0) {
		t.Errorf("Up %v, LastErr %v, LastSuccess %v, LastPoll %v", s.Up, s.LastErr, s.LastSuccess, s.LastPoll)
	}
	if s.Dashboard == nil || s.Dashboard.Version != "1.162.3" {
		t.Errorf("Dashboard = %+v", s.Dashboard)
	}
	for _, id := range []string{us1, eu1, ap1, saltlake} {
		if d := s.Satellites[id]; d == nil || d.ID != id {
			t.Errorf("Satellites[%s] = %+v", id, d)
		}
	}
	if len(s.Satellites) != 4 {
		t.Errorf("%d satellites", len(s.Satellites))
	}
	if s.Payout == nil || !s.PayoutTime.Equal(t0) || s.PayoutErr != nil {
		t.Errorf("Payout %+v at %v, err %v", s.Payout, s.PayoutTime, s.PayoutErr)
	}
	for _, e := range []nodeapi.Endpoint{nodeapi.EndpointSNO, nodeapi.EndpointSatellite, nodeapi.EndpointEstimatedPayout} {
		if r, ok := s.Requests[e]; !ok || !r.Success || r.Err != nil || !r.Time.Equal(t0) {
			t.Errorf("Requests[%s] = %+v, %v", e, r, ok)
		}
	}
	if _, ok := s.Requests[nodeapi.EndpointSatellites]; ok || env.srv.Hits("/api/sno/satellites") != 0 {
		t.Error("the poller requested /api/sno/satellites")
	}
	if got := env.logs.count(`msg="node API up"`, "node=node1"); got != 1 {
		t.Errorf("%d INFO lines for the first success, want 1; logs:\n%s", got, env.logs)
	}

	// The snapshot is a copy.
	s.Satellites[us1] = nil
	delete(s.Requests, nodeapi.EndpointSNO)
	if s2 := env.p.Snapshot(); s2.Satellites[us1] == nil || len(s2.Requests) != 3 {
		t.Error("changing a snapshot changed the poller's state")
	}
}

func TestPollerFailureClearsData(t *testing.T) {
	t.Parallel()
	env := newPollerEnv(t, "v1.162")
	ctx := t.Context()
	if err := env.p.PollOnce(ctx); err != nil {
		t.Fatalf("PollOnce: %v", err)
	}

	env.srv.FailAll.Store(true)
	for i := range 3 {
		env.clock.Add(time.Minute)
		err := env.p.PollOnce(ctx)
		var apiErr *nodeapi.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != 500 {
			t.Fatalf("poll %d: error %v, want a 500 APIError", i, err)
		}
		s := env.p.Snapshot()
		if s.Up || s.LastErr == nil || s.Dashboard != nil || s.Satellites != nil || s.Payout != nil {
			t.Errorf("poll %d: data not cleared: %+v", i, s)
		}
		if !s.LastSuccess.Equal(t0) || !s.LastPoll.Equal(env.clock.Now()) {
			t.Errorf("poll %d: LastSuccess %v, LastPoll %v", i, s.LastSuccess, s.LastPoll)
		}
		if r := s.Requests[nodeapi.EndpointSNO]; r.Success || r.Err == nil {
			t.Errorf("poll %d: Requests[sno] = %+v", i, r)
		}
	}
	if got := env.logs.count("level=WARN"); got != 1 {
		t.Errorf("%d WARN lines after 3 failed polls, want 1; logs:\n%s", got, env.logs)
	}
	if got := env.logs.count("level=WARN", `msg="node API down"`, "node=node1", "database is locked"); got != 1 {
		t.Errorf("WARN line does not say what failed; logs:\n%s", env.logs)
	}

	env.srv.FailAll.Store(false)
	env.clock.Add(time.Minute)
	if err := env.p.PollOnce(ctx); err != nil {
		t.Fatalf("PollOnce after recovery: %v", err)
	}
	if s := env.p.Snapshot(); !s.Up || s.Dashboard == nil || s.LastErr != nil {
		t.Errorf("after recovery: %+v", s)
	}
	if got := env.logs.count("level=INFO", `msg="node API up"`); got != 2 {
		t.Errorf("%d INFO lines, want 2 (start, recovery); logs:\n%s", got, env.logs)
	}
	if got := env.logs.count("level=WARN"); got != 1 {
		t.Errorf("%d WARN lines, want 1", got)
	}
}

func TestPollerFirstPollFails(t *testing.T) {
	t.Parallel()
	env := newPollerEnv(t, "v1.162")
	env.srv.FailAll.Store(true)
	if err := env.p.PollOnce(t.Context()); err == nil {
		t.Fatal("PollOnce: no error")
	}
	if s := env.p.Snapshot(); s.Up || !s.LastSuccess.IsZero() || s.LastErr == nil {
		t.Errorf("snapshot = %+v", s)
	}
	if got := env.logs.count("level=WARN", `msg="node API down"`); got != 1 {
		t.Errorf("%d WARN lines, want 1", got)
	}
}

func TestPollerSatelliteFailureMarksDown(t *testing.T) {
	t.Parallel()
	env := newPollerEnv(t, "v1.162")
	env.srv.FailSatellite.Store(true)
	err := env.p.PollOnce(t.Context())
	if err == nil {
		t.Fatal("PollOnce: no error")
	}
	s := env.p.Snapshot()
	if s.Up || s.Dashboard != nil || s.Payout != nil {
		t.Errorf("snapshot = %+v", s)
	}
	if r := s.Requests[nodeapi.EndpointSatellite]; r.Success || r.Err == nil {
		t.Errorf("Requests[satellite] = %+v", r)
	}
	if n := env.srv.Hits("/api/sno/estimated-payout"); n != 0 {
		t.Errorf("payout requested %d times while down", n)
	}
}

func TestPollerPayoutInterval(t *testing.T) {
	t.Parallel()
	env := newPollerEnv(t, "v1.162")
	// Default intervals: polls every minute, payout at most every 5 minutes,
	// less 100ms of slack for the ticker's jitter.
	const ms = time.Millisecond
	steps := []struct {
		at       time.Duration
		want     int           // payout requests so far
		wantFrom time.Duration // the poll the shown payout comes from
	}{
		{0, 1, 0},
		{time.Minute, 1, 0},
		{4*time.Minute + 59*time.Second, 1, 0},
		{5*time.Minute - 100*ms, 2, 5*time.Minute - 100*ms}, // within the slack
		{6 * time.Minute, 2, 5*time.Minute - 100*ms},
		{10*time.Minute - 201*ms, 2, 5*time.Minute - 100*ms}, // 100ms short of 5m after the last
		{10 * time.Minute, 3, 10 * time.Minute},
		{11 * time.Minute, 3, 10 * time.Minute},
	}
	for _, st := range steps {
		env.clock.Add(t0.Add(st.at).Sub(env.clock.Now()))
		if err := env.p.PollOnce(t.Context()); err != nil {
			t.Fatalf("at +%v: PollOnce: %v", st.at, err)
		}
		if got := env.srv.Hits("/api/sno/estimated-payout"); got != st.want {
			t.Errorf("at +%v: %d payout requests, want %d", st.at, got, st.want)
		}
		s := env.p.Snapshot()
		if wantTime := t0.Add(st.wantFrom); s.Payout == nil || !s.PayoutTime.Equal(wantTime) {
			t.Errorf("at +%v: payout %v from %v, want from %v", st.at, s.Payout != nil, s.PayoutTime, wantTime)
		}
	}
	if got, want := env.srv.Hits("/api/sno/"), len(steps); got != want {
		t.Errorf("%d dashboard requests, want %d", got, want)
	}
}

func TestPollerPayoutFailureKeepsNodeUp(t *testing.T) {
	t.Parallel()
	env := newPollerEnv(t, "v1.162")
	ctx := t.Context()
	env.srv.FailPayout.Store(true)
	for range 2 {
		if err := env.p.PollOnce(ctx); err != nil {
			t.Fatalf("PollOnce: %v", err)
		}
		s := env.p.Snapshot()
		if !s.Up || s.Dashboard == nil || s.LastErr != nil {
			t.Errorf("node not up: %+v", s)
		}
		if s.Payout != nil || s.PayoutErr == nil {
			t.Errorf("Payout %v, PayoutErr %v", s.Payout, s.PayoutErr)
		}
		if r := s.Requests[nodeapi.EndpointEstimatedPayout]; r.Success || r.Err == nil {
			t.Errorf("Requests[estimated_payout] = %+v", r)
		}
		env.clock.Add(5 * time.Minute)
	}
	if got := env.logs.count("level=WARN", `msg="estimated payout failing"`); got != 1 {
		t.Errorf("%d payout WARN lines after 2 failures, want 1; logs:\n%s", got, env.logs)
	}
	if got := env.logs.count(`msg="node API down"`); got != 0 {
		t.Errorf("node reported down for a payout failure")
	}

	env.srv.FailPayout.Store(false)
	if err := env.p.PollOnce(ctx); err != nil {
		t.Fatalf("PollOnce: %v", err)
	}
	if s := env.p.Snapshot(); s.Payout == nil || s.PayoutErr != nil || !s.Requests[nodeapi.EndpointEstimatedPayout].Success {
		t.Errorf("payout not back: %+v", s)
	}
	if got := env.logs.count("level=INFO", `msg="estimated payout recovered"`); got != 1 {
		t.Errorf("%d recovery lines, want 1", got)
	}
}

func TestPollerPayoutSurvivesShortOutage(t *testing.T) {
	t.Parallel()
	env := newPollerEnv(t, "v1.162")
	ctx := t.Context()
	if err := env.p.PollOnce(ctx); err != nil {
		t.Fatalf("PollOnce: %v", err)
	}
	env.srv.FailAll.Store(true)
	env.clock.Add(time.Minute)
	_ = env.p.PollOnce(ctx)
	if s := env.p.Snapshot(); s.Payout != nil {
		t.Error("payout shown while down")
	}
	env.srv.FailAll.Store(false)
	env.clock.Add(time.Minute)
	if err := env.p.PollOnce(ctx); err != nil {
		t.Fatalf("PollOnce: %v", err)
	}
	s := env.p.Snapshot()
	if s.Payout == nil || !s.PayoutTime.Equal(t0) {
		t.Errorf("payout after recovery: %v from %v, want the one from %v", s.Payout != nil, s.PayoutTime, t0)
	}
	if n := env.srv.Hits("/api/sno/estimated-payout"); n != 1 {
		t.Errorf("%d payout requests, want 1", n)
	}
}

func TestPollerHangingAPI(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	p := nodeapi.NewPoller("node1", newClient(t, srv.URL, 200*time.Millisecond), nodeapi.PollerOptions{})
	start := time.Now()
	err := p.PollOnce(t.Context())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PollOnce error %v, want a deadline", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("PollOnce took %v with a 200ms timeout", elapsed)
	}
	if s := p.Snapshot(); s.Up || s.LastErr == nil {
		t.Errorf("snapshot = %+v", s)
	}
}

func TestPollerCancelledPollKeepsState(t *testing.T) {
	t.Parallel()
	env := newPollerEnv(t, "v1.162")
	if err := env.p.PollOnce(t.Context()); err != nil {
		t.Fatalf("PollOnce: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	env.clock.Add(time.Minute)
	if err := env.p.PollOnce(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("PollOnce error %v, want context.Canceled", err)
	}
	if s := env.p.Snapshot(); !s.Up || !s.LastPoll.Equal(t0) {
		t.Errorf("a cancelled poll changed the snapshot: %+v", s)
	}
	if got := env.logs.count("level=WARN"); got != 0 {
		t.Errorf("a cancelled poll logged a warning:\n%s", env.logs)
	}
}

func TestPollerRun(t *testing.T) {
	t.Parallel()
	srv := newNodeServer(t, "v1.162")
	p := nodeapi.NewPoller("node1", newClient(t, srv.URL, 5*time.Second), nodeapi.PollerOptions{
		Interval: 5 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	deadline := time.After(10 * time.Second)
	for i := range 3 { // the immediate poll and two ticks
		select {
		case <-srv.SNOHit:
		case <-deadline:
			t.Fatalf("only %d polls", i)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-deadline:
		t.Fatal("Run did not return after cancel")
	}
	if s := p.Snapshot(); !s.Up || s.Dashboard == nil {
		t.Errorf("snapshot after Run: %+v", s)
	}
	if n := srv.Hits("/api/sno/estimated-payout"); n != 1 {
		t.Errorf("%d payout requests, want 1", n)
	}
}
