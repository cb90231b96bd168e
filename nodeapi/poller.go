package nodeapi

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sync"
	"time"
)

// Endpoint names one API route in snapshots and in the endpoint label.
type Endpoint string

// The endpoints. The poller does not call EndpointSatellites: everything the
// collector exports from it is also in /api/sno/ or, keyed by satellite ID,
// in /api/sno/satellite/{id}, whereas its audits[] carry no satellite ID
// (docs/node-api.md §10.1 rule 2).
const (
	EndpointSNO             Endpoint = "sno"
	EndpointSatellites      Endpoint = "satellites"
	EndpointSatellite       Endpoint = "satellite"
	EndpointEstimatedPayout Endpoint = "estimated_payout"
	// The earnings endpoints (docs/node-api.md §8). EndpointSatellitePayout
	// covers all estimated-payout?id= requests of a poll, as
	// EndpointSatellite does for the satellites.
	EndpointSatellitePayout Endpoint = "satellite_payout"
	EndpointPaystubs        Endpoint = "paystubs"
	EndpointHeldHistory     Endpoint = "held_history"
	EndpointPeriods         Endpoint = "periods"
)

// Defaults of PollerOptions.
const (
	DefaultInterval       = time.Minute
	DefaultPayoutInterval = 5 * time.Minute
	// HeldamountInterval is the most time between two requests of the
	// paystubs and the held history; they are also requested when the
	// newest period changes.
	HeldamountInterval = time.Hour
)

// PollerOptions configure a Poller. Zero values select the defaults.
type PollerOptions struct {
	// Interval between polls of /api/sno/ and the satellites; default 1m.
	Interval time.Duration
	// PayoutInterval is the least time between two requests of the slow
	// /api/sno/estimated-payout (node and per satellite) and of the cheap
	// /api/heldamount/periods; default 5m.
	PayoutInterval time.Duration
	// Logger gets state changes only; default discards.
	Logger *slog.Logger
	// Now is the clock; default time.Now. It also times the requests.
	Now func() time.Time
	// DownMessage replaces "node API down" in the warning logged when the
	// API stops (or never starts) answering.
	DownMessage string
	// SatelliteConcurrency is how many /api/sno/satellite/{id} requests of
	// one poll run at a time; default DefaultSatelliteConcurrency.
	SatelliteConcurrency int
}

// DefaultSatelliteConcurrency is the default PollerOptions.SatelliteConcurrency:
// the four public satellites at once, so that a node answering slowly costs
// one request's time per poll rather than four, and a node listing many
// satellites is not asked for all of them at once.
const DefaultSatelliteConcurrency = 4

// RequestStatus is the outcome of the last request to one endpoint. For
// EndpointSatellite it covers all satellite requests of a poll: Duration is
// the time they took together (they run SatelliteConcurrency at a time) and
// Success is true if all succeeded.
type RequestStatus struct {
	Time     time.Time // when the request started
	Duration time.Duration
	Success  bool
	Err      error
}

// Snapshot is a poller's state. The pointed-to data is shared between
// snapshots and must not be modified.
type Snapshot struct {
	Node string
	// Up is true when the last poll succeeded: /api/sno/ and every
	// /api/sno/satellite/{id} it lists answered with usable data. A failing
	// estimated-payout does not make the node down.
	Up          bool
	LastPoll    time.Time // start of the last completed poll
	LastSuccess time.Time // start of the last successful poll; zero if none
	LastErr     error     // error of the last poll; nil if it succeeded

	// The data, all nil when Up is false.
	Dashboard  *Dashboard
	Satellites map[string]*SatelliteDetail // by satellite ID

	// Payout is the last estimate, nil when Up is false, when the last
	// payout request failed, or before the first one. It is fetched at most
	// every PayoutInterval, so it can be older than the rest.
	Payout     *EstimatedPayout
	PayoutTime time.Time // when Payout was requested
	PayoutErr  error     // error of the last payout request

	// Earnings figures, each nil (with a zero time) while the node is
	// down, when its last request failed, before the first one, or when
	// the node lacks the route. SatellitePayouts is by satellite ID,
	// requested with Payout for every satellite that is not disqualified;
	// a satellite whose request failed is missing. Paystubs, from the
	// satellites' join month to this month, and HeldHistory are requested
	// every HeldamountInterval or when Periods' newest entry changes.
	SatellitePayouts    map[string]*EstimatedPayout
	SatellitePayoutTime time.Time
	Periods             []string
	Paystubs            []Paystub
	PaystubsTime        time.Time
	HeldHistory         []HeldHistory
	HeldHistoryTime     time.Time

	// Requests holds the last request of each endpoint polled so far (an
	// endpoint the node lacks has none).
	Requests map[Endpoint]RequestStatus
}

// Poller polls one node's API and keeps the last good data. Use Run, or
// call PollOnce on a schedule of your own.
type Poller struct {
	node           string
	client         *Client
	interval       time.Duration
	payoutInterval time.Duration
	log            *slog.Logger
	now            func() time.Time
	satConcurrency int
	downMessage    string

	pollMu sync.Mutex // serialises polls; guards the fields below
	state  state
	// The payout cache survives failed polls, so that a short outage does
	// not cost a payout request (or a gap of up to PayoutInterval) on
	// recovery. Snapshots only show it while the node is up.
	payout        *EstimatedPayout
	payoutTime    time.Time
	payoutErr     error
	payoutTried   time.Time // start of the poll of the last payout request; zero if none
	payoutFailing bool
	earn          earnings

	mu   sync.Mutex // guards snap
	snap Snapshot
}

type state uint8

const (
	stateUnknown state = iota
	stateUp
	stateDown
)

// NewPoller returns a poller of the node API behind c. node is the node's
// name, used as the node label and in logs. It panics if c is nil.
func NewPoller(node string, c *Client, opts PollerOptions) *Poller {
	if c == nil {
		panic("nodeapi: NewPoller with nil client")
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.PayoutInterval <= 0 {
		opts.PayoutInterval = DefaultPayoutInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SatelliteConcurrency <= 0 {
		opts.SatelliteConcurrency = DefaultSatelliteConcurrency
	}
	return &Poller{
		node:           node,
		client:         c,
		interval:       opts.Interval,
		payoutInterval: opts.PayoutInterval,
		log:            opts.Logger.With("node", node),
		downMessage:    opts.DownMessage,
		now:            opts.Now,
		satConcurrency: opts.SatelliteConcurrency,
		snap:           Snapshot{Node: node},
	}
}

// Node returns the node's name.
func (p *Poller) Node() string { return p.node }

// Run polls at once and then every Interval until ctx is done, then
// returns nil. Poll errors are not returned: they are in the Snapshot and
// logged on state changes. A poll that takes longer than Interval delays
// the next one (ticks are dropped, never queued).
func (p *Poller) Run(ctx context.Context) error {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		if ctx.Err() != nil {
			return nil
		}
		_ = p.PollOnce(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// PollOnce polls the node once: /api/sno/, then /api/sno/satellite/{id} for
// each satellite it lists, then /api/sno/estimated-payout if the last
// payout request is at least PayoutInterval old (less 100 ms of slack for
// the ticker's jitter). The satellite requests run SatelliteConcurrency at a
// time, the others one after another, each bounded by the client's timeout.
// It returns the poll's error: that of /api/sno/ or of a satellite (the node
// is then down), else nil. A payout error is only
// recorded. When ctx is cancelled during the poll, the snapshot is left as
// it was and ctx's error is returned. Concurrent calls are serialised.
func (p *Poller) PollOnce(ctx context.Context) error {
	p.pollMu.Lock()
	defer p.pollMu.Unlock()

	start := p.now()
	p.mu.Lock()
	reqs := maps.Clone(p.snap.Requests)
	p.mu.Unlock()
	if reqs == nil {
		reqs = make(map[Endpoint]RequestStatus, 3)
	}

	t0 := p.now()
	dash, err := p.client.SNO(ctx)
	reqs[EndpointSNO] = RequestStatus{Time: t0, Duration: p.now().Sub(t0), Success: err == nil, Err: err}
	if err != nil {
		return p.fail(ctx, start, reqs, err)
	}

	sats := make(map[string]*SatelliteDetail, len(dash.Satellites))
	if len(dash.Satellites) == 0 {
		delete(reqs, EndpointSatellite)
	} else {
		st := RequestStatus{Time: p.now(), Success: true}
		var ids []string
		for _, s := range dash.Satellites {
			if _, dup := sats[s.ID]; !dup {
				sats[s.ID] = nil
				ids = append(ids, s.ID)
			}
		}
		details, err := p.satellites(ctx, ids)
		st.Duration = p.now().Sub(st.Time)
		if err != nil {
			st.Success, st.Err = false, err
		} else {
			for i, id := range ids {
				sats[id] = details[i]
			}
		}
		reqs[EndpointSatellite] = st
		if st.Err != nil {
			return p.fail(ctx, start, reqs, st.Err)
		}
	}

	if p.payoutDue(start) {
		p.pollPayout(ctx, start, reqs)
		p.pollEarnings(ctx, start, dash, sats, reqs)
	}

	if p.state != stateUp {
		p.log.Info("node API up", "version", dash.Version)
		p.state = stateUp
	}
	p.publish(Snapshot{
		Node:        p.node,
		Up:          true,
		LastPoll:    start,
		LastSuccess: start,
		Dashboard:   dash,
		Satellites:  sats,
		Payout:      p.payout,
		PayoutTime:  p.payoutTime,
		PayoutErr:   p.payoutErr,
		Requests:    reqs,

		SatellitePayouts:    p.earn.satPayouts,
		SatellitePayoutTime: p.earn.satPayoutTime,
		Periods:             p.earn.periods,
		Paystubs:            p.earn.paystubs,
		PaystubsTime:        p.earn.paystubsTime,
		HeldHistory:         p.earn.held,
		HeldHistoryTime:     p.earn.heldTime,
	})
	return nil
}

// satellites requests the details of the satellites ids, at most
// p.satConcurrency at a time. It returns them in the order of ids, or the
// error of the first satellite in that order that failed; after a failure
// no further request starts.
func (p *Poller) satellites(ctx context.Context, ids []string) ([]*SatelliteDetail, error) {
	details := make([]*SatelliteDetail, len(ids))
	errs := make([]error, len(ids))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, p.satConcurrency)
	var wg sync.WaitGroup
	for i, id := range ids {
		sem <- struct{}{}
		if ctx.Err() != nil { // a request failed: start no more
			<-sem
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			details[i], errs[i] = p.client.Satellite(ctx, id)
			if errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	// The first failure; a cancellation only when nothing else failed (the
	// others were cancelled because of it).
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil { // the caller's ctx ended before all started
		return nil, err
	}
	return details, nil
}

// payoutSlack absorbs the scheduling jitter of poll starts, so that with a
// PayoutInterval of 5 × Interval the payout is polled at every fifth poll and
// not at every sixth when a poll starts a few microseconds early.
const payoutSlack = 100 * time.Millisecond

// payoutDue tells whether a poll starting at start requests the payout:
// the last request started at least PayoutInterval (less the slack) before.
func (p *Poller) payoutDue(start time.Time) bool {
	if p.payoutTried.IsZero() {
		return true
	}
	slack := min(payoutSlack, p.interval/2)
	return start.Sub(p.payoutTried) >= p.payoutInterval-slack
}

func (p *Poller) pollPayout(ctx context.Context, start time.Time, reqs map[Endpoint]RequestStatus) {
	t0 := p.now()
	payout, err := p.client.EstimatedPayout(ctx)
	if err != nil && ctx.Err() != nil {
		return // shutting down: not the endpoint's fault
	}
	p.payoutTried = start // poll starts are what the ticker spaces evenly
	reqs[EndpointEstimatedPayout] = RequestStatus{Time: t0, Duration: p.now().Sub(t0), Success: err == nil, Err: err}
	p.payoutErr = err
	if err != nil {
		p.payout, p.payoutTime = nil, time.Time{}
		if !p.payoutFailing {
			p.log.Warn("estimated payout failing", "err", err)
			p.payoutFailing = true
		}
		return
	}
	p.payout, p.payoutTime = payout, t0
	if p.payoutFailing {
		p.log.Info("estimated payout recovered")
		p.payoutFailing = false
	}
}

func (p *Poller) fail(ctx context.Context, start time.Time, reqs map[Endpoint]RequestStatus, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if p.state != stateDown {
		msg := p.downMessage
		if msg == "" {
			msg = "node API down"
		}
		p.log.Warn(msg, "err", err)
		p.state = stateDown
	}
	p.mu.Lock()
	last := p.snap.LastSuccess
	p.mu.Unlock()
	p.publish(Snapshot{
		Node:        p.node,
		LastPoll:    start,
		LastSuccess: last,
		LastErr:     err,
		PayoutErr:   p.payoutErr,
		Requests:    reqs,
	})
	return err
}

func (p *Poller) publish(s Snapshot) {
	p.mu.Lock()
	p.snap = s
	p.mu.Unlock()
}

// Snapshot returns a copy of the poller's current state. Before the first
// poll it has only Node set.
func (p *Poller) Snapshot() Snapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.snap
	s.Satellites = maps.Clone(s.Satellites)
	s.Requests = maps.Clone(s.Requests)
	s.SatellitePayouts = maps.Clone(s.SatellitePayouts)
	return s
}

// Interval returns the time between two polls.
func (p *Poller) Interval() time.Duration { return p.interval }

// PayoutInterval returns the least time between two payout requests.
func (p *Poller) PayoutInterval() time.Duration { return p.payoutInterval }

// Now returns the poller's clock's time (PollerOptions.Now).
func (p *Poller) Now() time.Time { return p.now() }
