package exporter_test

import (
	"strings"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi/nodeapitest"
)

const (
	helpUp          = "# HELP storj_nodeapi_up 1 if the last poll of the node's API succeeded and is recent, else 0.\n# TYPE storj_nodeapi_up gauge\n"
	helpLastSuccess = "# HELP storj_nodeapi_last_success_timestamp_seconds Time of the last successful poll of the node's API.\n# TYPE storj_nodeapi_last_success_timestamp_seconds gauge\n"
)

// healthyV162 is the expected exposition of a healthy v1.162 node polled at
// t0 (1788618000), for the metrics named in healthyV162Names. Values are
// the fixture's: disk as sent (generation 2), scores from
// satellite-<ID>.json, eu1 suspended, payout cents ÷ 100.
const healthyV162 = helpUp + `storj_nodeapi_up{node="node1"} 1
` + helpLastSuccess + `storj_nodeapi_last_success_timestamp_seconds{node="node1"} 1.788618e+09
# HELP storj_nodeapi_request_success 1 if the last request to a node API endpoint succeeded (for satellite: all of the poll's), else 0.
# TYPE storj_nodeapi_request_success gauge
storj_nodeapi_request_success{endpoint="estimated_payout",node="node1"} 1
storj_nodeapi_request_success{endpoint="satellite",node="node1"} 1
storj_nodeapi_request_success{endpoint="sno",node="node1"} 1
# HELP storj_nodeapi_request_duration_seconds Duration of the last request to a node API endpoint (for satellite: all satellite requests of the poll).
# TYPE storj_nodeapi_request_duration_seconds gauge
storj_nodeapi_request_duration_seconds{endpoint="estimated_payout",node="node1"} 0
storj_nodeapi_request_duration_seconds{endpoint="satellite",node="node1"} 0
storj_nodeapi_request_duration_seconds{endpoint="sno",node="node1"} 0
# HELP storj_node_info Node identity and version; always 1.
# TYPE storj_node_info gauge
storj_node_info{allowed_version="1.158.8",node="node1",node_id="12R9pRWwL8ckaRacpKGZUwSNnojCFwAfets35v5ZHdHFP6qBTP4",quic_status="OK",version="1.162.3"} 1
# HELP storj_node_up_to_date 1 if the node's version is at least the minimum allowed version (not: the newest release), else 0.
# TYPE storj_node_up_to_date gauge
storj_node_up_to_date{node="node1"} 1
# HELP storj_node_disk_used_bytes Disk space the node occupies, trash included.
# TYPE storj_node_disk_used_bytes gauge
storj_node_disk_used_bytes{node="node1"} 8634217553920
# HELP storj_node_disk_free_bytes Disk space the node may still fill within its allocation.
# TYPE storj_node_disk_free_bytes gauge
storj_node_disk_free_bytes{node="node1"} 1365782446080
# HELP storj_node_disk_allocated_bytes Disk space allocated to the node, capped to the disk size.
# TYPE storj_node_disk_allocated_bytes gauge
storj_node_disk_allocated_bytes{node="node1"} 10000000000000
# HELP storj_node_disk_trash_bytes Disk space used by trash (part of used).
# TYPE storj_node_disk_trash_bytes gauge
storj_node_disk_trash_bytes{node="node1"} 96418775040
# HELP storj_node_disk_overused_bytes Amount by which the node's usage exceeds its allocation.
# TYPE storj_node_disk_overused_bytes gauge
storj_node_disk_overused_bytes{node="node1"} 0
# HELP storj_node_disk_reclaimable_bytes Hashstore space held by dead records that compaction can free (part of used); node v1.143 and later only.
# TYPE storj_node_disk_reclaimable_bytes gauge
storj_node_disk_reclaimable_bytes{node="node1"} 311874019328
# HELP storj_node_bandwidth_month_bytes Bandwidth used this calendar month, ingress and egress.
# TYPE storj_node_bandwidth_month_bytes gauge
storj_node_bandwidth_month_bytes{node="node1"} 371951778008
# HELP storj_satellite_audit_score Audit score on the satellite (0..1); disqualification below 0.96.
# TYPE storj_satellite_audit_score gauge
storj_satellite_audit_score{node="node1",satellite="ap1"} 0.99999998
storj_satellite_audit_score{node="node1",satellite="eu1"} 0.9999902
storj_satellite_audit_score{node="node1",satellite="saltlake"} 1
storj_satellite_audit_score{node="node1",satellite="us1"} 0.9999995
# HELP storj_satellite_suspension_score Unknown-audit (suspension) score on the satellite (0..1); suspension below 0.6.
# TYPE storj_satellite_suspension_score gauge
storj_satellite_suspension_score{node="node1",satellite="ap1"} 0.87243
storj_satellite_suspension_score{node="node1",satellite="eu1"} 0.58431
storj_satellite_suspension_score{node="node1",satellite="saltlake"} 0.99999
storj_satellite_suspension_score{node="node1",satellite="us1"} 0.99985
# HELP storj_satellite_online_score Online score on the satellite (0..1); offline suspension below 0.6.
# TYPE storj_satellite_online_score gauge
storj_satellite_online_score{node="node1",satellite="ap1"} 0.99514
storj_satellite_online_score{node="node1",satellite="eu1"} 0.99214
storj_satellite_online_score{node="node1",satellite="saltlake"} 0.99652
storj_satellite_online_score{node="node1",satellite="us1"} 0.99826
# HELP storj_satellite_disqualified 1 if the node is disqualified on the satellite, else 0.
# TYPE storj_satellite_disqualified gauge
storj_satellite_disqualified{node="node1",satellite="ap1"} 0
storj_satellite_disqualified{node="node1",satellite="eu1"} 0
storj_satellite_disqualified{node="node1",satellite="saltlake"} 0
storj_satellite_disqualified{node="node1",satellite="us1"} 0
# HELP storj_satellite_suspended 1 if the node is suspended for unknown-audit errors on the satellite, else 0.
# TYPE storj_satellite_suspended gauge
storj_satellite_suspended{node="node1",satellite="ap1"} 0
storj_satellite_suspended{node="node1",satellite="eu1"} 1
storj_satellite_suspended{node="node1",satellite="saltlake"} 0
storj_satellite_suspended{node="node1",satellite="us1"} 0
# HELP storj_satellite_vetted 1 if the node is vetted on the satellite, else 0 (node v1.131 and later only).
# TYPE storj_satellite_vetted gauge
storj_satellite_vetted{node="node1",satellite="ap1"} 1
storj_satellite_vetted{node="node1",satellite="eu1"} 1
storj_satellite_vetted{node="node1",satellite="saltlake"} 1
storj_satellite_vetted{node="node1",satellite="us1"} 1
# HELP storj_satellite_joined_timestamp_seconds Time the node joined the satellite.
# TYPE storj_satellite_joined_timestamp_seconds gauge
storj_satellite_joined_timestamp_seconds{node="node1",satellite="ap1"} 1.615225537904221e+09
storj_satellite_joined_timestamp_seconds{node="node1",satellite="eu1"} 1.615225442118352e+09
storj_satellite_joined_timestamp_seconds{node="node1",satellite="saltlake"} 1.615225391270493e+09
storj_satellite_joined_timestamp_seconds{node="node1",satellite="us1"} 1.615225339553108e+09
# HELP storj_satellite_month_egress_bytes Egress to the satellite's customers this calendar month, by kind (usage, repair, audit).
# TYPE storj_satellite_month_egress_bytes gauge
storj_satellite_month_egress_bytes{kind="audit",node="node1",satellite="ap1"} 2920184
storj_satellite_month_egress_bytes{kind="audit",node="node1",satellite="eu1"} 5008997
storj_satellite_month_egress_bytes{kind="audit",node="node1",satellite="saltlake"} 1869291
storj_satellite_month_egress_bytes{kind="audit",node="node1",satellite="us1"} 9649358
storj_satellite_month_egress_bytes{kind="repair",node="node1",satellite="ap1"} 3116953421
storj_satellite_month_egress_bytes{kind="repair",node="node1",satellite="eu1"} 5719555103
storj_satellite_month_egress_bytes{kind="repair",node="node1",satellite="saltlake"} 1465701560
storj_satellite_month_egress_bytes{kind="repair",node="node1",satellite="us1"} 11048417317
storj_satellite_month_egress_bytes{kind="usage",node="node1",satellite="ap1"} 9006049830
storj_satellite_month_egress_bytes{kind="usage",node="node1",satellite="eu1"} 18087890908
storj_satellite_month_egress_bytes{kind="usage",node="node1",satellite="saltlake"} 6197561065
storj_satellite_month_egress_bytes{kind="usage",node="node1",satellite="us1"} 44698582331
# HELP storj_satellite_month_ingress_bytes Ingress from the satellite's customers this calendar month, by kind (usage, repair).
# TYPE storj_satellite_month_ingress_bytes gauge
storj_satellite_month_ingress_bytes{kind="repair",node="node1",satellite="ap1"} 4464063491
storj_satellite_month_ingress_bytes{kind="repair",node="node1",satellite="eu1"} 8624386070
storj_satellite_month_ingress_bytes{kind="repair",node="node1",satellite="saltlake"} 1986144833
storj_satellite_month_ingress_bytes{kind="repair",node="node1",satellite="us1"} 18857654263
storj_satellite_month_ingress_bytes{kind="usage",node="node1",satellite="ap1"} 21677882072
storj_satellite_month_ingress_bytes{kind="usage",node="node1",satellite="eu1"} 60986188166
storj_satellite_month_ingress_bytes{kind="usage",node="node1",satellite="saltlake"} 48620087612
storj_satellite_month_ingress_bytes{kind="usage",node="node1",satellite="us1"} 107375212136
# HELP storj_satellite_month_stored_byte_seconds Stored data times time this calendar month as reported by the satellite, in byte-seconds (the API's byte-hours x 3600; lags by hours to days).
# TYPE storj_satellite_month_stored_byte_seconds gauge
storj_satellite_month_stored_byte_seconds{node="node1",satellite="ap1"} 3.205814779014319e+17
storj_satellite_month_stored_byte_seconds{node="node1",satellite="eu1"} 7.64595949111516e+17
storj_satellite_month_stored_byte_seconds{node="node1",satellite="saltlake"} 1.6036945431011872e+17
storj_satellite_month_stored_byte_seconds{node="node1",satellite="us1"} 1.5458468063610332e+18
# HELP storj_payout_dollars Node's payout estimate in US dollars over all satellites, by month (current, previous) and component (egress, repair_audit, disk, held, payout).
# TYPE storj_payout_dollars gauge
storj_payout_dollars{component="disk",month="current",node="node1"} 1.8929
storj_payout_dollars{component="disk",month="previous",node="node1"} 12.4001
storj_payout_dollars{component="egress",month="current",node="node1"} 0.15600000000000003
storj_payout_dollars{component="egress",month="previous",node="node1"} 0.9509000000000001
storj_payout_dollars{component="held",month="current",node="node1"} 0
storj_payout_dollars{component="held",month="previous",node="node1"} 0
storj_payout_dollars{component="payout",month="current",node="node1"} 2.0915
storj_payout_dollars{component="payout",month="previous",node="node1"} 13.6163
storj_payout_dollars{component="repair_audit",month="current",node="node1"} 0.0426
storj_payout_dollars{component="repair_audit",month="previous",node="node1"} 0.26530000000000004
# HELP storj_payout_expected_month_dollars Node's projection of the current month's payout to the whole month, in US dollars.
# TYPE storj_payout_expected_month_dollars gauge
storj_payout_expected_month_dollars{node="node1"} 13.61
`

// healthyV162Names are all metrics but the process timestamps (last
// pinged, started), whose nanosecond values are checked in the client test.
var healthyV162Names = []string{
	"storj_nodeapi_up", "storj_nodeapi_last_success_timestamp_seconds",
	"storj_nodeapi_request_success", "storj_nodeapi_request_duration_seconds",
	"storj_node_info", "storj_node_up_to_date",
	"storj_node_disk_used_bytes", "storj_node_disk_free_bytes", "storj_node_disk_allocated_bytes",
	"storj_node_disk_trash_bytes", "storj_node_disk_overused_bytes", "storj_node_disk_reclaimable_bytes",
	"storj_node_bandwidth_month_bytes",
	"storj_satellite_audit_score", "storj_satellite_suspension_score", "storj_satellite_online_score",
	"storj_satellite_disqualified", "storj_satellite_suspended", "storj_satellite_vetted",
	"storj_satellite_joined_timestamp_seconds",
	"storj_satellite_month_egress_bytes", "storj_satellite_month_ingress_bytes",
	"storj_satellite_month_stored_byte_seconds",
	"storj_payout_dollars", "storj_payout_expected_month_dollars",
}

// t0 is "now" in the v1.162 fixtures.
var t0 = time.Date(2026, 9, 5, 14, 20, 0, 0, time.UTC)

// pollerEnv is a poller of a fake node (the fixtures of
// ../testdata/nodeapi) on a clock of the test's.
type pollerEnv struct {
	srv   *nodeapitest.Server
	clock *testutil.Clock
	p     *nodeapi.Poller
}

func newPollerEnv(t *testing.T, version string) *pollerEnv {
	t.Helper()
	env := &pollerEnv{srv: nodeapitest.NewServer(t, "../testdata/nodeapi", version), clock: testutil.NewClock(t0)}
	env.p = nodeapi.NewPoller("node1", apiClient(t, env.srv.URL), nodeapi.PollerOptions{Now: env.clock.Now})
	return env
}

func apiClient(t *testing.T, url string) *nodeapi.Client {
	t.Helper()
	c, err := nodeapi.NewClient(url, 5*time.Second, nil)
	if err != nil {
		t.Fatalf("NewClient(%q): %v", url, err)
	}
	return c
}

func polledEnv(t *testing.T, version string) *pollerEnv {
	t.Helper()
	env := newPollerEnv(t, version)
	if err := env.p.PollOnce(t.Context()); err != nil {
		t.Fatalf("PollOnce: %v", err)
	}
	return env
}

func TestNodeAPICollectorHealthy(t *testing.T) {
	t.Parallel()
	env := polledEnv(t, "v1.162")
	c := exporter.NewNodeAPICollector([]*nodeapi.Poller{env.p}, exporter.NodeAPIOptions{})
	if err := promtest.CollectAndCompare(c, strings.NewReader(healthyV162), healthyV162Names...); err != nil {
		t.Error(err)
	}
	// Every metric is accounted for: the listed ones plus the two process
	// timestamps and the 16 prices of priceModel (4 per satellite; the
	// earnings figures are tested in nodeapi_earnings_test.go).
	if got, want := promtest.CollectAndCount(c), 98; got != want {
		t.Errorf("%d series, want %d", got, want)
	}
	if got := promtest.CollectAndCount(c, "storj_node_last_pinged_timestamp_seconds", "storj_node_started_timestamp_seconds"); got != 2 {
		t.Errorf("%d process timestamps, want 2", got)
	}
}

func TestNodeAPICollectorGeneration1(t *testing.T) {
	t.Parallel()
	env := polledEnv(t, "v1.142")
	c := exporter.NewNodeAPICollector([]*nodeapi.Poller{env.p}, exporter.NodeAPIOptions{})
	// Used and free from used + trash (§5.12); no reclaimable before v1.143.
	const want = `
# HELP storj_node_disk_used_bytes Disk space the node occupies, trash included.
# TYPE storj_node_disk_used_bytes gauge
storj_node_disk_used_bytes{node="node1"} 7306246357504
# HELP storj_node_disk_free_bytes Disk space the node may still fill within its allocation.
# TYPE storj_node_disk_free_bytes gauge
storj_node_disk_free_bytes{node="node1"} 2693753642496
# HELP storj_node_disk_allocated_bytes Disk space allocated to the node, capped to the disk size.
# TYPE storj_node_disk_allocated_bytes gauge
storj_node_disk_allocated_bytes{node="node1"} 10000000000000
# HELP storj_node_disk_trash_bytes Disk space used by trash (part of used).
# TYPE storj_node_disk_trash_bytes gauge
storj_node_disk_trash_bytes{node="node1"} 84512337920
# HELP storj_node_disk_overused_bytes Amount by which the node's usage exceeds its allocation.
# TYPE storj_node_disk_overused_bytes gauge
storj_node_disk_overused_bytes{node="node1"} 0
# HELP storj_node_last_pinged_timestamp_seconds Time of the node's last inbound contact (satellite ping or transfer start).
# TYPE storj_node_last_pinged_timestamp_seconds gauge
storj_node_last_pinged_timestamp_seconds{node="node1"} 1.764940829803417219e+09
# HELP storj_satellite_suspended 1 if the node is suspended for unknown-audit errors on the satellite, else 0.
# TYPE storj_satellite_suspended gauge
storj_satellite_suspended{node="node1",satellite="ap1"} 0
storj_satellite_suspended{node="node1",satellite="eu1"} 0
storj_satellite_suspended{node="node1",satellite="saltlake"} 0
storj_satellite_suspended{node="node1",satellite="us1"} 0
`
	if err := promtest.CollectAndCompare(c, strings.NewReader(want),
		"storj_node_disk_used_bytes", "storj_node_disk_free_bytes", "storj_node_disk_allocated_bytes",
		"storj_node_disk_trash_bytes", "storj_node_disk_overused_bytes", "storj_node_disk_reclaimable_bytes",
		"storj_node_last_pinged_timestamp_seconds", "storj_satellite_suspended"); err != nil {
		t.Error(err)
	}
}

func TestNodeAPICollectorDown(t *testing.T) {
	t.Parallel()
	t.Run("never succeeded", func(t *testing.T) {
		t.Parallel()
		env := newPollerEnv(t, "v1.162")
		env.srv.FailAll.Store(true)
		_ = env.p.PollOnce(t.Context())
		c := exporter.NewNodeAPICollector([]*nodeapi.Poller{env.p}, exporter.NodeAPIOptions{})
		want := helpUp + `storj_nodeapi_up{node="node1"} 0` + "\n"
		if err := promtest.CollectAndCompare(c, strings.NewReader(want)); err != nil {
			t.Error(err)
		}
	})
	t.Run("not polled yet", func(t *testing.T) {
		t.Parallel()
		env := newPollerEnv(t, "v1.162")
		c := exporter.NewNodeAPICollector([]*nodeapi.Poller{env.p}, exporter.NodeAPIOptions{})
		want := helpUp + `storj_nodeapi_up{node="node1"} 0` + "\n"
		if err := promtest.CollectAndCompare(c, strings.NewReader(want)); err != nil {
			t.Error(err)
		}
	})
	t.Run("after a success", func(t *testing.T) {
		t.Parallel()
		env := polledEnv(t, "v1.162")
		env.srv.FailAll.Store(true)
		env.clock.Add(time.Minute)
		_ = env.p.PollOnce(t.Context())
		c := exporter.NewNodeAPICollector([]*nodeapi.Poller{env.p}, exporter.NodeAPIOptions{})
		want := helpUp + `storj_nodeapi_up{node="node1"} 0
` + helpLastSuccess + `storj_nodeapi_last_success_timestamp_seconds{node="node1"} 1.788618e+09
`
		if err := promtest.CollectAndCompare(c, strings.NewReader(want)); err != nil {
			t.Error(err)
		}
	})
}

func TestNodeAPICollectorStale(t *testing.T) {
	t.Parallel()
	env := polledEnv(t, "v1.162")
	c := exporter.NewNodeAPICollector([]*nodeapi.Poller{env.p}, exporter.NodeAPIOptions{})

	// At the limit (3 × the 1m interval) the data is still served.
	env.clock.Add(3 * time.Minute)
	if err := promtest.CollectAndCompare(c, strings.NewReader(healthyV162), healthyV162Names...); err != nil {
		t.Errorf("at max age: %v", err)
	}

	env.clock.Add(time.Second)
	want := helpUp + `storj_nodeapi_up{node="node1"} 0
` + helpLastSuccess + `storj_nodeapi_last_success_timestamp_seconds{node="node1"} 1.788618e+09
`
	if err := promtest.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Errorf("past max age: %v", err)
	}
}

func TestNodeAPICollectorPayoutFailing(t *testing.T) {
	t.Parallel()
	env := newPollerEnv(t, "v1.162")
	env.srv.FailPayout.Store(true)
	if err := env.p.PollOnce(t.Context()); err != nil {
		t.Fatalf("PollOnce: %v", err)
	}
	c := exporter.NewNodeAPICollector([]*nodeapi.Poller{env.p}, exporter.NodeAPIOptions{})
	want := helpUp + `storj_nodeapi_up{node="node1"} 1
# HELP storj_nodeapi_request_success 1 if the last request to a node API endpoint succeeded (for satellite: all of the poll's), else 0.
# TYPE storj_nodeapi_request_success gauge
storj_nodeapi_request_success{endpoint="estimated_payout",node="node1"} 0
storj_nodeapi_request_success{endpoint="satellite",node="node1"} 1
storj_nodeapi_request_success{endpoint="sno",node="node1"} 1
`
	if err := promtest.CollectAndCompare(c, strings.NewReader(want),
		"storj_nodeapi_up", "storj_nodeapi_request_success", "storj_payout_dollars", "storj_payout_expected_month_dollars"); err != nil {
		t.Error(err)
	}
	if n := promtest.CollectAndCount(c, "storj_node_disk_used_bytes"); n != 1 {
		t.Errorf("%d disk series, want 1", n)
	}
}

func TestNodeAPICollectorWallet(t *testing.T) {
	t.Parallel()
	env := polledEnv(t, "v1.162")
	const infoHelp = "# HELP storj_node_info Node identity and version; always 1.\n# TYPE storj_node_info gauge\n"
	tests := []struct {
		expose bool
		want   string
	}{
		{false, infoHelp + `storj_node_info{allowed_version="1.158.8",node="node1",node_id="12R9pRWwL8ckaRacpKGZUwSNnojCFwAfets35v5ZHdHFP6qBTP4",quic_status="OK",version="1.162.3"} 1` + "\n"},
		{true, infoHelp + `storj_node_info{allowed_version="1.158.8",node="node1",node_id="12R9pRWwL8ckaRacpKGZUwSNnojCFwAfets35v5ZHdHFP6qBTP4",quic_status="OK",version="1.162.3",wallet="0x9f3b2c61a7d04e5b8c19f2ad7e66b4c03d5a18e7"} 1` + "\n"},
	}
	for _, tt := range tests {
		c := exporter.NewNodeAPICollector([]*nodeapi.Poller{env.p}, exporter.NodeAPIOptions{ExposeWallet: tt.expose})
		if err := promtest.CollectAndCompare(c, strings.NewReader(tt.want), "storj_node_info"); err != nil {
			t.Errorf("ExposeWallet %v: %v", tt.expose, err)
		}
	}
}

func TestNodeAPICollectorTwoNodes(t *testing.T) {
	t.Parallel()
	a := polledEnv(t, "v1.162")
	b := newPollerEnv(t, "v1.142")
	b.srv.FailAll.Store(true)
	_ = b.p.PollOnce(t.Context())
	pb := nodeapi.NewPoller("node2", apiClient(t, b.srv.URL), nodeapi.PollerOptions{Now: b.clock.Now})
	_ = pb.PollOnce(t.Context())
	c := exporter.NewNodeAPICollector([]*nodeapi.Poller{a.p, pb}, exporter.NodeAPIOptions{})
	want := helpUp + `storj_nodeapi_up{node="node1"} 1
storj_nodeapi_up{node="node2"} 0
`
	if err := promtest.CollectAndCompare(c, strings.NewReader(want), "storj_nodeapi_up"); err != nil {
		t.Error(err)
	}
}

// TestNodeAPICollectorLint lints every metric of a healthy node, and of both
// generations: no problem is accepted.
func TestNodeAPICollectorLint(t *testing.T) {
	t.Parallel()
	for _, version := range []string{"v1.142", "v1.162"} {
		env := polledEnv(t, version)
		c := exporter.NewNodeAPICollector([]*nodeapi.Poller{env.p}, exporter.NodeAPIOptions{ExposeWallet: true})
		problems, err := promtest.CollectAndLint(c)
		if err != nil {
			t.Fatalf("%s: CollectAndLint: %v", version, err)
		}
		for _, p := range problems {
			t.Errorf("%s: lint: %s: %s", version, p.Metric, p.Text)
		}
	}
}
