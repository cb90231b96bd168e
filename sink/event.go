package sink

import (
	"encoding/base32"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// Event is one transfer outcome that counts under the outcome rules.
type Event struct {
	Time      time.Time // the line's time; stored to the millisecond
	Node      string
	Satellite string // the satellite's NodeID as logged; "" when the line names none
	Action    parser.Action
	Status    parser.Result // Success, Canceled or Failed
	Size      int64         // the size field, when HasSize
	HasSize   bool
	PieceID   string
	Remote    netip.Addr // the peer; zero when the line has none
	Country   string     // ISO alpha-2 of Remote; "" when unknown or no address
	// ErrorReason is the error field, or for a cancel without one its
	// reason field.
	ErrorReason string
	Duration    time.Duration // when Timed: from the transfer's started line
	Timed       bool
}

// EventFrom builds the Event of a transfer outcome: ev as parser.Parse
// returned it, res as the node's parser.Tracker counted it, country as the
// geo lookup of ev.Remote gave it ("" when ev has no address).
func EventFrom(node string, ev *parser.Event, res parser.Result, country string) Event {
	e := Event{
		Time:      ev.Time,
		Node:      node,
		Satellite: ev.Satellite,
		Action:    ev.Action,
		Status:    res,
		Size:      ev.Size,
		HasSize:   ev.HasSize,
		PieceID:   ev.PieceID,
		Country:   country,
	}
	if ev.Remote.IsValid() {
		e.Remote = ev.Remote.Addr().WithZone("").Unmap()
	}
	e.ErrorReason = ev.Error
	if e.ErrorReason == "" && res != parser.Failed {
		e.ErrorReason = ev.Reason
	}
	return e
}

// Rejection is an `upload rejected, too many requests` line. They are
// stored as counts per node and minute.
type Rejection struct {
	Time time.Time
	Node string
}

// Reputation is a row of reputation_history: from a `node scores updated`
// line (Source "log") or the node API (Source "api").
type Reputation struct {
	Time                               time.Time
	Node                               string
	Satellite                          string // NodeID
	AuditScore, SuspensionScore        float64
	OnlineScore                        float64
	AuditSuccessCount, AuditTotalCount int64
	Disqualified, Suspended            bool
	Source                             string
}

// ReputationFrom builds the Reputation of a KindReputation event.
func ReputationFrom(node string, ev *parser.Event) Reputation {
	r := Reputation{Time: ev.Time, Node: node, Satellite: ev.Satellite, Source: "log"}
	if p := ev.Reputation; p != nil {
		r.AuditScore, r.SuspensionScore, r.OnlineScore = p.AuditScore, p.SuspensionScore, p.OnlineScore
		r.AuditSuccessCount, r.AuditTotalCount = p.SuccessfulAudits, p.TotalAudits
	}
	return r
}

// Paystub is a row of paystubs: one satellite's statement of one month
// for a node, from the node API (amounts in micro-dollars, as sent). The
// sink stores each once per node, satellite and period. A paystub is final
// once issued, but should the node return other figures for a period
// already stored (a satellite's correction), the stored row takes them and
// counts the revision: the sink holds what the node says now, and that it
// changed.
type Paystub struct {
	Node   string
	NodeID string // the node's identity (nodeapi.Dashboard.NodeID): another node given the same name has its own rows
	nodeapi.Paystub
	// Revisions is how often the node returned other figures for the
	// period (set by queries; Write ignores it).
	Revisions int64
}

// StorageSnapshot is a row of storage_snapshots, from the node API.
type StorageSnapshot struct {
	Time                              time.Time
	Node                              string
	Total, Used, Available, TrashUsed int64 // bytes
}

// Compaction is a row of hashstore_compaction_history: one finished
// compaction of a store.
type Compaction struct {
	Time      time.Time
	Node      string
	Satellite string // NodeID
	Store     string // s0 or s1
	Duration  time.Duration
	// Bytes the compaction reclaimed and rewrote (from its `hashtbl
	// rewritten` line), when HasBytes.
	Reclaimed, Rewritten int64
	HasBytes             bool
	// TrashPercent is the share of log bytes that are trash (0-100), from
	// the line's stats, when HasTrash.
	TrashPercent float64
	HasTrash     bool
}

var pieceEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// b32Value maps the characters of the base32 alphabet to their values;
// 0xff marks the others.
var b32Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(b32Alphabet); i++ {
		t[b32Alphabet[i]] = byte(i)
	}
	return t
}()

// decodePiece decodes a piece ID as logged (52 characters of base32, no
// padding) into dst. It reports false for anything else, which is then
// stored as text. The last character carries one bit of data and four of
// padding, which must be zero for the text to round-trip.
func decodePiece(dst *[32]byte, id string) bool {
	if len(id) != 52 {
		return false
	}
	// Eight characters are 40 bits, five bytes: six blocks give 30 bytes,
	// the last four characters 20 bits, two bytes and four bits that must
	// be zero. A character outside the alphabet maps to 0xff, which sets
	// bits that no valid value has.
	var bad byte
	for blk := range 6 {
		var v uint64
		for _, c := range []byte(id[blk*8 : blk*8+8]) {
			x := b32Value[c]
			bad |= x
			v = v<<5 | uint64(x&31)
		}
		d := dst[blk*5 : blk*5+5]
		d[0], d[1], d[2], d[3], d[4] = byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	var v uint64
	for _, c := range []byte(id[48:52]) {
		x := b32Value[c]
		bad |= x
		v = v<<5 | uint64(x&31)
	}
	dst[30], dst[31] = byte(v>>12), byte(v>>4)
	return bad < 32 && v&15 == 0
}

// encodePiece is the inverse of decodePiece.
func encodePiece(b []byte) string { return pieceEncoding.EncodeToString(b) }

// ipValue is the stored form of addr: IPv4 as an integer that fits SQLite's
// 4-byte integers, IPv6 as 16 bytes; nil when addr is not valid.
func ipValue(addr netip.Addr) any {
	switch {
	case !addr.IsValid():
		return nil
	case addr.Is4():
		return ipv4Value(addr)
	default:
		a := addr.As16()
		return a[:]
	}
}

// ipv4Value is the stored form of an IPv4 address.
func ipv4Value(addr netip.Addr) int64 {
	a := addr.As4()
	return int64(binary.BigEndian.Uint32(a[:])) - 1<<31
}

// addrOf is the inverse of ipValue.
func addrOf(v any) netip.Addr {
	switch x := v.(type) {
	case int64:
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], uint32(x+1<<31))
		return netip.AddrFrom4(a)
	case []byte:
		if a, ok := netip.AddrFromSlice(x); ok {
			return a
		}
	}
	return netip.Addr{}
}

// eventID is the key of an event: the table is ordered by time, so a time
// range is a key range and needs no index. The low 24 bits number the
// events of one second.
func eventID(sec, seq int64) int64 { return sec<<seqBits | seq }

const (
	seqBits = 24
	maxSec  = 1<<(63-seqBits) - 1
)

// idFloor is the first event key of the second of t.
func idFloor(t time.Time) int64 {
	sec := t.Unix()
	if t.IsZero() || sec < 0 {
		sec = 0
	}
	return eventID(min(sec, maxSec), 0)
}

// timeOf is the time of an event key and its milliseconds.
func timeOf(id int64, ms int64) time.Time {
	return time.Unix(id>>seqBits, ms*int64(time.Millisecond)).UTC()
}
