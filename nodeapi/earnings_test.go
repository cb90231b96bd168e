package nodeapi_test

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi/nodeapitest"
)

// earningsNow is "now" in testdata/nodeapi/earnings: the node joined on
// 2025-06-12 and has 14 paystubs, 2025-06 to 2026-07.
var earningsNow = time.Date(2026, 8, 8, 9, 30, 0, 0, time.UTC)

const paystubsPath = "/api/heldamount/paystubs/2025-06/2026-08"

func newEarningsEnv(t *testing.T) *pollerEnv {
	t.Helper()
	env := &pollerEnv{
		srv:   newNodeServer(t, "earnings"),
		clock: testutil.NewClock(earningsNow),
		logs:  &logBuffer{},
	}
	env.p = nodeapi.NewPoller("node1", newClient(t, env.srv.URL, 5*time.Second), nodeapi.PollerOptions{
		Logger: slog.New(slog.NewTextHandler(env.logs, nil)),
		Now:    env.clock.Now,
	})
	return env
}

func (env *pollerEnv) pollAt(t *testing.T, d time.Duration) nodeapi.Snapshot {
	t.Helper()
	env.clock.Add(earningsNow.Add(d).Sub(env.clock.Now()))
	if err := env.p.PollOnce(t.Context()); err != nil {
		t.Fatalf("at +%v: PollOnce: %v", d, err)
	}
	return env.p.Snapshot()
}

func TestPollerEarnings(t *testing.T) {
	t.Parallel()
	env := newEarningsEnv(t)
	s := env.pollAt(t, 0)
	if len(s.SatellitePayouts) != 4 || !s.SatellitePayoutTime.Equal(earningsNow) {
		t.Fatalf("SatellitePayouts = %v at %v", s.SatellitePayouts, s.SatellitePayoutTime)
	}
	// estimated-payout-id-<us1>.json: currentMonth.payout 92.3 cents,
	// previousMonth.payout 374.7, currentMonthExpectations 386.
	if p := s.SatellitePayouts[us1]; p.CurrentMonth.Payout != 92.3 || p.PreviousMonth.Payout != 374.7 || *p.CurrentMonthExpectations != 386 {
		t.Errorf("us1 estimate = %+v", p)
	}
	if len(s.Periods) != 14 || s.Periods[0] != "2025-06" || s.Periods[13] != "2026-07" {
		t.Errorf("Periods = %v", s.Periods)
	}
	// 14 months × 4 satellites; the range is join month .. this month.
	if len(s.Paystubs) != 56 || env.srv.Hits(paystubsPath) != 1 {
		t.Errorf("%d paystubs, %d requests of %s", len(s.Paystubs), env.srv.Hits(paystubsPath), paystubsPath)
	}
	last := s.Paystubs[len(s.Paystubs)-1]
	if last.Period != "2026-07" || last.SatelliteID != eu1 || last.Codes != "E" || last.Paid == 0 || last.Paid != last.Distributed {
		t.Errorf("last paystub = %+v", last)
	}
	if len(s.HeldHistory) != 4 || s.HeldHistory[2].SatelliteID != us1 || s.HeldHistory[2].TotalHeld != 4933330 {
		t.Errorf("HeldHistory = %+v", s.HeldHistory)
	}
	for _, e := range []nodeapi.Endpoint{nodeapi.EndpointSatellitePayout, nodeapi.EndpointPeriods, nodeapi.EndpointPaystubs, nodeapi.EndpointHeldHistory} {
		if r, ok := s.Requests[e]; !ok || !r.Success {
			t.Errorf("Requests[%s] = %+v, %v", e, r, ok)
		}
	}
}

// Estimates and periods at the payout cadence; paystubs and held history
// hourly, or at once when a new period appears.
func TestPollerEarningsCadence(t *testing.T) {
	t.Parallel()
	env := newEarningsEnv(t)
	usPath := "/api/sno/estimated-payout?id=" + us1
	steps := []struct {
		at                        time.Duration
		estimates, periods, stubs int
	}{
		{0, 1, 1, 1},
		{time.Minute, 1, 1, 1},
		{5 * time.Minute, 2, 2, 1},
		{55 * time.Minute, 3, 3, 1},
		{60 * time.Minute, 4, 4, 2},
		{65 * time.Minute, 5, 5, 2},
	}
	for _, st := range steps {
		env.pollAt(t, st.at)
		if e, p, s := env.srv.Hits(usPath), env.srv.Hits("/api/heldamount/periods"), env.srv.Hits(paystubsPath); e != st.estimates || p != st.periods || s != st.stubs {
			t.Errorf("at +%v: %d estimates, %d periods, %d paystubs requests; want %d, %d, %d", st.at, e, p, s, st.estimates, st.periods, st.stubs)
		}
	}
	if got := env.srv.Hits("/api/heldamount/held-history"); got != 2 {
		t.Errorf("%d held-history requests, want 2", got)
	}
}

// An old node that lacks the heldamount routes (HTML 200 or 404): the
// estimates stay, the node stays up, and it is said once at INFO.
func TestPollerEarningsUnsupported(t *testing.T) {
	t.Parallel()
	for _, mode := range []int32{nodeapitest.LackHTML, nodeapitest.LackNotFound} {
		env := newEarningsEnv(t)
		env.srv.Heldamount.Store(mode)
		for _, at := range []time.Duration{0, 5 * time.Minute, time.Hour, 2 * time.Hour} {
			s := env.pollAt(t, at)
			if !s.Up || len(s.SatellitePayouts) != 4 || s.Payout == nil {
				t.Errorf("mode %d at +%v: up %v, %d estimates, payout %v", mode, at, s.Up, len(s.SatellitePayouts), s.Payout != nil)
			}
			if s.Paystubs != nil || s.HeldHistory != nil || s.Periods != nil {
				t.Errorf("mode %d at +%v: heldamount data from a node that lacks it", mode, at)
			}
			for _, e := range []nodeapi.Endpoint{nodeapi.EndpointPeriods, nodeapi.EndpointPaystubs, nodeapi.EndpointHeldHistory} {
				if _, ok := s.Requests[e]; ok {
					t.Errorf("mode %d: a request status for %s, which the node lacks", mode, e)
				}
			}
		}
		if got := env.logs.count("level=INFO", "lacks an earnings endpoint"); got != 3 {
			t.Errorf("mode %d: %d INFO lines, want 3 (periods, paystubs, held_history); logs:\n%s", mode, got, env.logs)
		}
		if got := env.logs.count("level=WARN"); got != 0 {
			t.Errorf("mode %d: %d WARN lines; logs:\n%s", mode, got, env.logs)
		}
	}
}

// Each endpoint fails on its own.
func TestPollerEarningsFailures(t *testing.T) {
	t.Parallel()
	env := newEarningsEnv(t)
	env.srv.FailHeldamount.Store(true)
	env.srv.FailSatellitePayout.Store(us1)
	s := env.pollAt(t, 0)
	if !s.Up || s.Payout == nil || s.Paystubs != nil || s.HeldHistory != nil || s.Periods != nil {
		t.Errorf("up %v, payout %v, paystubs %v, held %v, periods %v", s.Up, s.Payout != nil, s.Paystubs != nil, s.HeldHistory != nil, s.Periods)
	}
	if _, ok := s.SatellitePayouts[us1]; ok || len(s.SatellitePayouts) != 3 {
		t.Errorf("SatellitePayouts = %v, want the three that answered", s.SatellitePayouts)
	}
	var ae *nodeapi.APIError
	if r := s.Requests[nodeapi.EndpointPaystubs]; r.Success || !errors.As(r.Err, &ae) || ae.Status != 500 {
		t.Errorf("Requests[paystubs] = %+v", r)
	}
	if r := s.Requests[nodeapi.EndpointSatellitePayout]; r.Success {
		t.Errorf("Requests[satellite_payout] = %+v", r)
	}

	// Recovery: the periods come back at the next payout poll and, being
	// new, bring the paystubs at once.
	env.srv.FailHeldamount.Store(false)
	env.srv.FailSatellitePayout.Store("")
	s = env.pollAt(t, 5*time.Minute)
	if len(s.SatellitePayouts) != 4 || len(s.Paystubs) != 56 || len(s.HeldHistory) != 4 {
		t.Errorf("after recovery: %d estimates, %d paystubs, %d held", len(s.SatellitePayouts), len(s.Paystubs), len(s.HeldHistory))
	}
	if got := env.logs.count("level=WARN", "earnings endpoint failing"); got != 4 {
		t.Errorf("%d WARN lines, want 4; logs:\n%s", got, env.logs)
	}
}

func TestClientPaystubsNull(t *testing.T) {
	t.Parallel()
	srv := newNodeServer(t, "earnings")
	c := newClient(t, srv.URL, 5*time.Second)
	// No paystub for the current month: the node sends null.
	stubs, err := c.Paystubs(t.Context(), earningsNow, earningsNow)
	if err != nil || stubs == nil || len(stubs) != 0 {
		t.Errorf("Paystubs(2026-08, 2026-08) = %v, %v; want an empty list", stubs, err)
	}
	if _, err := c.Paystubs(t.Context(), earningsNow, earningsNow.AddDate(0, -2, 0)); err == nil {
		t.Error("Paystubs with start after end: no error")
	}
	srv.Heldamount.Store(nodeapitest.LackHTML)
	if _, err := c.Periods(t.Context()); !errors.Is(err, nodeapi.ErrUnsupported) {
		t.Errorf("Periods from a node without the route: %v, want ErrUnsupported", err)
	}
}
