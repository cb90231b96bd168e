package demo

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
)

// The API answers every route the exporter reads (and /api/sno/satellites),
// nodeapi.Client decodes each, and the times are today's.
func TestAPIHandler(t *testing.T) {
	now := time.Date(2027, 3, 2, 9, 15, 0, 0, time.UTC)
	srv := httptest.NewServer(APIHandler(func() time.Time { return now }))
	defer srv.Close()
	c, err := nodeapi.NewClient(srv.URL, 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	sno, err := c.SNO(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := now.Sub(sno.LastPinged); d < 0 || d > time.Minute {
		t.Errorf("lastPinged %v, want just before %v", sno.LastPinged, now)
	}
	if d := now.Sub(sno.StartedAt); d < 24*time.Hour || d > 30*24*time.Hour {
		t.Errorf("startedAt %v, want days before %v", sno.StartedAt, now)
	}
	if len(sno.Satellites) != 4 {
		t.Fatalf("%d satellites, want 4", len(sno.Satellites))
	}
	today := time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, s := range sno.Satellites {
		d, err := c.Satellite(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Audits == nil || d.Audits.AuditScore <= 0 {
			t.Errorf("%s: no audit score: %+v", s.ID, d.Audits)
		}
		if n := len(d.StorageDaily); n == 0 || !d.StorageDaily[n-1].IntervalStart.Equal(today) {
			t.Errorf("%s: last storageDaily row is not today: %+v", s.ID, d.StorageDaily)
		}
		if n := len(d.BandwidthDaily); n == 0 || !d.BandwidthDaily[n-1].IntervalStart.Equal(today) {
			t.Errorf("%s: last bandwidthDaily row is not today", s.ID)
		}
	}
	sum, err := c.Satellites(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sum.StorageDaily); n == 0 || !sum.StorageDaily[n-1].IntervalStart.Equal(today) {
		t.Errorf("satellites: last storageDaily row is not today")
	}
	p, err := c.EstimatedPayout(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.CurrentMonth.Payout <= 0 || p.CurrentMonthExpectations == nil {
		t.Errorf("payout %+v", p)
	}

	_, err = c.Satellite(ctx, "1unknownSatelliteID")
	var apiErr *nodeapi.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Errorf("unknown satellite: %v, want a 404 API error", err)
	}
}

// Shift moves exact times by the exact difference and whole-hour times by
// whole days; the node's "never" and other strings stay as they are.
func TestShift(t *testing.T) {
	now := fixtureTime.Add(10*24*time.Hour + 3*time.Hour)
	in := `{"a":"2026-09-05T14:20:30.917266485Z","b":"2026-09-05T00:00:00Z","c":"2026-09-04T12:00:00Z","d":"not 2026-09-05T00:00:00Z","e":"0001-01-01T00:00:00Z"}`
	want := `{"a":"2026-09-15T17:20:30.917266485Z","b":"2026-09-15T00:00:00Z","c":"2026-09-14T12:00:00Z","d":"not 2026-09-05T00:00:00Z","e":"0001-01-01T00:00:00Z"}`
	if got := string(Shift([]byte(in), now)); got != want {
		t.Errorf("Shift:\n got %s\nwant %s", got, want)
	}
}

// StartAPI serves on a loopback port until Close.
func TestStartAPI(t *testing.T) {
	a, err := StartAPI()
	if err != nil {
		t.Fatal(err)
	}
	c, err := nodeapi.NewClient(a.URL(), 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SNO(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SNO(context.Background()); err == nil {
		t.Error("API still answers after Close")
	}
}
