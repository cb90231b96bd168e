package nodeapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
)

func TestClientFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version     string
		wantVersion string
		lastPinged  string
		// Disk figures computed by hand from sno.json (§5.12 rule 1).
		wantDisk nodeapi.DiskSpace
		// Satellites suspended on this node.
		wantSuspended []string
		wantPayout    float64 // currentMonth.payout, cents
		wantExpect    float64 // currentMonthExpectations, cents
	}{
		{
			version:     "v1.142",
			wantVersion: "1.142.7",
			lastPinged:  "2025-12-05T14:20:29.803417219+01:00",
			// used 7221734019584 + trash 84512337920 = 7306246357504;
			// free = available 10000000000000 − 7306246357504.
			wantDisk: nodeapi.DiskSpace{
				Used:       7306246357504,
				Free:       2693753642496,
				Allocated:  10000000000000,
				Trash:      84512337920,
				Overused:   0,
				Generation: 1,
			},
			wantPayout: 181.04000000000002,
			wantExpect: 1231,
		},
		{
			version:     "v1.162",
			wantVersion: "1.162.3",
			lastPinged:  "2026-09-05T14:20:30.917266485Z",
			// As sent; allocated − used = 10000000000000 − 8634217553920 = available.
			wantDisk: nodeapi.DiskSpace{
				Used:        8634217553920,
				Free:        1365782446080,
				Allocated:   10000000000000,
				Trash:       96418775040,
				Overused:    0,
				Reclaimable: 311874019328,
				Generation:  2,
			},
			wantSuspended: []string{eu1},
			wantPayout:    209.14999999999998,
			wantExpect:    1361,
		},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			t.Parallel()
			srv := newNodeServer(t, tt.version)
			c := newClient(t, srv.URL, 5*time.Second)
			ctx := t.Context()

			d, err := c.SNO(ctx)
			if err != nil {
				t.Fatalf("SNO: %v", err)
			}
			if d.NodeID != "12R9pRWwL8ckaRacpKGZUwSNnojCFwAfets35v5ZHdHFP6qBTP4" || d.Version != tt.wantVersion || !d.UpToDate || d.QUICStatus != "OK" {
				t.Errorf("SNO identity = %q %q %v %q", d.NodeID, d.Version, d.UpToDate, d.QUICStatus)
			}
			wantPinged, _ := time.Parse(time.RFC3339Nano, tt.lastPinged)
			if !d.LastPinged.Equal(wantPinged) || d.StartedAt.IsZero() {
				t.Errorf("LastPinged = %v, want %v; StartedAt = %v", d.LastPinged, wantPinged, d.StartedAt)
			}
			if diff := cmp.Diff(d.Disk(), tt.wantDisk); diff != "" {
				t.Errorf("Disk() (-got +want):\n%s", diff)
			}
			disk := d.Disk()
			if disk.Used+disk.Free != disk.Allocated {
				t.Errorf("used %d + free %d != allocated %d", disk.Used, disk.Free, disk.Allocated)
			}
			var suspended []string
			for _, s := range d.Satellites {
				if s.Suspended != nil {
					suspended = append(suspended, s.ID)
				}
				if s.Disqualified != nil || !s.VettingKnown || s.VettedAt == nil || s.CurrentStorageUsed != nil {
					t.Errorf("satellite %s: %+v", s.ID, s)
				}
			}
			if diff := cmp.Diff(suspended, tt.wantSuspended); diff != "" || len(d.Satellites) != 4 {
				t.Errorf("%d satellites, suspended (-got +want):\n%s", len(d.Satellites), diff)
			}

			sum, err := c.Satellites(ctx)
			if err != nil {
				t.Fatalf("Satellites: %v", err)
			}
			if sum.BandwidthSummary != d.Bandwidth.Used || len(sum.Audits) != 4 || len(sum.StorageDaily) != 5 {
				t.Errorf("Satellites: bandwidth %d (sno %d), %d audits, %d days",
					sum.BandwidthSummary, d.Bandwidth.Used, len(sum.Audits), len(sum.StorageDaily))
			}

			var monthBytes int64
			for _, s := range d.Satellites {
				det, err := c.Satellite(ctx, s.ID)
				if err != nil {
					t.Fatalf("Satellite(%s): %v", s.ID, err)
				}
				tr := det.MonthTraffic()
				egress := tr.EgressUsage + tr.EgressRepair + tr.EgressAudit
				ingress := tr.IngressUsage + tr.IngressRepair
				if egress != det.EgressSummary || ingress != det.IngressSummary || egress+ingress != det.BandwidthSummary {
					t.Errorf("%s: traffic %+v vs summaries %d %d %d", s.ID, tr, det.EgressSummary, det.IngressSummary, det.BandwidthSummary)
				}
				monthBytes += det.BandwidthSummary
				if det.Audits == nil || det.Audits.AuditScore < 0.99 || det.NodeJoinedAt.IsZero() || !det.VettingKnown || det.VettedAt == nil {
					t.Errorf("%s: audits %+v joined %v vetted %v", s.ID, det.Audits, det.NodeJoinedAt, det.VettedAt)
				}
				if det.PriceModel == nil || *det.PriceModel != (nodeapi.PriceModel{EgressBandwidth: 200, RepairBandwidth: 200, AuditBandwidth: 200, DiskSpace: 150}) {
					t.Errorf("%s: price model %+v", s.ID, det.PriceModel)
				}
				if det.AuditHistory == nil || len(det.AuditHistory.Windows) != 6 {
					t.Errorf("%s: audit history %+v", s.ID, det.AuditHistory)
				}
			}
			if monthBytes != d.Bandwidth.Used {
				t.Errorf("satellites' bandwidth %d != sno bandwidth.used %d", monthBytes, d.Bandwidth.Used)
			}

			p, err := c.EstimatedPayout(ctx)
			if err != nil {
				t.Fatalf("EstimatedPayout: %v", err)
			}
			if p.CurrentMonth.Payout != tt.wantPayout || p.CurrentMonthExpectations == nil || *p.CurrentMonthExpectations != tt.wantExpect {
				t.Errorf("payout %v, expectations %v", p.CurrentMonth.Payout, p.CurrentMonthExpectations)
			}
			for _, m := range []nodeapi.PayoutMonth{p.CurrentMonth, p.PreviousMonth} {
				sum := m.EgressBandwidthPayout + m.EgressRepairAuditPayout + m.DiskSpacePayout - m.Held
				if math.Abs(sum-m.Payout) > 1e-9 {
					t.Errorf("payout %v != components %v", m.Payout, sum)
				}
			}
		})
	}
}

func TestDiskEdgeCases(t *testing.T) {
	t.Parallel()
	p := func(v int64) *int64 { return &v }
	tests := []struct {
		name string
		raw  nodeapi.RawDiskSpace
		want nodeapi.DiskSpace
	}{
		{
			name: "gen1 before v1.4 without trash and overused",
			raw:  nodeapi.RawDiskSpace{Used: 300, Available: 1000},
			want: nodeapi.DiskSpace{Used: 300, Free: 700, Allocated: 1000, Generation: 1},
		},
		{
			name: "gen1 before v1.19 overfull: overused derived",
			raw:  nodeapi.RawDiskSpace{Used: 900, Available: 1000, Trash: p(200)},
			want: nodeapi.DiskSpace{Used: 1100, Free: 0, Allocated: 1000, Trash: 200, Overused: 100, Generation: 1},
		},
		{
			name: "gen1 overused as sent",
			raw:  nodeapi.RawDiskSpace{Used: 900, Available: 1000, Trash: p(200), Overused: p(100)},
			want: nodeapi.DiskSpace{Used: 1100, Free: 0, Allocated: 1000, Trash: 200, Overused: 100, Generation: 1},
		},
		{
			name: "gen2 overused",
			raw:  nodeapi.RawDiskSpace{Used: 1100, Available: 0, Overused: p(100), Allocated: p(1000), Trash: p(50), Reclaimable: p(20)},
			want: nodeapi.DiskSpace{Used: 1100, Free: 0, Allocated: 1000, Trash: 50, Overused: 100, Reclaimable: 20, Generation: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := &nodeapi.Dashboard{RawDisk: tt.raw}
			if diff := cmp.Diff(d.Disk(), tt.want); diff != "" {
				t.Errorf("Disk() (-got +want):\n%s", diff)
			}
		})
	}
}

// TestClientOptionalKeys decodes an old node's answers: no vettedAt (before
// v1.131), currentStorageUsed (before v1.122), null lists, a zero
// lastPinged, no audits (before v1.21), no currentMonthExpectations.
func TestClientOptionalKeys(t *testing.T) {
	t.Parallel()
	const sno = `{"nodeID":"1abc","wallet":"0x1","walletFeatures":null,
		"satellites":[{"id":"` + us1 + `","url":"us1.storj.io:7777","disqualified":null,"suspended":null,"currentStorageUsed":1234},
		              {"id":"` + eu1 + `","url":"eu1.storj.io:7777","disqualified":"2021-01-02T03:04:05Z","suspended":null,"vettedAt":null}],
		"diskSpace":{"used":300,"available":1000,"trash":10,"overused":0},"bandwidth":{"used":5,"available":0},
		"lastPinged":"0001-01-01T00:00:00Z","version":"1.100.1","allowedVersion":"0.0.0","upToDate":true,
		"startedAt":"2024-03-01T10:00:00+01:00","someFutureKey":{"x":[1,2]}}`
	const sat = `{"id":"` + us1 + `","storageDaily":null,"bandwidthDaily":null,"storageSummary":0,"bandwidthSummary":0,
		"audit":{"score":1},"nodeJoinedAt":"2021-03-08T17:42:19Z"}`
	const payout = `{"currentMonth":{"egressBandwidthPayout":1,"egressRepairAuditPayout":2,"diskSpacePayout":3,"payout":6,"held":0},
		"previousMonth":{"egressBandwidthPayout":0,"egressRepairAuditPayout":0,"diskSpacePayout":0,"payout":0,"held":0}}`
	mux := http.NewServeMux()
	for path, body := range map[string]string{
		"GET /api/sno/{$}":              sno,
		"GET /api/sno/satellite/" + us1: sat,
		"GET /api/sno/estimated-payout": payout,
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, []byte(body))
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, 5*time.Second)

	d, err := c.SNO(t.Context())
	if err != nil {
		t.Fatalf("SNO: %v", err)
	}
	u, e := d.Satellites[0], d.Satellites[1]
	if u.VettingKnown || u.VettedAt != nil || u.CurrentStorageUsed == nil || *u.CurrentStorageUsed != 1234 {
		t.Errorf("us1 = %+v", u)
	}
	if !e.VettingKnown || e.VettedAt != nil || e.Disqualified == nil || e.CurrentStorageUsed != nil {
		t.Errorf("eu1 = %+v", e)
	}
	if !d.LastPinged.IsZero() || d.WalletFeatures != nil || d.QUICStatus != "" {
		t.Errorf("LastPinged %v, WalletFeatures %v, QUICStatus %q", d.LastPinged, d.WalletFeatures, d.QUICStatus)
	}
	if got := d.Disk(); got != (nodeapi.DiskSpace{Used: 310, Free: 690, Allocated: 1000, Trash: 10, Generation: 1}) {
		t.Errorf("Disk() = %+v", got)
	}

	s, err := c.Satellite(t.Context(), us1)
	if err != nil {
		t.Fatalf("Satellite: %v", err)
	}
	if s.Audits != nil || s.VettingKnown || s.StorageDaily != nil || s.MonthTraffic() != (nodeapi.Traffic{}) {
		t.Errorf("Satellite = %+v", s)
	}

	p, err := c.EstimatedPayout(t.Context())
	if err != nil {
		t.Fatalf("EstimatedPayout: %v", err)
	}
	if p.CurrentMonthExpectations != nil || p.CurrentMonth.Payout != 6 {
		t.Errorf("EstimatedPayout = %+v", p)
	}
}

func TestClientErrors(t *testing.T) {
	t.Parallel()
	type call func(context.Context, *nodeapi.Client) error
	sno := func(ctx context.Context, c *nodeapi.Client) error { _, err := c.SNO(ctx); return err }
	satellite := func(id string) call {
		return func(ctx context.Context, c *nodeapi.Client) error { _, err := c.Satellite(ctx, id); return err }
	}
	payout := func(ctx context.Context, c *nodeapi.Client) error { _, err := c.EstimatedPayout(ctx); return err }

	tests := []struct {
		name        string
		fixture     string // file under fixtures, or "" for body
		body        string
		status      int
		contentType string
		call        call
		wantPrefix  string
		wantAPI     *nodeapi.APIError // else the error must be ErrInvalidResponse
		wantText    string
	}{
		{
			name: "HTML page with status 200", fixture: "errors/not-json.txt", status: 200,
			contentType: "text/html; charset=UTF-8", call: sno,
			wantPrefix: "nodeapi: GET /api/sno/: ", wantText: `Content-Type "text/html", want application/json`,
		},
		{
			name: "proxy error page 502", fixture: "errors/not-json.txt", status: 502,
			contentType: "text/html", call: sno,
			wantPrefix: "nodeapi: GET /api/sno/: ", wantAPI: &nodeapi.APIError{Status: 502, Message: "Bad Gateway"},
		},
		{
			name: "truncated JSON", fixture: "errors/truncated.json", status: 200, call: sno,
			wantPrefix: "nodeapi: GET /api/sno/: ", wantText: "unexpected end of JSON input",
		},
		{
			name: "wrong types", fixture: "errors/wrong-types.json", status: 200, call: sno,
			wantPrefix: "nodeapi: GET /api/sno/: ", wantText: "cannot unmarshal string into Go struct field",
		},
		{
			name: "empty object", fixture: "errors/empty.json", status: 200, call: sno,
			wantPrefix: "nodeapi: GET /api/sno/: ",
			wantText:   "missing required key(s): nodeID, version, upToDate, diskSpace.used, diskSpace.available, bandwidth.used",
		},
		{
			name: "JSON null", body: "null\n", status: 200, call: sno,
			wantPrefix: "nodeapi: GET /api/sno/: ", wantText: "missing required key(s): nodeID",
		},
		{
			name: "trailing garbage", body: `{"nodeID":"x"}{}`, status: 200, call: sno,
			wantPrefix: "nodeapi: GET /api/sno/: ", wantText: "invalid character",
		},
		{
			name: "no Content-Type", body: `{}`, status: 200, contentType: "-", call: sno,
			wantPrefix: "nodeapi: GET /api/sno/: ", wantText: "no Content-Type",
		},
		{
			name: "API error 500", fixture: "errors/api-error-404.json", status: 500, call: sno,
			wantPrefix: "nodeapi: GET /api/sno/: ",
			wantAPI:    &nodeapi.APIError{Status: 500, Message: "consoleapi storagenode: console: trust: satellite is untrusted"},
		},
		{
			name: "untrusted satellite 404", fixture: "errors/api-error-404.json", status: 404, call: satellite(us1),
			wantPrefix: "nodeapi: GET /api/sno/satellite/" + us1 + ": ",
			wantAPI:    &nodeapi.APIError{Status: 404, Message: "consoleapi storagenode: console: trust: satellite is untrusted"},
		},
		{
			name: "satellite answer for another ID", fixture: "v1.162/satellite-" + eu1 + ".json", status: 200, call: satellite(us1),
			wantPrefix: "nodeapi: GET /api/sno/satellite/" + us1 + ": ", wantText: "response is for satellite",
		},
		{
			name: "satellite audits without scores", body: `{"id":"` + us1 + `","storageSummary":1,"bandwidthSummary":2,"audits":{"satelliteName":"x"}}`,
			status: 200, call: satellite(us1),
			wantPrefix: "nodeapi: GET /api/sno/satellite/" + us1 + ": ",
			wantText:   "missing required key(s): audits.auditScore, audits.suspensionScore, audits.onlineScore",
		},
		{
			name: "payout empty object", fixture: "errors/empty.json", status: 200, call: payout,
			wantPrefix: "nodeapi: GET /api/sno/estimated-payout: ", wantText: "missing required key(s): currentMonth, previousMonth",
		},
		{
			name: "satellites summary wrong type", body: `{"storageSummary":"1","bandwidthSummary":2}`, status: 200,
			call:       func(ctx context.Context, c *nodeapi.Client) error { _, err := c.Satellites(ctx); return err },
			wantPrefix: "nodeapi: GET /api/sno/satellites: ", wantText: "cannot unmarshal string",
		},
		{
			name: "oversized body", body: "{" + strings.Repeat(" ", nodeapi.MaxBodySize) + "}", status: 200, call: sno,
			wantPrefix: "nodeapi: GET /api/sno/: ", wantText: "body larger than",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tt.body)
			if tt.fixture != "" {
				body = readFixture(t, tt.fixture)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				switch tt.contentType {
				case "":
					w.Header().Set("Content-Type", "application/json")
				case "-":
					w.Header()["Content-Type"] = nil // no sniffing either
				default:
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write(body)
			}))
			t.Cleanup(srv.Close)

			err := tt.call(t.Context(), newClient(t, srv.URL, 5*time.Second))
			if err == nil {
				t.Fatal("got no error")
			}
			if !strings.HasPrefix(err.Error(), tt.wantPrefix) {
				t.Errorf("error %q lacks prefix %q", err, tt.wantPrefix)
			}
			var apiErr *nodeapi.APIError
			if tt.wantAPI != nil {
				if !errors.As(err, &apiErr) {
					t.Fatalf("error %q is not an *APIError", err)
				}
				if *apiErr != *tt.wantAPI {
					t.Errorf("APIError = %+v, want %+v", *apiErr, *tt.wantAPI)
				}
				return
			}
			if errors.As(err, &apiErr) {
				t.Errorf("error %q is an *APIError", err)
			}
			if !errors.Is(err, nodeapi.ErrInvalidResponse) {
				t.Errorf("error %q does not wrap ErrInvalidResponse", err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
		})
	}
}

func TestClientWrongTypesNamesField(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, readFixture(t, "errors/wrong-types.json"))
	}))
	t.Cleanup(srv.Close)
	_, err := newClient(t, srv.URL, 5*time.Second).SNO(t.Context())
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) {
		t.Fatalf("error %v is not a *json.UnmarshalTypeError", err)
	}
	if typeErr.Field != "diskSpace.used" {
		t.Errorf("Field = %q, want diskSpace.used", typeErr.Field)
	}
}

func TestClientTimeout(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // a node stuck on its database
	}))
	t.Cleanup(srv.Close)
	const timeout = 200 * time.Millisecond
	c := newClient(t, srv.URL, timeout)

	start := time.Now()
	_, err := c.SNO(t.Context())
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v is not context.DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "no complete response within 200ms") {
		t.Errorf("error %q does not name the timeout", err)
	}
	if elapsed < timeout || elapsed > timeout+5*time.Second {
		t.Errorf("returned after %v, want about %v", elapsed, timeout)
	}
}

func TestClientBaseURLPrefix(t *testing.T) {
	t.Parallel()
	srv := newNodeServer(t, "v1.162")
	proxy := httptest.NewServer(http.StripPrefix("/node1", srv.Config.Handler))
	t.Cleanup(proxy.Close)
	d, err := newClient(t, proxy.URL+"/node1/", 5*time.Second).SNO(t.Context())
	if err != nil {
		t.Fatalf("SNO via prefix: %v", err)
	}
	if d.Version != "1.162.3" {
		t.Errorf("Version = %q", d.Version)
	}
}

func TestClientUnknownPathIsHTML(t *testing.T) {
	t.Parallel()
	// An old node without the route serves its HTML page with status 200.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		_, _ = w.Write(readFixture(t, "errors/not-json.txt"))
	}))
	t.Cleanup(srv.Close)
	_, err := newClient(t, srv.URL, 5*time.Second).EstimatedPayout(t.Context())
	if !errors.Is(err, nodeapi.ErrInvalidResponse) {
		t.Errorf("error %v does not wrap ErrInvalidResponse", err)
	}
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url     string
		wantErr bool
	}{
		{"http://127.0.0.1:14002", false},
		{"http://127.0.0.1:14002/", false},
		{"https://node.example/storj/", false},
		{"", true},
		{"127.0.0.1:14002", true},
		{"localhost:14002", true},
		{"ftp://127.0.0.1:14002", true},
		{"http://", true},
		{"http://127.0.0.1:14002/?x=1", true},
		{"http://user:pw@127.0.0.1:14002", true},
		{"http://127.0.0.1:14002/%zz", true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			c, err := nodeapi.NewClient(tt.url, 0, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewClient(%q) = %v, %v; want error %v", tt.url, c, err, tt.wantErr)
			}
		})
	}
}

func TestClientInvalidSatelliteID(t *testing.T) {
	t.Parallel()
	srv := newNodeServer(t, "v1.162")
	c := newClient(t, srv.URL, 5*time.Second)
	for _, id := range []string{"", "a/b"} {
		if _, err := c.Satellite(t.Context(), id); err == nil || !strings.Contains(err.Error(), "invalid satellite ID") {
			t.Errorf("Satellite(%q) error = %v", id, err)
		}
	}
	if n := srv.Hits("/api/sno/satellite/"); n != 0 {
		t.Errorf("%d requests sent for invalid IDs", n)
	}
}
