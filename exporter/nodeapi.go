package exporter

import (
	"regexp"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storagenode-exporter/storagenode-exporter/internal/satellites"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
)

// NodeAPIOptions configure a NodeAPICollector.
type NodeAPIOptions struct {
	// ExposeWallet adds the operator's wallet address as a label of
	// storj_node_info. Off by default: the address identifies the operator.
	ExposeWallet bool
	// MaxAge is how old a snapshot's last success may be and still be
	// served; default 3 × the poller's Interval. Payout data may be older
	// by the poller's PayoutInterval.
	MaxAge time.Duration
	// LogScores, when set, supplies the scores a node's own log reported
	// ("node scores updated"). They fill the three score gauges of a node
	// whose API is not served (down, stale or not configured), so that each
	// series has one owner: the API while it answers, else the log.
	LogScores ScoreSource
	// LogOnlyNodes are nodes without a poller whose log scores are exported.
	LogOnlyNodes []string
	// PaystubHistory, when set, gives the paystubs kept of a node (by its
	// name and nodeID) outside it (serve --db: the sink's). The paid, held,
	// returned and undistributed sums then also count the kept months the
	// node no longer returns (its database was wiped): the satellite still
	// holds, and has paid, what those months say.
	PaystubHistory func(node, nodeID string) []nodeapi.Paystub
}

// NodeAPICollector exports the node-API pollers' snapshots (package
// nodeapi) as Prometheus gauges.
//
// About the poll (node = the configured name):
//
//	storj_nodeapi_up{node}
//	storj_nodeapi_last_success_timestamp_seconds{node}
//	storj_nodeapi_request_duration_seconds{node,endpoint}  endpoint: sno, satellite, estimated_payout,
//	                                                       satellite_payout, periods, paystubs, held_history
//	storj_nodeapi_request_success{node,endpoint}
//
// From /api/sno/:
//
//	storj_node_info{node,node_id,version,allowed_version,quic_status[,wallet]} 1
//	storj_node_up_to_date{node}
//	storj_node_last_pinged_timestamp_seconds{node}    absent if never
//	storj_node_started_timestamp_seconds{node}
//	storj_node_disk_{used,free,allocated,trash,overused,reclaimable}_bytes{node}
//	storj_node_bandwidth_month_bytes{node}
//	storj_satellite_{disqualified,suspended,vetted}{node,satellite}
//
// From /api/sno/satellite/{id} (satellite = us1, eu1, ap1, saltlake, or the
// ID for the node's first 16 other valid IDs; see satLabel):
//
//	storj_satellite_{audit,suspension,online}_score{node,satellite}
//	storj_satellite_joined_timestamp_seconds{node,satellite}
//	storj_satellite_month_egress_bytes{node,satellite,kind}   kind: usage, repair, audit
//	storj_satellite_month_ingress_bytes{node,satellite,kind}  kind: usage, repair
//	storj_satellite_month_stored_byte_seconds{node,satellite} (the API's byte-hours x 3600, in base units)
//
// From /api/sno/estimated-payout (cents converted to dollars):
//
//	storj_payout_dollars{node,month,component}  month: current, previous;
//	                                            component: egress, repair_audit, disk, held, payout
//	storj_payout_expected_month_dollars{node}
//
// Per satellite, from the earnings routes: see earningsDescs
// (exporter/nodeapi_earnings.go).
//
// Values a node version does not report are left out rather than exported
// as 0: storj_node_disk_reclaimable_bytes before v1.143,
// storj_satellite_vetted before v1.131, the scores before v1.21,
// storj_payout_expected_month_dollars before v1.21.
//
// Collect reads snapshots only; it never calls a node.
//
// For a node that is down (its last poll failed) or whose data is older
// than MaxAge, only storj_nodeapi_up 0 and, if it ever succeeded,
// storj_nodeapi_last_success_timestamp_seconds are exported. Node names
// must be unique across the pollers.
type NodeAPICollector struct {
	pollers []*nodeapi.Poller
	opts    NodeAPIOptions
	sats    map[string]*satellites.Labels // by node: its satellite label values

	up, lastSuccess, reqDuration, reqSuccess      *prometheus.Desc
	info, upToDate, lastPinged, started           *prometheus.Desc
	diskUsed, diskFree, diskAllocated, diskTrash  *prometheus.Desc
	diskOverused, diskReclaimable, bandwidthMonth *prometheus.Desc
	auditScore, suspensionScore, onlineScore      *prometheus.Desc
	disqualified, suspended, vetted, joined       *prometheus.Desc
	egress, ingress, storedByteHours              *prometheus.Desc
	payout, payoutExpected                        *prometheus.Desc
	earnings                                      earningsDescs
}

var _ prometheus.Collector = (*NodeAPICollector)(nil)

// NewNodeAPICollector returns a collector of the pollers' snapshots.
func NewNodeAPICollector(pollers []*nodeapi.Poller, opts NodeAPIOptions) *NodeAPICollector {
	node := []string{"node"}
	sat := []string{"node", "satellite"}
	g := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	infoLabels := []string{"node", "node_id", "version", "allowed_version", "quic_status"}
	if opts.ExposeWallet {
		infoLabels = append(infoLabels, "wallet")
	}
	sats := make(map[string]*satellites.Labels, len(pollers))
	for _, p := range pollers {
		sats[p.Node()] = &satellites.Labels{}
	}
	return &NodeAPICollector{
		pollers: append([]*nodeapi.Poller(nil), pollers...),
		opts:    opts,
		sats:    sats,

		up:          g("storj_nodeapi_up", "1 if the last poll of the node's API succeeded and is recent, else 0.", node),
		lastSuccess: g("storj_nodeapi_last_success_timestamp_seconds", "Time of the last successful poll of the node's API.", node),
		reqDuration: g("storj_nodeapi_request_duration_seconds", "Duration of the last request to a node API endpoint (for satellite: all satellite requests of the poll).", []string{"node", "endpoint"}),
		reqSuccess:  g("storj_nodeapi_request_success", "1 if the last request to a node API endpoint succeeded (for satellite: all of the poll's), else 0.", []string{"node", "endpoint"}),

		info:       g("storj_node_info", "Node identity and version; always 1.", infoLabels),
		upToDate:   g("storj_node_up_to_date", "1 if the node's version is at least the minimum allowed version (not: the newest release), else 0.", node),
		lastPinged: g("storj_node_last_pinged_timestamp_seconds", "Time of the node's last inbound contact (satellite ping or transfer start).", node),
		started:    g("storj_node_started_timestamp_seconds", "Time the node process started.", node),

		diskUsed:        g("storj_node_disk_used_bytes", "Disk space the node occupies, trash included.", node),
		diskFree:        g("storj_node_disk_free_bytes", "Disk space the node may still fill within its allocation.", node),
		diskAllocated:   g("storj_node_disk_allocated_bytes", "Disk space allocated to the node, capped to the disk size.", node),
		diskTrash:       g("storj_node_disk_trash_bytes", "Disk space used by trash (part of used).", node),
		diskOverused:    g("storj_node_disk_overused_bytes", "Amount by which the node's usage exceeds its allocation.", node),
		diskReclaimable: g("storj_node_disk_reclaimable_bytes", "Hashstore space held by dead records that compaction can free (part of used); node v1.143 and later only.", node),
		bandwidthMonth:  g("storj_node_bandwidth_month_bytes", "Bandwidth used this calendar month, ingress and egress.", node),

		auditScore:      g("storj_satellite_audit_score", "Audit score on the satellite (0..1); disqualification below 0.96.", sat),
		suspensionScore: g("storj_satellite_suspension_score", "Unknown-audit (suspension) score on the satellite (0..1); suspension below 0.6.", sat),
		onlineScore:     g("storj_satellite_online_score", "Online score on the satellite (0..1); offline suspension below 0.6.", sat),
		disqualified:    g("storj_satellite_disqualified", "1 if the node is disqualified on the satellite, else 0.", sat),
		suspended:       g("storj_satellite_suspended", "1 if the node is suspended for unknown-audit errors on the satellite, else 0.", sat),
		vetted:          g("storj_satellite_vetted", "1 if the node is vetted on the satellite, else 0 (node v1.131 and later only).", sat),
		joined:          g("storj_satellite_joined_timestamp_seconds", "Time the node joined the satellite.", sat),

		egress:          g("storj_satellite_month_egress_bytes", "Egress to the satellite's customers this calendar month, by kind (usage, repair, audit).", []string{"node", "satellite", "kind"}),
		ingress:         g("storj_satellite_month_ingress_bytes", "Ingress from the satellite's customers this calendar month, by kind (usage, repair).", []string{"node", "satellite", "kind"}),
		storedByteHours: g("storj_satellite_month_stored_byte_seconds", "Stored data times time this calendar month as reported by the satellite, in byte-seconds (the API's byte-hours x 3600; lags by hours to days).", sat),

		payout:         g("storj_payout_dollars", "Node's payout estimate in US dollars over all satellites, by month (current, previous) and component (egress, repair_audit, disk, held, payout).", []string{"node", "month", "component"}),
		payoutExpected: g("storj_payout_expected_month_dollars", "Node's projection of the current month's payout to the whole month, in US dollars.", node),
		earnings:       newEarningsDescs(),
	}
}

// Describe sends the descriptors of every metric the collector can export.
func (c *NodeAPICollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.up, c.lastSuccess, c.reqDuration, c.reqSuccess,
		c.info, c.upToDate, c.lastPinged, c.started,
		c.diskUsed, c.diskFree, c.diskAllocated, c.diskTrash,
		c.diskOverused, c.diskReclaimable, c.bandwidthMonth,
		c.auditScore, c.suspensionScore, c.onlineScore,
		c.disqualified, c.suspended, c.vetted, c.joined,
		c.egress, c.ingress, c.storedByteHours,
		c.payout, c.payoutExpected,
	} {
		ch <- d
	}
	c.earnings.describe(ch)
}

// Collect sends the metrics of every poller's current snapshot.
func (c *NodeAPICollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.pollers {
		if !c.collect(ch, p) {
			c.collectLogScores(ch, p.Node())
		}
	}
	for _, node := range c.opts.LogOnlyNodes {
		c.collectLogScores(ch, node)
	}
}

// collectLogScores sends the scores from the node's log, if any.
func (c *NodeAPICollector) collectLogScores(ch chan<- prometheus.Metric, node string) {
	if c.opts.LogScores == nil {
		return
	}
	for sat, sc := range c.opts.LogScores.LogScores(node) {
		ch <- prometheus.MustNewConstMetric(c.auditScore, prometheus.GaugeValue, sc.Audit, node, sat)
		ch <- prometheus.MustNewConstMetric(c.suspensionScore, prometheus.GaugeValue, sc.Suspension, node, sat)
		ch <- prometheus.MustNewConstMetric(c.onlineScore, prometheus.GaugeValue, sc.Online, node, sat)
	}
}

// collect sends a poller's metrics and reports whether its data was served.
func (c *NodeAPICollector) collect(ch chan<- prometheus.Metric, p *nodeapi.Poller) bool {
	s := p.Snapshot()
	node := s.Node
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}

	maxAge := c.opts.MaxAge
	if maxAge <= 0 {
		maxAge = 3 * p.Interval()
	}
	now := p.Now()
	fresh := s.Up && s.Dashboard != nil && now.Sub(s.LastSuccess) <= maxAge

	gauge(c.up, boolFloat(fresh), node)
	if !s.LastSuccess.IsZero() {
		gauge(c.lastSuccess, unixSeconds(s.LastSuccess), node)
	}
	if !fresh {
		return false // stale or missing data must not pass for current
	}

	for _, e := range []nodeapi.Endpoint{nodeapi.EndpointSNO, nodeapi.EndpointSatellites, nodeapi.EndpointSatellite, nodeapi.EndpointEstimatedPayout,
		nodeapi.EndpointSatellitePayout, nodeapi.EndpointPeriods, nodeapi.EndpointPaystubs, nodeapi.EndpointHeldHistory} {
		if r, ok := s.Requests[e]; ok {
			gauge(c.reqDuration, r.Duration.Seconds(), node, string(e))
			gauge(c.reqSuccess, boolFloat(r.Success), node, string(e))
		}
	}

	d := s.Dashboard
	info := []string{node, nodeIDLabel(d.NodeID), versionLabel(d.Version), versionLabel(d.AllowedVersion), quicLabel(d.QUICStatus)}
	if c.opts.ExposeWallet {
		info = append(info, walletLabel(d.Wallet))
	}
	gauge(c.info, 1, info...)
	gauge(c.upToDate, boolFloat(d.UpToDate), node)
	if !d.LastPinged.IsZero() {
		gauge(c.lastPinged, unixSeconds(d.LastPinged), node)
	}
	if !d.StartedAt.IsZero() {
		gauge(c.started, unixSeconds(d.StartedAt), node)
	}

	disk := d.Disk()
	gauge(c.diskUsed, float64(disk.Used), node)
	gauge(c.diskFree, float64(disk.Free), node)
	gauge(c.diskAllocated, float64(disk.Allocated), node)
	gauge(c.diskTrash, float64(disk.Trash), node)
	gauge(c.diskOverused, float64(disk.Overused), node)
	if disk.Generation >= 2 {
		gauge(c.diskReclaimable, float64(disk.Reclaimable), node)
	}
	gauge(c.bandwidthMonth, float64(d.Bandwidth.Used), node)

	c.collectSatellites(gauge, node, d, s.Satellites)

	if s.Payout != nil && now.Sub(s.PayoutTime) <= maxAge+p.PayoutInterval() {
		for _, m := range []struct {
			name string
			v    nodeapi.PayoutMonth
		}{{"current", s.Payout.CurrentMonth}, {"previous", s.Payout.PreviousMonth}} {
			gauge(c.payout, m.v.EgressBandwidthPayout/100, node, m.name, "egress")
			gauge(c.payout, m.v.EgressRepairAuditPayout/100, node, m.name, "repair_audit")
			gauge(c.payout, m.v.DiskSpacePayout/100, node, m.name, "disk")
			gauge(c.payout, m.v.Held/100, node, m.name, "held")
			gauge(c.payout, m.v.Payout/100, node, m.name, "payout")
		}
		if e := s.Payout.CurrentMonthExpectations; e != nil {
			gauge(c.payoutExpected, *e/100, node)
		}
	}
	sat := func(id string) (string, bool) { return c.satLabel(node, id) }
	var kept []nodeapi.Paystub
	if c.opts.PaystubHistory != nil && s.Dashboard != nil {
		kept = c.opts.PaystubHistory(node, s.Dashboard.NodeID)
	}
	c.earnings.collectEarnings(gauge, sat, &s, kept, now, maxAge, p.PayoutInterval())
	return true
}

func (c *NodeAPICollector) collectSatellites(gauge func(*prometheus.Desc, float64, ...string), node string, d *nodeapi.Dashboard, details map[string]*nodeapi.SatelliteDetail) {
	seen := make(map[string]bool, len(d.Satellites))
	sats := append([]nodeapi.SatelliteStatus(nil), d.Satellites...)
	sort.Slice(sats, func(i, j int) bool { return sats[i].ID < sats[j].ID })
	for _, st := range sats {
		if seen[st.ID] {
			continue
		}
		seen[st.ID] = true
		name, ok := c.satLabel(node, st.ID)
		if !ok {
			continue
		}

		gauge(c.disqualified, boolFloat(st.Disqualified != nil), node, name)
		gauge(c.suspended, boolFloat(st.Suspended != nil), node, name)
		det := details[st.ID]
		switch {
		case st.VettingKnown:
			gauge(c.vetted, boolFloat(st.VettedAt != nil), node, name)
		case det != nil && det.VettingKnown:
			gauge(c.vetted, boolFloat(det.VettedAt != nil), node, name)
		}
		if det == nil {
			continue
		}
		if a := det.Audits; a != nil {
			gauge(c.auditScore, a.AuditScore, node, name)
			gauge(c.suspensionScore, a.SuspensionScore, node, name)
			gauge(c.onlineScore, a.OnlineScore, node, name)
		}
		if !det.NodeJoinedAt.IsZero() {
			gauge(c.joined, unixSeconds(det.NodeJoinedAt), node, name)
		}
		t := det.MonthTraffic()
		gauge(c.egress, float64(t.EgressUsage), node, name, "usage")
		gauge(c.egress, float64(t.EgressRepair), node, name, "repair")
		gauge(c.egress, float64(t.EgressAudit), node, name, "audit")
		gauge(c.ingress, float64(t.IngressUsage), node, name, "usage")
		gauge(c.ingress, float64(t.IngressRepair), node, name, "repair")
		gauge(c.storedByteHours, det.StorageSummary*3600, node, name)
	}
}

// satLabel returns the satellite label of an ID in a node's API data, and
// false when it has none of its own (satellites.Labels: invalid, or a
// valid unknown ID beyond the node's bound): every family here is a gauge
// of one satellite, so its figures are left out rather than put under a
// value that stands for several.
func (c *NodeAPICollector) satLabel(node, id string) (string, bool) {
	l := c.sats[node]
	if l == nil {
		return "", false
	}
	name := l.Label(id)
	return name, satellites.Own(name)
}

// The labels of storj_node_info come from the API: each is kept to its
// shape, else "invalid" (the QUIC status to its known values, else
// "other"), so that a broken or hostile API cannot make long or many
// values.
var (
	versionShape = regexp.MustCompile(`^v?[0-9]{1,6}\.[0-9]{1,6}\.[0-9]{1,6}(-[0-9A-Za-z.]{1,32})?$`)
	walletShape  = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)
	quicStatuses = map[string]bool{"": true, "OK": true, "Misconfigured": true, "Disabled": true, "Refreshing": true}
)

// The values of an input label that is not of its shape or not one of
// its known values: the same as the satellite label's.
const (
	invalidLabel = satellites.Invalid
	otherLabel   = satellites.Other
)

func nodeIDLabel(id string) string {
	if satellites.ValidID(id) {
		return id
	}
	return invalidLabel
}

func versionLabel(v string) string {
	if versionShape.MatchString(v) {
		return v
	}
	return invalidLabel
}

func walletLabel(w string) string {
	if w == "" || walletShape.MatchString(w) {
		return w
	}
	return invalidLabel
}

func quicLabel(q string) string {
	if quicStatuses[q] {
		return q
	}
	return otherLabel
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// unixSeconds converts t to seconds since the epoch, keeping as much of
// the fraction as a float64 holds.
func unixSeconds(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}
