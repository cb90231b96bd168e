package nodeapi

import (
	"context"
	"errors"
	"time"
)

// earnings is the poller's cache of the earnings endpoints. Like the
// payout, it survives failed polls and is only shown while the node is up.
type earnings struct {
	satPayouts    map[string]*EstimatedPayout
	satPayoutTime time.Time
	periods       []string
	paystubs      []Paystub
	paystubsTime  time.Time
	held          []HeldHistory
	heldTime      time.Time

	heldamountTried time.Time // start of the poll of the last paystubs request
	paystubsNewest  string    // newest period when the paystubs were requested

	unsupported map[Endpoint]bool // said once at INFO
	failing     map[Endpoint]bool // said once at WARN
}

// pollEarnings requests the per-satellite estimates and the periods (at the
// payout cadence), then the paystubs and the held history when an hour
// passed or the newest period changed. Each endpoint fails on its own: its
// data is dropped, the rest stays.
func (p *Poller) pollEarnings(ctx context.Context, start time.Time, dash *Dashboard, sats map[string]*SatelliteDetail, reqs map[Endpoint]RequestStatus) {
	e := &p.earn
	if e.unsupported == nil {
		e.unsupported = make(map[Endpoint]bool)
		e.failing = make(map[Endpoint]bool)
	}

	// Per-satellite estimates; the node answers 500 for a disqualified one.
	st := RequestStatus{Time: p.now(), Success: true}
	payouts := make(map[string]*EstimatedPayout, len(dash.Satellites))
	var unsupported bool
	for _, s := range dash.Satellites {
		if s.Disqualified != nil || payouts[s.ID] != nil {
			continue
		}
		t0 := p.now()
		est, err := p.client.SatellitePayout(ctx, s.ID)
		st.Duration += p.now().Sub(t0)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrUnsupported) {
			unsupported, st.Err = true, err
			break
		}
		if err != nil {
			st.Success, st.Err = false, err
			continue
		}
		payouts[s.ID] = est
	}
	if p.record(EndpointSatellitePayout, st, unsupported, reqs) {
		e.satPayouts, e.satPayoutTime = payouts, st.Time
	} else {
		e.satPayouts, e.satPayoutTime = nil, time.Time{}
	}

	// Periods: the cheap probe of a new paystub.
	t0 := p.now()
	periods, err := p.client.Periods(ctx)
	if ctx.Err() != nil {
		return
	}
	st = RequestStatus{Time: t0, Duration: p.now().Sub(t0), Success: err == nil, Err: err}
	if p.record(EndpointPeriods, st, errors.Is(err, ErrUnsupported), reqs) {
		e.periods = periods
		if e.periods == nil {
			e.periods = []string{}
		}
	} else {
		e.periods = nil
	}
	newest := ""
	if n := len(e.periods); n > 0 {
		newest = e.periods[n-1]
	}

	if !e.heldamountTried.IsZero() && start.Sub(e.heldamountTried) < HeldamountInterval-payoutSlack && newest == e.paystubsNewest {
		return
	}
	e.heldamountTried, e.paystubsNewest = start, newest

	// Paystubs from the earliest join month (or first period) to now.
	var from time.Time
	for _, d := range sats {
		if !d.NodeJoinedAt.IsZero() && (from.IsZero() || d.NodeJoinedAt.Before(from)) {
			from = d.NodeJoinedAt
		}
	}
	if len(e.periods) > 0 {
		if t, err := time.Parse("2006-01", e.periods[0]); err == nil && (from.IsZero() || t.Before(from)) {
			from = t
		}
	}
	if from.IsZero() || Period(from) > Period(start) {
		e.paystubs, e.paystubsTime = []Paystub{}, start
	} else {
		t0 := p.now()
		stubs, err := p.client.Paystubs(ctx, from, start)
		if ctx.Err() != nil {
			return
		}
		st := RequestStatus{Time: t0, Duration: p.now().Sub(t0), Success: err == nil, Err: err}
		if p.record(EndpointPaystubs, st, errors.Is(err, ErrUnsupported), reqs) {
			e.paystubs, e.paystubsTime = stubs, t0
		} else {
			e.paystubs, e.paystubsTime = nil, time.Time{}
		}
	}

	t0 = p.now()
	held, err := p.client.HeldHistory(ctx)
	if ctx.Err() != nil {
		return
	}
	st = RequestStatus{Time: t0, Duration: p.now().Sub(t0), Success: err == nil, Err: err}
	if p.record(EndpointHeldHistory, st, errors.Is(err, ErrUnsupported), reqs) {
		e.held, e.heldTime = held, t0
	} else {
		e.held, e.heldTime = nil, time.Time{}
	}
}

// record files an earnings request's outcome, logs state changes once
// (INFO for a route the node lacks, WARN for failures) and reports whether
// its data is usable.
func (p *Poller) record(ep Endpoint, st RequestStatus, unsupported bool, reqs map[Endpoint]RequestStatus) bool {
	e := &p.earn
	if unsupported {
		delete(reqs, ep)
		if !e.unsupported[ep] {
			p.log.Info("node API lacks an earnings endpoint; its figures are not exported", "endpoint", string(ep), "err", st.Err)
			e.unsupported[ep] = true
		}
		e.failing[ep] = false
		return false
	}
	e.unsupported[ep] = false
	reqs[ep] = st
	if st.Err != nil {
		if !e.failing[ep] {
			p.log.Warn("earnings endpoint failing", "endpoint", string(ep), "err", st.Err)
			e.failing[ep] = true
		}
		// Per-satellite estimates: the satellites that answered stay.
		return ep == EndpointSatellitePayout
	}
	if e.failing[ep] {
		p.log.Info("earnings endpoint recovered", "endpoint", string(ep))
		e.failing[ep] = false
	}
	return true
}
