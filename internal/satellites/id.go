package satellites

import (
	"crypto/sha256"
	"sync"
)

// A node ID string (storj.io/common/storj NodeIDFromString) is base58 in
// Bitcoin's alphabet, with Base58Check's framing: a version byte, the 32
// bytes of the ID and a checksum of 4 bytes (the start of SHA-256 applied
// twice to the version and the ID). Leading '1's stand for leading zero
// bytes, so the public satellites' IDs, of version 0, start with '1'.
const (
	idBytes     = 32
	checkBytes  = 4
	rawBytes    = 1 + idBytes + checkBytes // 37
	maxIDLength = 51                       // 37 bytes never take more base58 digits
)

const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var digits = func() (d [256]int8) {
	for i := range d {
		d[i] = -1
	}
	for i := range len(alphabet) {
		d[alphabet[i]] = int8(i)
	}
	return d
}()

// ValidID reports whether s is a node ID string that NodeIDFromString
// accepts: base58, 37 bytes decoded (leading '1's as zero bytes), and a
// checksum that matches. Any version byte is accepted, as there. It costs
// no allocation and looks at no more than 51 bytes of s.
func ValidID(s string) bool {
	if len(s) > maxIDLength {
		return false
	}
	// The number, in 32-bit limbs, least significant first: 10 limbs hold
	// 320 bits, 37 bytes are 296.
	var n [(rawBytes + 3) / 4]uint32
	for i := range len(s) {
		d := digits[s[i]]
		if d < 0 {
			return false
		}
		carry := uint64(d)
		for j := range n {
			t := uint64(n[j])*58 + carry
			n[j], carry = uint32(t), t>>32
		}
		if carry != 0 {
			return false
		}
	}
	if n[len(n)-1]>>(8*(rawBytes-4*(len(n)-1))) != 0 {
		return false // more than 37 bytes
	}
	var b [rawBytes]byte // big-endian
	for i := range b {
		k := rawBytes - 1 - i // byte k of the number, from the least significant
		b[i] = byte(n[k/4] >> (8 * (k % 4)))
	}
	// The decoding is the leading '1's as zero bytes, then the number's
	// bytes without leading zeros: 37 bytes when those counts agree.
	ones := 0
	for ones < len(s) && s[ones] == '1' {
		ones++
	}
	zeros := 0
	for zeros < rawBytes && b[zeros] == 0 {
		zeros++
	}
	if zeros != ones {
		return false
	}
	return checksum(b[:1+idBytes]) == [checkBytes]byte(b[1+idBytes:])
}

func checksum(b []byte) (c [checkBytes]byte) {
	h := sha256.Sum256(b)
	h = sha256.Sum256(h[:])
	copy(c[:], h[:])
	return c
}

// FormatID writes an ID with its version byte as NodeID.String does: the
// inverse of ValidID (tests and generated logs make valid IDs with it).
func FormatID(version byte, id [idBytes]byte) string {
	var b [rawBytes]byte
	b[0] = version
	copy(b[1:], id[:])
	c := checksum(b[:1+idBytes])
	copy(b[1+idBytes:], c[:])

	var out [2 * rawBytes]byte // base58 digits, little-endian while computed
	n := 0
	for _, x := range b {
		carry := int(x)
		for j := range n {
			carry += int(out[j]) << 8
			out[j] = byte(carry % 58)
			carry /= 58
		}
		for carry > 0 {
			out[n] = byte(carry % 58)
			carry /= 58
			n++
		}
	}
	s := make([]byte, 0, maxIDLength)
	for i := 0; i < rawBytes && b[i] == 0; i++ {
		s = append(s, '1')
	}
	for i := n - 1; i >= 0; i-- {
		s = append(s, alphabet[out[i]])
	}
	return string(s)
}

// The label values of satellites that keep no label of their own.
const (
	// Unknown: the line names no satellite.
	Unknown = "unknown"
	// Invalid: the text is not a node ID (ValidID).
	Invalid = "invalid"
	// Other: a valid ID that is no public satellite, beyond a node's
	// MaxOwnLabels.
	Other = "other"
)

// MaxOwnLabels is how many valid IDs that are no public satellite keep
// their own ID as label, per node; the next ones are Other.
const MaxOwnLabels = 16

// Labels chooses the satellite label values of one node, so that what a
// log or an API says makes a bounded number of them: a public satellite's
// name, the first MaxOwnLabels other valid IDs themselves, else Other,
// Invalid or Unknown. The zero value is ready; it is safe for concurrent
// use.
type Labels struct {
	mu  sync.Mutex
	own map[string]bool
}

// Label returns the label value of a satellite ID ("" when a line names
// none).
func (l *Labels) Label(id string) string {
	if n, ok := byID[id]; ok {
		return n
	}
	if id == "" {
		return Unknown
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.own[id]:
		return id
	case !ValidID(id):
		return Invalid
	case len(l.own) < MaxOwnLabels:
		if l.own == nil {
			l.own = make(map[string]bool, MaxOwnLabels)
		}
		l.own[id] = true
		return id
	}
	return Other
}

// byName holds the public satellites' names.
var byName = func() map[string]bool {
	m := make(map[string]bool, len(all))
	for _, s := range all {
		m[s.Name] = true
	}
	return m
}()

// LabelName is Label for a satellite given as Name gives it (a public
// satellite's name, else the ID itself), as report's counts and the sink's
// rows hold it: names and the fixed values Unknown, Invalid and Other stay,
// anything else is chosen by Label.
func (l *Labels) LabelName(name string) string {
	if byName[name] || name == Unknown || name == Invalid || name == Other {
		return name
	}
	return l.Label(name)
}

// Own reports whether a label value names one satellite: false for
// Unknown, Invalid and Other, which may stand for several. A gauge of one
// satellite (a score, the last duration of a run) is only set for these.
func Own(label string) bool {
	return label != Unknown && label != Invalid && label != Other
}
