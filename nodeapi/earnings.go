package nodeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Earnings routes (docs/node-api.md §8). The heldamount prefix kept its old
// name when the node's package was renamed.
const (
	pathPaystubs    = "/api/heldamount/paystubs/"
	pathHeldHistory = "/api/heldamount/held-history"
	pathPeriods     = "/api/heldamount/periods"
)

// ErrUnsupported is wrapped by the error of a request to a route the node
// does not have: it answered 404, or 200 with something that is not JSON
// (an older node serves its dashboard page for paths it lacks).
var ErrUnsupported = errors.New("endpoint not supported by this node")

// Paystub is one satellite's statement for one month, GET
// /api/heldamount/paystubs/... Amounts are micro-dollars (1e-6 US$) as sent.
type Paystub struct {
	SatelliteID string
	Period      string // "YYYY-MM"
	Created     time.Time
	Codes       string // colon-separated codes, e.g. "E" or "O:D"; "" for none
	CompAtRest  int64
	CompGet     int64
	CompPut     int64
	CompGetRepair,
	CompPutRepair,
	CompGetAudit int64
	Held        int64 // withheld this period
	Owed        int64
	Disposed    int64 // held amount returned this period
	Paid        int64
	Distributed int64 // transferred in this period's payout
}

// CodeList returns the paystub's codes, without empty entries.
func (p *Paystub) CodeList() []string {
	var out []string
	for c := range strings.SplitSeq(p.Codes, ":") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// HeldHistory is one satellite's entry of GET /api/heldamount/held-history.
// Amounts are micro-dollars.
type HeldHistory struct {
	SatelliteID   string
	SatelliteName string
	TotalHeld     int64 // held in node months 1-9; returned amounts not subtracted
	TotalDisposed int64
	JoinedAt      time.Time
}

type wirePaystub struct {
	SatelliteID   *string   `json:"satelliteId"`
	Period        *string   `json:"period"`
	Created       time.Time `json:"created"`
	Codes         string    `json:"codes"`
	CompAtRest    int64     `json:"compAtRest"`
	CompGet       int64     `json:"compGet"`
	CompPut       int64     `json:"compPut"`
	CompGetRepair int64     `json:"compGetRepair"`
	CompPutRepair int64     `json:"compPutRepair"`
	CompGetAudit  int64     `json:"compGetAudit"`
	Held          *int64    `json:"held"`
	Owed          int64     `json:"owed"`
	Disposed      *int64    `json:"disposed"`
	Paid          *int64    `json:"paid"`
	Distributed   int64     `json:"distributed"` // since v1.22
}

func (w *wirePaystub) decode(i int) (Paystub, error) {
	var m missing
	p := fmt.Sprintf("[%d].", i)
	m.check(w.SatelliteID != nil, p+"satelliteId")
	m.check(w.Period != nil, p+"period")
	m.check(w.Held != nil, p+"held")
	m.check(w.Disposed != nil, p+"disposed")
	m.check(w.Paid != nil, p+"paid")
	if err := m.err(); err != nil {
		return Paystub{}, err
	}
	return Paystub{
		SatelliteID: *w.SatelliteID, Period: *w.Period, Created: w.Created, Codes: w.Codes,
		CompAtRest: w.CompAtRest, CompGet: w.CompGet, CompPut: w.CompPut,
		CompGetRepair: w.CompGetRepair, CompPutRepair: w.CompPutRepair, CompGetAudit: w.CompGetAudit,
		Held: *w.Held, Owed: w.Owed, Disposed: *w.Disposed, Paid: *w.Paid, Distributed: w.Distributed,
	}, nil
}

// SatellitePayout fetches one satellite's payout estimate, GET
// /api/sno/estimated-payout?id=<id> (docs/node-api.md §8.1). Its HeldRate is
// the satellite's held percentage this month. The node answers 500 for a
// satellite it disqualified.
func (c *Client) SatellitePayout(ctx context.Context, id string) (*EstimatedPayout, error) {
	path := pathEstimatedPayout + "?id=" + url.QueryEscape(id)
	if id == "" {
		return nil, c.fail(path, errors.New("empty satellite ID"))
	}
	var w wireEstimatedPayout
	if err := c.getEarnings(ctx, path, &w); err != nil {
		return nil, err
	}
	p, err := w.decode()
	if err != nil {
		return nil, c.fail(path, fmt.Errorf("%w: %w", ErrInvalidResponse, err))
	}
	return p, nil
}

// Paystubs fetches every satellite's paystubs of the months from through to
// (inclusive), GET /api/heldamount/paystubs/{from}/{to} (docs/node-api.md
// §8.2), ordered by period. Only the year and month of from and to count.
// Months without paystubs are left out; none at all is an empty list.
func (c *Client) Paystubs(ctx context.Context, from, to time.Time) ([]Paystub, error) {
	path := pathPaystubs + Period(from) + "/" + Period(to)
	if Period(from) > Period(to) {
		return nil, c.fail(path, errors.New("start after end"))
	}
	var w []wirePaystub
	if err := c.getEarnings(ctx, path, &w); err != nil {
		return nil, err
	}
	out := make([]Paystub, 0, len(w))
	for i := range w {
		p, err := w[i].decode(i)
		if err != nil {
			return nil, c.fail(path, fmt.Errorf("%w: %w", ErrInvalidResponse, err))
		}
		out = append(out, p)
	}
	return out, nil
}

// HeldHistory fetches GET /api/heldamount/held-history (docs/node-api.md
// §8.3): trusted satellites with at least one paystub.
func (c *Client) HeldHistory(ctx context.Context) ([]HeldHistory, error) {
	var w []struct {
		SatelliteID   *string   `json:"satelliteID"`
		SatelliteName string    `json:"satelliteName"`
		TotalHeld     int64     `json:"totalHeld"`
		TotalDisposed int64     `json:"totalDisposed"`
		JoinedAt      time.Time `json:"joinedAt"`
	}
	if err := c.getEarnings(ctx, pathHeldHistory, &w); err != nil {
		return nil, err
	}
	out := make([]HeldHistory, 0, len(w))
	for i, h := range w {
		if h.SatelliteID == nil {
			return nil, c.fail(pathHeldHistory, fmt.Errorf("%w: missing required key(s): [%d].satelliteID", ErrInvalidResponse, i))
		}
		out = append(out, HeldHistory{SatelliteID: *h.SatelliteID, SatelliteName: h.SatelliteName,
			TotalHeld: h.TotalHeld, TotalDisposed: h.TotalDisposed, JoinedAt: h.JoinedAt})
	}
	return out, nil
}

// Periods fetches GET /api/heldamount/periods (docs/node-api.md §8.4): the
// months ("YYYY-MM") with at least one paystub, oldest first.
func (c *Client) Periods(ctx context.Context) ([]string, error) {
	var w []string
	if err := c.getEarnings(ctx, pathPeriods, &w); err != nil {
		return nil, err
	}
	return w, nil
}

// getEarnings is get for the earnings routes: the body null is no data
// (v stays nil), and a 404 or a 200 that is not JSON means the node lacks
// the route (ErrUnsupported).
func (c *Client) getEarnings(ctx context.Context, path string, v any) error {
	body, err := c.fetch(ctx, path)
	var ae *APIError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		return c.fail(path, fmt.Errorf("%w: %w", ErrUnsupported, err))
	case errors.Is(err, ErrInvalidResponse) && strings.Contains(err.Error(), "Content-Type"):
		return c.fail(path, fmt.Errorf("%w: %w", ErrUnsupported, err))
	case err != nil:
		return c.fail(path, err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return c.fail(path, fmt.Errorf("%w: %w", ErrInvalidResponse, err))
	}
	return nil
}

// Period returns t's month as the node writes periods, "YYYY-MM", in UTC.
func Period(t time.Time) string { return t.UTC().Format("2006-01") }

// Dollars converts a paystub amount (micro-dollars, as sent) to US dollars.
// The estimates' cents are divided by 100 where they are read.
func Dollars(micro int64) float64 { return float64(micro) / 1e6 }

// Earned is what the paystub's period earned before the held amount is
// taken: storage, egress, repair and audit egress (the node is paid
// nothing for ingress).
func (p *Paystub) Earned() int64 {
	return p.CompAtRest + p.CompGet + p.CompGetRepair + p.CompGetAudit
}

// PaystubTotals are a satellite's paystubs summed as the node's dashboard
// sums them, in micro-dollars.
type PaystubTotals struct {
	Paid          int64 // Σ paid
	Held          int64 // Σ (held − disposed): held back now
	Returned      int64 // Σ disposed: the held amount returned
	Undistributed int64 // Σ (paid − distributed): paid, not transferred yet
}

// Add counts one paystub into the totals.
func (t *PaystubTotals) Add(p *Paystub) {
	t.Paid += p.Paid
	t.Held += p.Held - p.Disposed
	t.Returned += p.Disposed
	t.Undistributed += p.Paid - p.Distributed
}

// SumPaystubs returns the totals of each satellite's paystubs, by
// satellite ID.
func SumPaystubs(stubs []Paystub) map[string]*PaystubTotals {
	out := make(map[string]*PaystubTotals)
	for i := range stubs {
		p := &stubs[i]
		t := out[p.SatelliteID]
		if t == nil {
			t = &PaystubTotals{}
			out[p.SatelliteID] = t
		}
		t.Add(p)
	}
	return out
}
