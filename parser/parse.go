package parser

import (
	"bytes"
	"errors"
	"net/netip"
	"unsafe"
)

// ErrBlank is returned for an empty line or one of only white space. It is
// not a syntax error: blank lines are counted as lines and nothing else.
var ErrBlank = errors.New("parser: blank line")

// Reason says why a line is not a storagenode log line.
type Reason uint8

// Reasons of a SyntaxError.
const (
	// ReasonHeader: no timestamp and level where a line must start.
	ReasonHeader Reason = iota + 1
	// ReasonColumns: more TAB columns than a line can have.
	ReasonColumns
	// ReasonFields: the fields object is not valid JSON.
	ReasonFields
	// ReasonJSON: a JSON-encoded line that is not valid or lacks L or M.
	ReasonJSON
	// ReasonForeign: a line another program wrote into the stream
	// (supervisord in the Docker image).
	ReasonForeign
	// ReasonTooLong: a line longer than its reader's limit (--max-line-length),
	// cut by the reader and never parsed. Parse does not return it; readers
	// count such a line with ErrTooLong.
	ReasonTooLong
)

var reasonNames = [...]string{"", "header", "columns", "fields", "json", "foreign", "too_long"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Reasons lists every Reason, for pre-creating counters.
var Reasons = []Reason{ReasonHeader, ReasonColumns, ReasonFields, ReasonJSON, ReasonForeign, ReasonTooLong}

// SyntaxError is returned for a non-blank line that is not a storagenode log
// line. Such a line is "unparsed": it counts as nothing else.
type SyntaxError struct{ Reason Reason }

func (e *SyntaxError) Error() string { return "parser: unparsed line (" + e.Reason.String() + ")" }

// The errors are shared values, so that returning one does not allocate.
var (
	errHeader  = &SyntaxError{ReasonHeader}
	errColumns = &SyntaxError{ReasonColumns}
	errFields  = &SyntaxError{ReasonFields}
	errJSON    = &SyntaxError{ReasonJSON}
	errForeign = &SyntaxError{ReasonForeign}
)

// ErrTooLong is what a reader counts a cut line with (a line longer than its
// limit) instead of parsing it.
var ErrTooLong error = &SyntaxError{ReasonTooLong}

// mode is how the columns of a console line are separated.
type mode uint8

const (
	modeTab mode = iota
	modeSpace
	modeJSON
)

// header is what was found at the start of a line.
type header struct {
	mode  mode
	ev    Event // Time, TZOffset, Level
	rest  int   // index of what follows the level and its separator
	start int   // index where the storagenode part begins
}

// maxPrefix is how far into a line a prefix may push the storagenode
// timestamp (docker -t, compose, syslog, grep -r file names).
const maxPrefix = 512

// Parse parses one line (with or without its trailing newline). It returns
// ErrBlank for a blank line, a *SyntaxError for anything that is not a
// storagenode log line, and otherwise the Event. It does no I/O, keeps no
// state, and the Event does not alias line.
func Parse(line []byte) (Event, error) {
	var p Parser
	return p.Parse(line)
}

// A Parser parses lines as Parse does, keeping its scratch space (the 1.8 KB
// of field values) from one line to the next. It is not safe for concurrent
// use; the zero value is ready.
type Parser struct {
	// CountOnly reads only what counting outcomes needs, for a reader that
	// does no more (report): Remote stays zero, and PieceID is set only on
	// the outcomes a Tracker pairs by it (rule 5). Reading the address and
	// copying the ID are a sixth of a transfer line's cost.
	CountOnly bool
	f         fields
}

// Parse is the package's Parse.
func (p *Parser) Parse(line []byte) (Event, error) {
	var ev Event
	if err := parse(line, &ev, &p.f, !p.CountOnly); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// parse reads line into ev; f is scratch space, which need not be zero.
func parse(line []byte, ev *Event, f *fields, full bool) error {
	line = trimEOL(line)
	if len(bytes.TrimSpace(line)) == 0 {
		return ErrBlank
	}
	if bytes.IndexByte(line, '\t') < 0 && bytes.Contains(line, rsyslogTab) {
		line = bytes.ReplaceAll(line, rsyslogTab, []byte{'\t'})
	}
	h, ok := findHeader(line, f)
	if !ok {
		if isSupervisord(line) {
			return errForeign
		}
		if t := bytes.TrimLeft(line, " \t"); len(t) > 0 && t[0] == '{' {
			return errJSON
		}
		return errHeader
	}
	*ev = h.ev
	var msg, logger []byte
	var fieldsCol []byte
	switch h.mode {
	case modeJSON:
		n, m := f.header(hdrN), f.header(hdrM)
		logger, msg = n.b, m.b
		if n.escape || m.escape {
			logger = []byte(n.str())
			msg = []byte(m.str())
		}
	case modeTab:
		rest := line[h.rest:]
		var cols [5][]byte
		n := 0
		for {
			i := bytes.IndexByte(rest, '\t')
			if i < 0 {
				cols[n] = rest
				n++
				break
			}
			if n == 3 { // logger, caller, message and a fourth TAB: too many
				return errColumns
			}
			cols[n] = rest[:i]
			n++
			rest = rest[i+1:]
		}
		if len(cols[n-1]) > 0 && cols[n-1][0] == '{' {
			fieldsCol = cols[n-1]
			n--
		}
		switch n {
		case 0:
			return errColumns // a fields object where the message must be
		case 1:
			msg = cols[0]
		case 2:
			logger, msg = cols[0], cols[1]
			if isCaller(logger) { // an unnamed logger's line with --log.caller
				logger = nil
			}
		case 3: // --log.caller adds the caller after the logger
			logger, msg = cols[0], cols[2]
		default:
			return errColumns
		}
	case modeSpace:
		rest := line[h.rest:]
		if i := bytes.Index(rest, []byte(`{"`)); i >= 0 {
			fieldsCol = rest[i:]
			rest = rest[:i]
		} else if i := bytes.Index(rest, []byte("{}")); i >= 0 && len(bytes.TrimSpace(rest[i+2:])) == 0 {
			fieldsCol = rest[i:]
			rest = rest[:i]
		}
		rest = bytes.TrimRight(rest, " ")
		tok := rest
		if i := bytes.IndexByte(rest, ' '); i >= 0 {
			tok = rest[:i]
		}
		if len(tok) < len(rest) && isLogger(tok) {
			logger = tok
			msg = bytes.TrimLeft(rest[len(tok):], " ")
		} else {
			msg = rest
		}
		// --log.caller puts the caller after the logger (or first, for an
		// unnamed logger); with TABs it is a column of its own.
		if i := bytes.IndexByte(msg, ' '); i > 0 && isCaller(msg[:i]) {
			msg = bytes.TrimLeft(msg[i:], " ")
		}
	}
	if h.mode != modeJSON {
		f.set = [numFields]bool{}
	}
	if fieldsCol != nil {
		if !parseObject(fieldsCol, f, false) {
			return errFields
		}
	}
	ev.Logger = internLogger(logger)
	var m msgID
	ev.Message, m = internMessage(msg, h.mode == modeSpace)
	classify(ev, f, m, full)
	return nil
}

var rsyslogTab = []byte("#011")

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// findHeader finds where the storagenode part of the line starts: at 0, or
// after a prefix. A candidate start is a timestamp or a '{' that follows a
// separator a prefix ends with.
func findHeader(line []byte, f *fields) (header, bool) {
	if h, ok := headerAt(line, 0, f); ok {
		return h, true
	}
	end := min(len(line), maxPrefix)
	for i := 1; i < end; i++ {
		c := line[i]
		if c != '{' && (c < '0' || c > '9') {
			continue
		}
		switch line[i-1] {
		case ' ', ':', '|', '\t', ']', '>':
		default:
			continue
		}
		if h, ok := headerAt(line, i, f); ok {
			return h, true
		}
	}
	return header{}, false
}

// headerAt tries to read a line header at line[i:].
func headerAt(line []byte, i int, f *fields) (header, bool) {
	b := line[i:]
	if len(b) == 0 {
		return header{}, false
	}
	h := header{start: i}
	if b[0] == '{' {
		f.set = [numFields]bool{}
		f.hdrSet = [4]bool{}
		if !parseObject(b, f, true) {
			return header{}, false
		}
		l, m := f.hdr[hdrL-hdrL], f.hdr[hdrM-hdrL]
		if !f.hdrSet[0] || !f.hdrSet[hdrM-hdrL] || l.typ != 's' || m.typ != 's' {
			return header{}, false
		}
		if h.ev.Level = parseLevel(l.b); h.ev.Level == LevelNone {
			return header{}, false
		}
		if t := f.hdr[hdrT-hdrL]; f.hdrSet[hdrT-hdrL] {
			if t.typ != 's' {
				return header{}, false
			}
			tm, off, n, ok := parseTime(t.b)
			if !ok || n != len(t.b) {
				return header{}, false
			}
			h.ev.Time, h.ev.TZOffset = tm, off
		}
		if n := f.hdr[hdrN-hdrL]; f.hdrSet[hdrN-hdrL] && n.typ != 's' {
			return header{}, false
		}
		h.mode = modeJSON
		return h, true
	}
	j := 0
	if tm, off, n, ok := f.time.parse(b); ok {
		h.ev.Time, h.ev.TZOffset = tm, off
		j = n
		if j >= len(b) {
			return header{}, false
		}
		switch b[j] {
		case '\t':
			h.mode = modeTab
			j++
		case ' ':
			h.mode = modeSpace
			for j < len(b) && b[j] == ' ' {
				j++
			}
		default:
			return header{}, false
		}
	} else if i != 0 {
		return header{}, false // STORJ_LOG_NOTIME lines have no prefix
	} else {
		h.mode = modeTab // no time column: the line starts with the level
	}
	k := j
	for k < len(b) && b[k] >= 'A' && b[k] <= 'Z' {
		k++
	}
	if h.ev.Level = parseLevel(b[j:k]); h.ev.Level == LevelNone {
		return header{}, false
	}
	switch {
	case k == len(b): // a level and nothing after it: a cut line
		return header{}, false
	case b[k] == '\t' && h.mode == modeTab:
		k++
	case b[k] == ' ' && h.mode == modeSpace:
		for k < len(b) && b[k] == ' ' {
			k++
		}
	default:
		return header{}, false
	}
	h.rest = i + k
	return h, true
}

// isCaller tells whether a column is zap's caller ("piecestore/endpoint.go:367"):
// a path ending in ".go:" and a line number, without spaces.
func isCaller(b []byte) bool {
	if len(b) == 0 || b[len(b)-1] < '0' || b[len(b)-1] > '9' {
		return false // a caller ends in its line number; a logger's name does not
	}
	i := bytes.LastIndex(b, []byte(".go:"))
	if i <= 0 || i+4 == len(b) || bytes.IndexByte(b, ' ') >= 0 {
		return false
	}
	for _, c := range b[i+4:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isSupervisord recognises supervisord's own lines in the Docker image's
// output: "2022-01-02 03:04:05,123 INFO spawned: 'storagenode' with pid 42".
func isSupervisord(b []byte) bool {
	if len(b) < 25 || b[4] != '-' || b[10] != ' ' || b[13] != ':' || b[19] != ',' || b[23] != ' ' {
		return false
	}
	rest := b[24:]
	for _, lv := range [...]string{"CRIT ", "ERRO ", "WARN ", "INFO ", "DEBG ", "TRAC ", "BLAT "} {
		if bytes.HasPrefix(rest, []byte(lv)) {
			return true
		}
	}
	return false
}

// isLogger tells whether the first word of a space-separated line is a
// logger name (docs/log-formats.md §2.7 and §6.1). Unnamed-logger messages
// start with a capital or a word that no logger is called.
func isLogger(tok []byte) bool {
	if _, ok := knownLoggers[string(tok)]; ok {
		return true
	}
	for _, p := range loggerPrefixes {
		if bytes.HasPrefix(tok, []byte(p)) {
			return true
		}
	}
	return false
}

var loggerPrefixes = []string{"lazyfilewalker", "orders.", "piecestore:", "piecestore.", "contact:",
	"reputation:", "version:", "pieces:", "preflight:", "console:", "piecemigrate:", "hashstore", "retain",
	"collector", "storagenode"}

var knownLoggers = func() map[string]string {
	m := map[string]string{}
	for _, l := range []string{"piecestore", "piecestore:monitor", "piecestore:cache", "hashstore",
		"piecemigrate:chore", "retain", "pieces", "filewalker", "pieces:trash", "collector", "orders",
		"ordersfilestore", "contact:service", "contact:chore", "contact:endpoint", "contact:amnesty",
		"reputation:service", "reputation:chore", "version", "version:chore", "trust",
		"preflight:localtime", "bandwidth", "console:service", "piecedeleter", "db", "blobscache",
		"lazyfilewalker", "lazyfilewalker.used-space-filewalker", "lazyfilewalker.gc-filewalker",
		"lazyfilewalker.trash-cleanup-filewalker", "lazyfilewalker.used-space-filewalker.subprocess",
		"lazyfilewalker.gc-filewalker.subprocess", "lazyfilewalker.trash-cleanup-filewalker.subprocess",
		"piecestore:endpoint", "server", "servers", "debug", "process", "gracefulexit:chore",
		"collector:service", "nodestats:cache", "payouts:service", "forgetsatellite:chore"} {
		m[l] = l
	}
	return m
}()

func internLogger(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if string(b) == "piecestore" { // most lines: no map lookup
		return "piecestore"
	}
	if s, ok := knownLoggers[string(b)]; ok {
		return s
	}
	return string(b)
}

// parseRemote reads "1.2.3.4:28967" or "[2001:db8::1]:28967" without
// allocating.
func parseRemote(v rawVal) netip.AddrPort {
	if v.typ != 's' || v.escape {
		return netip.AddrPort{}
	}
	if ap, ok := parseIPv4Port(v.b); ok {
		return ap
	}
	ap, err := netip.ParseAddrPort(unsafeString(v.b))
	if err != nil {
		return netip.AddrPort{}
	}
	return ap
}

// parseIPv4Port reads the common "1.2.3.4:28967" in one pass. It accepts
// only what netip.ParseAddrPort reads as the same address and port (octets
// without leading zeros, a port without one), and says false for anything
// else, which parseRemote then hands to netip.
func parseIPv4Port(b []byte) (netip.AddrPort, bool) {
	var ip [4]byte
	i := 0
	for k := range 4 {
		start, n := i, 0
		for i < len(b) && i-start < 3 && '0' <= b[i] && b[i] <= '9' {
			n = n*10 + int(b[i]-'0')
			i++
		}
		if i == start || n > 255 || b[start] == '0' && i-start > 1 || i >= len(b) {
			return netip.AddrPort{}, false
		}
		want := byte('.')
		if k == 3 {
			want = ':'
		}
		if b[i] != want {
			return netip.AddrPort{}, false
		}
		ip[k] = byte(n)
		i++
	}
	port := b[i:]
	if len(port) == 0 || len(port) > 5 || port[0] == '0' && len(port) > 1 {
		return netip.AddrPort{}, false
	}
	p := 0
	for _, c := range port {
		if c < '0' || c > '9' {
			return netip.AddrPort{}, false
		}
		p = p*10 + int(c-'0')
	}
	if p > 65535 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(netip.AddrFrom4(ip), uint16(p)), true
}

// unsafeString views b as a string for a call that does not keep it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
