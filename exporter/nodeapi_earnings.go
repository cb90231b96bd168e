package exporter

import (
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
)

// earningsDescs are the per-satellite earnings families (docs/node-api.md
// §8), all in US dollars: the estimates' cents ÷ 100, the paystubs'
// micro-dollars ÷ 10^6.
//
// From /api/sno/estimated-payout?id= (every payout interval):
//
//	storj_satellite_payout_dollars{node,satellite,month,component}  as storj_payout_dollars
//	storj_satellite_held_ratio{node,satellite}                      this month's held rate, 0..1
//
// From the paystubs, the join month to now (hourly or on a new period),
// summed over the node's history as the node's dashboard sums them (with
// serve --db, over the months the sink kept too: NodeAPIOptions.
// PaystubHistory):
//
//	storj_satellite_paid_dollars{node,satellite}            Σ paid
//	storj_satellite_held_dollars{node,satellite}            Σ (held − disposed): held back now
//	storj_satellite_held_returned_dollars{node,satellite}   Σ disposed
//	storj_satellite_undistributed_dollars{node,satellite}   Σ (paid − distributed)
//
// and of the newest period (the only period label):
//
//	storj_satellite_paystub_dollars{node,satellite,period,component}  earned, held, disposed, paid, distributed
//	storj_satellite_paystub_code{node,satellite,period,code} 1        one per code (E, X, I, O, D, S, T)
//	storj_satellite_paystub_node_month{node,satellite,period}         node month of the period (1 = join month)
//
// From /api/sno/satellite/{id} priceModel (every poll):
//
//	storj_satellite_price_dollars_per_terabyte{node,satellite,kind}  kind: egress, repair, audit
//	storj_satellite_price_disk_dollars_per_terabyte_month{node,satellite}
type earningsDescs struct {
	satPayout, heldRatio                    *prometheus.Desc
	paid, held, heldReturned, undistributed *prometheus.Desc
	paystub, paystubCode, paystubNodeMonth  *prometheus.Desc
	priceTraffic, priceDisk                 *prometheus.Desc
}

func newEarningsDescs() earningsDescs {
	sat := []string{"node", "satellite"}
	period := []string{"node", "satellite", "period"}
	g := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return earningsDescs{
		satPayout:        g("storj_satellite_payout_dollars", "Satellite's payout estimate in US dollars, by month (current, previous) and component (egress, repair_audit, disk, held, payout).", []string{"node", "satellite", "month", "component"}),
		heldRatio:        g("storj_satellite_held_ratio", "Share of this month's earnings the satellite withholds (0.75, 0.5, 0.25 or 0).", sat),
		paid:             g("storj_satellite_paid_dollars", "Sum of paid over the node's paystubs from the satellite, in US dollars.", sat),
		held:             g("storj_satellite_held_dollars", "Amount the satellite holds back now (sum of held minus disposed over the paystubs), in US dollars.", sat),
		heldReturned:     g("storj_satellite_held_returned_dollars", "Held amount the satellite returned (sum of disposed over the paystubs), in US dollars.", sat),
		undistributed:    g("storj_satellite_undistributed_dollars", "Paid but not yet transferred, e.g. below the payout threshold (sum of paid minus distributed), in US dollars.", sat),
		paystub:          g("storj_satellite_paystub_dollars", "The newest paystub's figures in US dollars, by component (earned, held, disposed, paid, distributed).", []string{"node", "satellite", "period", "component"}),
		paystubCode:      g("storj_satellite_paystub_code", "1 for each code on the newest paystub (E withholding, X exited, I exiting, O offline, D disqualified, S sanctioned, T no tax form).", []string{"node", "satellite", "period", "code"}),
		paystubNodeMonth: g("storj_satellite_paystub_node_month", "Node month of the newest paystub's period on the satellite (1 = the join month; half the held amount is due back in month 16).", period),
		priceTraffic:     g("storj_satellite_price_dollars_per_terabyte", "Satellite's price per terabyte (10^12 bytes) of egress, by kind (egress, repair, audit), in US dollars.", []string{"node", "satellite", "kind"}),
		priceDisk:        g("storj_satellite_price_disk_dollars_per_terabyte_month", "Satellite's price per terabyte-month (10^12 bytes for 720 hours) stored, in US dollars.", sat),
	}
}

func (d *earningsDescs) describe(ch chan<- *prometheus.Desc) {
	for _, x := range []*prometheus.Desc{
		d.satPayout, d.heldRatio, d.paid, d.held, d.heldReturned, d.undistributed,
		d.paystub, d.paystubCode, d.paystubNodeMonth, d.priceTraffic, d.priceDisk,
	} {
		ch <- x
	}
}

// knownCodes bound the code label.
var knownCodes = map[string]bool{"E": true, "X": true, "I": true, "O": true, "D": true, "S": true, "T": true}

// collectEarnings sends the earnings of a fresh snapshot; each source's
// figures only while its data is no older than maxAge plus its cadence.
// sat gives a satellite ID's label, false for one without a label of its
// own (NodeAPICollector.satLabel): its figures are left out. IDs are
// labelled in their order, so that which ones keep a label does not
// depend on a map's. kept are paystubs kept of the node elsewhere
// (NodeAPIOptions.PaystubHistory): the sums count those of the periods the
// node does not return.
func (d *earningsDescs) collectEarnings(gauge func(*prometheus.Desc, float64, ...string), sat func(id string) (string, bool), s *nodeapi.Snapshot, kept []nodeapi.Paystub, now time.Time, maxAge, payoutInterval time.Duration) {
	node := s.Node
	for _, id := range slices.Sorted(maps.Keys(s.Satellites)) {
		name, ok := sat(id)
		if pm := s.Satellites[id].PriceModel; pm != nil && ok {
			gauge(d.priceTraffic, float64(pm.EgressBandwidth)/100, node, name, "egress")
			gauge(d.priceTraffic, float64(pm.RepairBandwidth)/100, node, name, "repair")
			gauge(d.priceTraffic, float64(pm.AuditBandwidth)/100, node, name, "audit")
			gauge(d.priceDisk, float64(pm.DiskSpace)/100, node, name)
		}
	}

	if s.SatellitePayouts != nil && now.Sub(s.SatellitePayoutTime) <= maxAge+payoutInterval {
		for _, id := range slices.Sorted(maps.Keys(s.SatellitePayouts)) {
			p := s.SatellitePayouts[id]
			name, ok := sat(id)
			if !ok {
				continue
			}
			for _, m := range []struct {
				name string
				v    nodeapi.PayoutMonth
			}{{"current", p.CurrentMonth}, {"previous", p.PreviousMonth}} {
				gauge(d.satPayout, m.v.EgressBandwidthPayout/100, node, name, m.name, "egress")
				gauge(d.satPayout, m.v.EgressRepairAuditPayout/100, node, name, m.name, "repair_audit")
				gauge(d.satPayout, m.v.DiskSpacePayout/100, node, name, m.name, "disk")
				gauge(d.satPayout, m.v.Held/100, node, name, m.name, "held")
				gauge(d.satPayout, m.v.Payout/100, node, name, m.name, "payout")
			}
			gauge(d.heldRatio, p.CurrentMonth.HeldRate/100, node, name)
		}
	}

	if s.Paystubs == nil || now.Sub(s.PaystubsTime) > maxAge+nodeapi.HeldamountInterval {
		return
	}
	newest := "" // a period is a label: only one that is a month
	for _, p := range s.Paystubs {
		if _, err := time.Parse("2006-01", p.Period); err == nil {
			newest = max(newest, p.Period)
		}
	}
	sums := nodeapi.SumPaystubs(withKept(s.Paystubs, kept))
	for _, id := range slices.Sorted(maps.Keys(sums)) {
		t := sums[id]
		name, ok := sat(id)
		if !ok {
			continue
		}
		gauge(d.paid, nodeapi.Dollars(t.Paid), node, name)
		gauge(d.held, nodeapi.Dollars(t.Held), node, name)
		gauge(d.heldReturned, nodeapi.Dollars(t.Returned), node, name)
		gauge(d.undistributed, nodeapi.Dollars(t.Undistributed), node, name)
	}

	joined := make(map[string]time.Time)
	for id, det := range s.Satellites {
		joined[id] = det.NodeJoinedAt
	}
	if s.HeldHistory != nil && now.Sub(s.HeldHistoryTime) <= maxAge+nodeapi.HeldamountInterval {
		for _, h := range s.HeldHistory {
			if !h.JoinedAt.IsZero() {
				joined[h.SatelliteID] = h.JoinedAt
			}
		}
	}
	seen := make(map[string]bool)
	for _, p := range s.Paystubs {
		name, ok := sat(p.SatelliteID)
		if newest == "" || p.Period != newest || seen[p.SatelliteID] || !ok {
			continue
		}
		seen[p.SatelliteID] = true
		for _, c := range []struct {
			name string
			v    int64
		}{{"earned", p.Earned()}, {"held", p.Held}, {"disposed", p.Disposed}, {"paid", p.Paid}, {"distributed", p.Distributed}} {
			gauge(d.paystub, nodeapi.Dollars(c.v), node, name, p.Period, c.name)
		}
		codes := p.CodeList()
		sort.Strings(codes)
		for i, c := range codes {
			if knownCodes[c] && (i == 0 || codes[i-1] != c) {
				gauge(d.paystubCode, 1, node, name, p.Period, c)
			}
		}
		if j := joined[p.SatelliteID]; !j.IsZero() {
			if pt, err := time.Parse("2006-01", p.Period); err == nil {
				j = j.UTC()
				months := (pt.Year()-j.Year())*12 + int(pt.Month()-j.Month()) + 1
				gauge(d.paystubNodeMonth, float64(months), node, name, p.Period)
			}
		}
	}
}

// withKept returns the node's paystubs and the kept ones of the satellites
// and periods the node does not return; the node's own figures win.
func withKept(node, kept []nodeapi.Paystub) []nodeapi.Paystub {
	if len(kept) == 0 {
		return node
	}
	type key struct{ sat, period string }
	has := make(map[key]bool, len(node))
	for _, p := range node {
		has[key{p.SatelliteID, p.Period}] = true
	}
	out := append([]nodeapi.Paystub(nil), node...)
	for _, p := range kept {
		if !has[key{p.SatelliteID, p.Period}] {
			out = append(out, p)
		}
	}
	return out
}
