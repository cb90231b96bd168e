package parser

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"
)

// The fields object is read by a small hand-written JSON scanner instead of
// encoding/json: a line's fields are validated in one pass, only the values of
// known keys are kept (as slices of the line), and nothing is allocated
// unless a kept string holds escapes.

// rawVal is one JSON value as it stands in the line.
type rawVal struct {
	b      []byte // for strings: the bytes between the quotes
	typ    byte   // 's' string, 'n' number, 't' true, 'f' false, 'z' null, 'o' object, 'a' array
	escape bool   // a string that holds backslash escapes
}

// str returns the decoded string value ("" for a non-string).
func (v rawVal) str() string {
	if v.typ != 's' {
		return ""
	}
	if !v.escape {
		return string(v.b)
	}
	return unescape(v.b)
}

// int returns a number (or a numeric string) as int64; integral floats are
// accepted.
func (v rawVal) int() (int64, bool) {
	if v.typ != 'n' {
		return 0, false
	}
	n, ok := atoi(v.b)
	if ok {
		return n, true
	}
	f, err := strconv.ParseFloat(string(v.b), 64)
	if err != nil || f != float64(int64(f)) {
		return 0, false
	}
	return int64(f), true
}

func (v rawVal) float() (float64, bool) {
	if v.typ != 'n' {
		return 0, false
	}
	if n, ok := atoi(v.b); ok {
		return float64(n), true
	}
	f, err := strconv.ParseFloat(string(v.b), 64)
	return f, err == nil
}

func (v rawVal) bool() bool { return v.typ == 't' }

// duration reads a Go duration string ("6h51m0.498s").
func (v rawVal) duration() (time.Duration, bool) {
	if v.typ != 's' || v.escape {
		return 0, false
	}
	d, err := time.ParseDuration(string(v.b))
	return d, err == nil
}

// atoi parses a plain decimal integer without allocating.
func atoi(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	neg := false
	if b[0] == '-' {
		neg = true
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// fields holds the values of known keys found in one object. Duplicate keys:
// the last one wins.
type fields struct {
	set [numFields]bool
	val [numFields]rawVal
	// header keys of a JSON-encoded line (L, T, N, M): first one wins.
	hdr    [4]rawVal
	hdrSet [4]bool

	time timeMemo // kept from line to line by a Parser
}

func (f *fields) has(id fieldID) bool { return f.set[id] }

func (f *fields) get(id fieldID) rawVal {
	if f.set[id] {
		return f.val[id]
	}
	return rawVal{}
}

// header returns a JSON-encoded line's header key (hdrL, hdrT, hdrN or
// hdrM), zero when the line has none.
func (f *fields) header(id fieldID) rawVal {
	if h := id - hdrL; f.hdrSet[h] {
		return f.hdr[h]
	}
	return rawVal{}
}

const maxDepth = 64

// scanner validates and reads one JSON object.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object reads an object at s.i. With out != nil the known keys are stored
// in out; headers selects whether the JSON-encoding keys L, T, N, M count.
func (s *scanner) object(out *fields, headers bool, depth int) bool {
	if depth > maxDepth || s.i >= len(s.b) || s.b[s.i] != '{' {
		return false
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return true
	}
	for {
		s.ws()
		key, kesc, ok := s.str()
		if !ok {
			return false
		}
		// zap writes `": "` between a key and its value: one test for the
		// three places white space may be.
		if s.i+2 < len(s.b) && s.b[s.i] == ':' && s.b[s.i+1] == ' ' && s.b[s.i+2] > ' ' {
			s.i += 2
		} else {
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return false
			}
			s.i++
			s.ws()
		}
		v, ok := s.value(depth)
		if !ok {
			return false
		}
		if out != nil {
			var id fieldID
			if kesc {
				id = fieldOf([]byte(unescape(key)))
			} else {
				id = fieldOf(key)
			}
			switch {
			case id == fNone:
			case id >= hdrL:
				if headers {
					h := id - hdrL
					if !out.hdrSet[h] {
						out.hdrSet[h] = true
						out.hdr[h] = v
					}
				}
			default:
				out.set[id] = true
				out.val[id] = v
			}
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			if s.i+1 < len(s.b) && s.b[s.i] == ' ' && s.b[s.i+1] == '"' { // zap's `, "`
				s.i++
			}
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// strTable marks the bytes that end a run of plain string content.
var strTable = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'] = true
	t['\\'] = true
	return t
}()

// Eight bytes at a time, plainRun skips the bytes of b[i:] that strTable
// does not mark and returns the index of the first marked one (or len(b)):
// a byte below 0x20, '"' or '\\'. A JSON string value of a log line is
// mostly long plain runs (piece and satellite IDs), so this is most of the
// scanning.
func plainRun(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q := x ^ ('"' * ones)
		bs := x ^ ('\\' * ones)
		// The lowest byte flagged by each term is exact: a byte below
		// 0x20, a byte equal to '"', a byte equal to '\\'. Bytes of 0x80
		// and above are never flagged (^x clears their top bit).
		m := ((x - 0x20*ones) & ^x) | ((q - ones) & ^q) | ((bs - ones) & ^bs)
		if m &= highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(b) && !strTable[b[i]] {
		i++
	}
	return i
}

// str reads a string at s.i and returns its raw content. The common string,
// without escapes, is read here (small enough to be inlined); strRest reads
// the others.
func (s *scanner) str() (raw []byte, escaped, ok bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, false
	}
	start := s.i + 1
	i := plainRun(s.b, start)
	if i < len(s.b) && s.b[i] == '"' {
		s.i = i + 1
		return s.b[start:i], false, true
	}
	return s.strRest(start, i)
}

// strRest goes on reading a string whose content starts at start from i,
// where plainRun stopped.
func (s *scanner) strRest(start, i int) (raw []byte, escaped, ok bool) {
	b := s.b
	for {
		if i >= len(b) {
			return nil, false, false
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return b[start:i], escaped, true
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return nil, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return nil, false, false
				}
				i += 6
			default:
				return nil, false, false
			}
		default: // a raw control character
			return nil, false, false
		}
		i = plainRun(b, i)
	}
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func (s *scanner) value(depth int) (rawVal, bool) {
	if s.i >= len(s.b) {
		return rawVal{}, false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		raw, esc, ok := s.str()
		return rawVal{b: raw, typ: 's', escape: esc}, ok
	case c == '{':
		start := s.i
		ok := s.object(nil, false, depth+1)
		return rawVal{b: s.b[start:s.i], typ: 'o'}, ok
	case c == '[':
		start := s.i
		ok := s.array(depth + 1)
		return rawVal{b: s.b[start:s.i], typ: 'a'}, ok
	case c == 't':
		return rawVal{typ: 't'}, s.lit("true")
	case c == 'f':
		return rawVal{typ: 'f'}, s.lit("false")
	case c == 'n':
		return rawVal{typ: 'z'}, s.lit("null")
	case c == '-' || '0' <= c && c <= '9':
		start := s.i
		ok := s.number()
		return rawVal{b: s.b[start:s.i], typ: 'n'}, ok
	}
	return rawVal{}, false
}

func (s *scanner) lit(word string) bool {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	return true
}

func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

// number follows JSON's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	if s.b[s.i] == '-' {
		s.i++
	}
	if s.i >= len(s.b) {
		return false
	}
	if s.b[s.i] == '0' {
		s.i++
	} else if !s.digits() {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

func (s *scanner) array(depth int) bool {
	if depth > maxDepth {
		return false
	}
	s.i++ // '['
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return true
	}
	for {
		s.ws()
		if _, ok := s.value(depth); !ok {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return true
		default:
			return false
		}
	}
}

// parseObject validates b as exactly one JSON object (surrounding white space
// allowed) and stores its known keys in out.
func parseObject(b []byte, out *fields, headers bool) bool {
	s := scanner{b: b}
	s.ws()
	if !s.object(out, headers, 0) {
		return false
	}
	s.ws()
	return s.i == len(b)
}

// unescape decodes the content of a JSON string that holds escapes. Invalid
// UTF-8 and lone surrogates become U+FFFD, as encoding/json does.
func unescape(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			out = append(out, c)
			continue
		}
		i++
		switch b[i] {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'u':
			if i+4 >= len(b) {
				out = append(out, b[i-1:]...)
				i = len(b)
				continue
			}
			r := hex4(b[i+1 : i+5])
			i += 4
			if r >= 0xD800 && r < 0xDC00 && i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
				r2 := hex4(b[i+3 : i+7])
				if r2 >= 0xDC00 && r2 < 0xE000 {
					r = (r-0xD800)<<10 + (r2 - 0xDC00) + 0x10000
					i += 6
				}
			}
			out = utf8.AppendRune(out, r)
		default: // \" \\ \/
			out = append(out, b[i])
		}
	}
	return string(out)
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}
