package nodeapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Timestamps: a zero time.Time means "never" or "not sent". The node sends
// "0001-01-01T00:00:00Z" for "never" (docs/node-api.md §2), which decodes to
// the zero time.
// Process timestamps keep the node's offset.

// Dashboard is the response of GET /api/sno/ (docs/node-api.md §4).
//
// Required keys (a response without them is an error): nodeID, version,
// upToDate, diskSpace.used, diskSpace.available, bandwidth.used. They exist
// in every node version since v1.0. Everything else is optional.
type Dashboard struct {
	NodeID         string
	Wallet         string
	WalletFeatures []string // nil when none, or before v1.26
	// Satellites has one entry per satellite the node has a reputation
	// record for and can resolve (docs/node-api.md §4.2). A JSON null is an
	// empty list.
	Satellites []SatelliteStatus
	// RawDisk is diskSpace as sent; its meaning depends on the node
	// version. Use Disk for figures with one meaning.
	RawDisk          RawDiskSpace
	Bandwidth        Bandwidth
	LastPinged       time.Time
	Version          string // without "v"
	AllowedVersion   string // "0.0.0" if no version check has completed
	UpToDate         bool   // running version ≥ minimum allowed
	StartedAt        time.Time
	ConfiguredPort   string
	QUICStatus       string // "OK", "Misconfigured", "Disabled", "Refreshing"; "" before v1.67
	LastQUICPingedAt time.Time
}

// SatelliteStatus is one entry of the dashboard's satellites list.
type SatelliteStatus struct {
	ID           string
	URL          string
	Disqualified *time.Time // nil if not disqualified
	Suspended    *time.Time // nil if not suspended (unknown-audit suspension only)
	// VettedAt is nil while the node is in vetting, or when VettingKnown is
	// false: the key vettedAt exists since v1.131.
	VettedAt     *time.Time
	VettingKnown bool
	// CurrentStorageUsed is nil from v1.122, where the key was removed.
	CurrentStorageUsed *int64
}

// RawDiskSpace is the diskSpace object as sent. Optional keys are nil when
// absent. Allocated is non-nil exactly for the v1.143+ generation
// (docs/node-api.md §4.3).
type RawDiskSpace struct {
	Used        int64
	Available   int64
	Trash       *int64 // since v1.4
	Overused    *int64 // since v1.19
	Allocated   *int64 // since v1.143; its presence marks generation 2
	Reclaimable *int64 // since v1.143
}

// Bandwidth is the node's bandwidth in the current calendar month.
type Bandwidth struct {
	Used      int64 // bytes, all actions, ingress and egress
	Available int64 // always 0 in current versions
}

// SatellitesSummary is the response of GET /api/sno/satellites
// (docs/node-api.md §5).
// Required keys: storageSummary, bandwidthSummary.
type SatellitesSummary struct {
	StorageDaily      []StorageDay
	BandwidthDaily    []BandwidthDay
	StorageSummary    float64 // byte-hours, satellite-reported, this month
	AverageUsageBytes float64
	BandwidthSummary  int64
	EgressSummary     int64
	IngressSummary    int64
	EarliestJoinedAt  time.Time
	// Audits has no satellite IDs; SatelliteName is the satellite's
	// address. Entries are sorted by satellite ID.
	Audits []Audits
}

// SatelliteDetail is the response of GET /api/sno/satellite/{id}
// (docs/node-api.md §6).
// Required keys: id (equal to the requested ID), storageSummary,
// bandwidthSummary; and the three scores if audits is present.
type SatelliteDetail struct {
	ID                 string
	StorageDaily       []StorageDay
	BandwidthDaily     []BandwidthDay
	StorageSummary     float64 // byte-hours this month, as reported by the satellite
	AverageUsageBytes  float64
	BandwidthSummary   int64
	EgressSummary      int64
	IngressSummary     int64
	Audits             *Audits // nil before v1.21
	AuditHistory       *AuditHistory
	PriceModel         *PriceModel
	NodeJoinedAt       time.Time
	VettedAt           *time.Time
	VettingKnown       bool   // false before v1.131
	CurrentStorageUsed *int64 // nil from v1.122
}

// MonthTraffic sums the satellite's daily bandwidth of the current month.
func (s *SatelliteDetail) MonthTraffic() Traffic { return SumTraffic(s.BandwidthDaily) }

// Audits holds a satellite's reputation scores, each 0..1.
type Audits struct {
	AuditScore      float64
	SuspensionScore float64
	OnlineScore     float64
	SatelliteName   string // the satellite's address, "" if unknown
}

// AuditHistory is the online-check history (docs/node-api.md §6.3).
type AuditHistory struct {
	Score   float64       `json:"score"`
	Windows []AuditWindow `json:"windows"`
}

// AuditWindow is one 12-hour window of the online-check history.
type AuditWindow struct {
	WindowStart time.Time `json:"windowStart"`
	TotalCount  int64     `json:"totalCount"`
	OnlineCount int64     `json:"onlineCount"`
}

// PriceModel is a satellite's prices, in US cents per TB (per TB-month for
// DiskSpace). The JSON keys are capitalised.
type PriceModel struct {
	EgressBandwidth int64 `json:"EgressBandwidth"`
	RepairBandwidth int64 `json:"RepairBandwidth"`
	AuditBandwidth  int64 `json:"AuditBandwidth"`
	DiskSpace       int64 `json:"DiskSpace"`
}

// StorageDay is one row of storageDaily.
type StorageDay struct {
	AtRestTotal      float64   `json:"atRestTotal"`      // byte-hours; 0 on calculated rows
	AtRestTotalBytes float64   `json:"atRestTotalBytes"` // bytes
	IntervalInHours  float64   `json:"intervalInHours"`  // per-satellite rows only
	IntervalStart    time.Time `json:"intervalStart"`
	Calculated       bool      `json:"calculated"` // since v1.162
}

// BandwidthDay is one row of bandwidthDaily, in bytes.
type BandwidthDay struct {
	Egress struct {
		Repair int64 `json:"repair"`
		Audit  int64 `json:"audit"`
		Usage  int64 `json:"usage"`
	} `json:"egress"`
	Ingress struct {
		Repair int64 `json:"repair"`
		Usage  int64 `json:"usage"`
	} `json:"ingress"`
	Delete        int64     `json:"delete"`
	IntervalStart time.Time `json:"intervalStart"`
}

// Traffic is a sum of bandwidth rows, in bytes.
type Traffic struct {
	EgressUsage   int64 // GET
	EgressRepair  int64 // GET_REPAIR
	EgressAudit   int64 // GET_AUDIT
	IngressUsage  int64 // PUT
	IngressRepair int64 // PUT_REPAIR
}

// SumTraffic adds up bandwidth rows.
func SumTraffic(days []BandwidthDay) Traffic {
	var t Traffic
	for _, d := range days {
		t.EgressUsage += d.Egress.Usage
		t.EgressRepair += d.Egress.Repair
		t.EgressAudit += d.Egress.Audit
		t.IngressUsage += d.Ingress.Usage
		t.IngressRepair += d.Ingress.Repair
	}
	return t
}

// EstimatedPayout is the response of GET /api/sno/estimated-payout
// (docs/node-api.md §7).
// Money is in US cents. Required keys: currentMonth and previousMonth, each
// with egressBandwidthPayout, egressRepairAuditPayout, diskSpacePayout, held
// and payout.
type EstimatedPayout struct {
	CurrentMonth  PayoutMonth
	PreviousMonth PayoutMonth
	// CurrentMonthExpectations is the projection of CurrentMonth.Payout to
	// the whole month, in cents; nil before v1.21.
	CurrentMonthExpectations *float64
}

// PayoutMonth is one month of the payout estimate. Amounts are US cents.
type PayoutMonth struct {
	EgressBandwidth         int64   // bytes
	EgressBandwidthPayout   float64 // cents
	EgressRepairAudit       int64   // bytes
	EgressRepairAuditPayout float64 // cents
	DiskSpace               float64 // byte-months
	DiskSpacePayout         float64 // cents
	HeldRate                float64 // percent; always 0 over all satellites
	Payout                  float64 // cents, after held
	Held                    float64 // cents
}

// ---- wire forms: pointers mark keys that must be present ----

type missing []string

func (m *missing) check(present bool, key string) {
	if !present {
		*m = append(*m, key)
	}
}

func (m missing) err() error {
	if len(m) == 0 {
		return nil
	}
	return fmt.Errorf("missing required key(s): %s", strings.Join(m, ", "))
}

type wireDashboard struct {
	NodeID         *string               `json:"nodeID"`
	Wallet         string                `json:"wallet"`
	WalletFeatures []string              `json:"walletFeatures"`
	Satellites     []wireSatelliteStatus `json:"satellites"`
	DiskSpace      *struct {
		Used        *int64 `json:"used"`
		Available   *int64 `json:"available"`
		Trash       *int64 `json:"trash"`
		Overused    *int64 `json:"overused"`
		Allocated   *int64 `json:"allocated"`
		Reclaimable *int64 `json:"reclaimable"`
	} `json:"diskSpace"`
	Bandwidth *struct {
		Used      *int64 `json:"used"`
		Available int64  `json:"available"`
	} `json:"bandwidth"`
	LastPinged       time.Time `json:"lastPinged"`
	Version          *string   `json:"version"`
	AllowedVersion   string    `json:"allowedVersion"`
	UpToDate         *bool     `json:"upToDate"`
	StartedAt        time.Time `json:"startedAt"`
	ConfiguredPort   string    `json:"configuredPort"`
	QUICStatus       string    `json:"quicStatus"`
	LastQUICPingedAt time.Time `json:"lastQuicPingedAt"`
}

type wireSatelliteStatus struct {
	ID                 *string         `json:"id"`
	URL                string          `json:"url"`
	Disqualified       *time.Time      `json:"disqualified"`
	Suspended          *time.Time      `json:"suspended"`
	VettedAt           json.RawMessage `json:"vettedAt"`
	CurrentStorageUsed *int64          `json:"currentStorageUsed"`
}

func (w *wireDashboard) decode() (*Dashboard, error) {
	var m missing
	m.check(w.NodeID != nil && *w.NodeID != "", "nodeID")
	m.check(w.Version != nil, "version")
	m.check(w.UpToDate != nil, "upToDate")
	m.check(w.DiskSpace != nil && w.DiskSpace.Used != nil, "diskSpace.used")
	m.check(w.DiskSpace != nil && w.DiskSpace.Available != nil, "diskSpace.available")
	m.check(w.Bandwidth != nil && w.Bandwidth.Used != nil, "bandwidth.used")
	if err := m.err(); err != nil {
		return nil, err
	}
	d := &Dashboard{
		NodeID:         *w.NodeID,
		Wallet:         w.Wallet,
		WalletFeatures: w.WalletFeatures,
		RawDisk: RawDiskSpace{
			Used:        *w.DiskSpace.Used,
			Available:   *w.DiskSpace.Available,
			Trash:       w.DiskSpace.Trash,
			Overused:    w.DiskSpace.Overused,
			Allocated:   w.DiskSpace.Allocated,
			Reclaimable: w.DiskSpace.Reclaimable,
		},
		Bandwidth:        Bandwidth{Used: *w.Bandwidth.Used, Available: w.Bandwidth.Available},
		LastPinged:       w.LastPinged,
		Version:          *w.Version,
		AllowedVersion:   w.AllowedVersion,
		UpToDate:         *w.UpToDate,
		StartedAt:        w.StartedAt,
		ConfiguredPort:   w.ConfiguredPort,
		QUICStatus:       w.QUICStatus,
		LastQUICPingedAt: w.LastQUICPingedAt,
	}
	for i, s := range w.Satellites {
		if s.ID == nil || *s.ID == "" {
			return nil, fmt.Errorf("missing required key(s): satellites[%d].id", i)
		}
		vetted, known, err := optionalTime(s.VettedAt)
		if err != nil {
			return nil, fmt.Errorf("satellites[%d].vettedAt: %w", i, err)
		}
		d.Satellites = append(d.Satellites, SatelliteStatus{
			ID:                 *s.ID,
			URL:                s.URL,
			Disqualified:       s.Disqualified,
			Suspended:          s.Suspended,
			VettedAt:           vetted,
			VettingKnown:       known,
			CurrentStorageUsed: s.CurrentStorageUsed,
		})
	}
	return d, nil
}

// optionalTime decodes a timestamp key that may be absent (known=false),
// null (nil, known) or a timestamp.
func optionalTime(raw json.RawMessage) (t *time.Time, known bool, err error) {
	if raw == nil {
		return nil, false, nil
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, true, err
	}
	return t, true, nil
}

type wireAudits struct {
	AuditScore      *float64 `json:"auditScore"`
	SuspensionScore *float64 `json:"suspensionScore"`
	OnlineScore     *float64 `json:"onlineScore"`
	SatelliteName   string   `json:"satelliteName"`
}

func (w *wireAudits) decode(prefix string) (Audits, error) {
	var m missing
	m.check(w.AuditScore != nil, prefix+"auditScore")
	m.check(w.SuspensionScore != nil, prefix+"suspensionScore")
	m.check(w.OnlineScore != nil, prefix+"onlineScore")
	if err := m.err(); err != nil {
		return Audits{}, err
	}
	return Audits{
		AuditScore:      *w.AuditScore,
		SuspensionScore: *w.SuspensionScore,
		OnlineScore:     *w.OnlineScore,
		SatelliteName:   w.SatelliteName,
	}, nil
}

type wireSatellitesSummary struct {
	StorageDaily      []StorageDay   `json:"storageDaily"`
	BandwidthDaily    []BandwidthDay `json:"bandwidthDaily"`
	StorageSummary    *float64       `json:"storageSummary"`
	AverageUsageBytes float64        `json:"averageUsageBytes"`
	BandwidthSummary  *int64         `json:"bandwidthSummary"`
	EgressSummary     int64          `json:"egressSummary"`
	IngressSummary    int64          `json:"ingressSummary"`
	EarliestJoinedAt  time.Time      `json:"earliestJoinedAt"`
	Audits            []wireAudits   `json:"audits"`
}

func (w *wireSatellitesSummary) decode() (*SatellitesSummary, error) {
	var m missing
	m.check(w.StorageSummary != nil, "storageSummary")
	m.check(w.BandwidthSummary != nil, "bandwidthSummary")
	if err := m.err(); err != nil {
		return nil, err
	}
	s := &SatellitesSummary{
		StorageDaily:      w.StorageDaily,
		BandwidthDaily:    w.BandwidthDaily,
		StorageSummary:    *w.StorageSummary,
		AverageUsageBytes: w.AverageUsageBytes,
		BandwidthSummary:  *w.BandwidthSummary,
		EgressSummary:     w.EgressSummary,
		IngressSummary:    w.IngressSummary,
		EarliestJoinedAt:  w.EarliestJoinedAt,
	}
	for i := range w.Audits {
		a, err := w.Audits[i].decode(fmt.Sprintf("audits[%d].", i))
		if err != nil {
			return nil, err
		}
		s.Audits = append(s.Audits, a)
	}
	return s, nil
}

type wireSatelliteDetail struct {
	ID                 *string         `json:"id"`
	StorageDaily       []StorageDay    `json:"storageDaily"`
	BandwidthDaily     []BandwidthDay  `json:"bandwidthDaily"`
	StorageSummary     *float64        `json:"storageSummary"`
	AverageUsageBytes  float64         `json:"averageUsageBytes"`
	BandwidthSummary   *int64          `json:"bandwidthSummary"`
	EgressSummary      int64           `json:"egressSummary"`
	IngressSummary     int64           `json:"ingressSummary"`
	Audits             *wireAudits     `json:"audits"`
	AuditHistory       *AuditHistory   `json:"auditHistory"`
	PriceModel         *PriceModel     `json:"priceModel"`
	NodeJoinedAt       time.Time       `json:"nodeJoinedAt"`
	VettedAt           json.RawMessage `json:"vettedAt"`
	CurrentStorageUsed *int64          `json:"currentStorageUsed"`
}

func (w *wireSatelliteDetail) decode(wantID string) (*SatelliteDetail, error) {
	var m missing
	m.check(w.ID != nil && *w.ID != "", "id")
	m.check(w.StorageSummary != nil, "storageSummary")
	m.check(w.BandwidthSummary != nil, "bandwidthSummary")
	if err := m.err(); err != nil {
		return nil, err
	}
	if *w.ID != wantID {
		return nil, fmt.Errorf("response is for satellite %q, not %q", *w.ID, wantID)
	}
	vetted, known, err := optionalTime(w.VettedAt)
	if err != nil {
		return nil, fmt.Errorf("vettedAt: %w", err)
	}
	s := &SatelliteDetail{
		ID:                 *w.ID,
		StorageDaily:       w.StorageDaily,
		BandwidthDaily:     w.BandwidthDaily,
		StorageSummary:     *w.StorageSummary,
		AverageUsageBytes:  w.AverageUsageBytes,
		BandwidthSummary:   *w.BandwidthSummary,
		EgressSummary:      w.EgressSummary,
		IngressSummary:     w.IngressSummary,
		AuditHistory:       w.AuditHistory,
		PriceModel:         w.PriceModel,
		NodeJoinedAt:       w.NodeJoinedAt,
		VettedAt:           vetted,
		VettingKnown:       known,
		CurrentStorageUsed: w.CurrentStorageUsed,
	}
	if w.Audits != nil {
		a, err := w.Audits.decode("audits.")
		if err != nil {
			return nil, err
		}
		s.Audits = &a
	}
	return s, nil
}

type wirePayoutMonth struct {
	EgressBandwidth         int64    `json:"egressBandwidth"`
	EgressBandwidthPayout   *float64 `json:"egressBandwidthPayout"`
	EgressRepairAudit       int64    `json:"egressRepairAudit"`
	EgressRepairAuditPayout *float64 `json:"egressRepairAuditPayout"`
	DiskSpace               float64  `json:"diskSpace"`
	DiskSpacePayout         *float64 `json:"diskSpacePayout"`
	HeldRate                float64  `json:"heldRate"`
	Payout                  *float64 `json:"payout"`
	Held                    *float64 `json:"held"`
}

type wireEstimatedPayout struct {
	CurrentMonth             *wirePayoutMonth `json:"currentMonth"`
	PreviousMonth            *wirePayoutMonth `json:"previousMonth"`
	CurrentMonthExpectations *float64         `json:"currentMonthExpectations"`
}

func (w *wirePayoutMonth) check(m *missing, prefix string) {
	if w == nil {
		m.check(false, strings.TrimSuffix(prefix, "."))
		return
	}
	m.check(w.EgressBandwidthPayout != nil, prefix+"egressBandwidthPayout")
	m.check(w.EgressRepairAuditPayout != nil, prefix+"egressRepairAuditPayout")
	m.check(w.DiskSpacePayout != nil, prefix+"diskSpacePayout")
	m.check(w.Payout != nil, prefix+"payout")
	m.check(w.Held != nil, prefix+"held")
}

func (w *wirePayoutMonth) month() PayoutMonth {
	return PayoutMonth{
		EgressBandwidth:         w.EgressBandwidth,
		EgressBandwidthPayout:   *w.EgressBandwidthPayout,
		EgressRepairAudit:       w.EgressRepairAudit,
		EgressRepairAuditPayout: *w.EgressRepairAuditPayout,
		DiskSpace:               w.DiskSpace,
		DiskSpacePayout:         *w.DiskSpacePayout,
		HeldRate:                w.HeldRate,
		Payout:                  *w.Payout,
		Held:                    *w.Held,
	}
}

func (w *wireEstimatedPayout) decode() (*EstimatedPayout, error) {
	var m missing
	w.CurrentMonth.check(&m, "currentMonth.")
	w.PreviousMonth.check(&m, "previousMonth.")
	if err := m.err(); err != nil {
		return nil, err
	}
	return &EstimatedPayout{
		CurrentMonth:             w.CurrentMonth.month(),
		PreviousMonth:            w.PreviousMonth.month(),
		CurrentMonthExpectations: w.CurrentMonthExpectations,
	}, nil
}
