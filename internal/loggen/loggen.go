// Package loggen generates a realistic Storj storage node log (console
// encoding, the current or the v1.142 field spelling). bench/genlog writes a
// deterministic log of a given length with it, for benchmarks and end-to-end
// tests; the demo (package demo) drives it live, with the wall clock, DEBUG
// `started` lines and the outcomes at the end of each transfer.
//
// The same seed, format and start always produce byte-identical output: the
// generator uses its own splitmix64 random source, not math/rand.
//
// Line shapes follow docs/log-formats.md, which the section numbers in this
// package refer to: TAB-separated columns (§2.1), a single-line JSON fields
// object with ": " and ", " separators (§2.2), RFC 3339 whole-second
// timestamps (§2.3), piecestore context fields in the order the node writes
// them (§3.1) and the messages of §3.2.
package loggen

import (
	"encoding/base32"
	"io"
	"math"
	"strconv"
	"time"

	sats "github.com/storagenode-exporter/storagenode-exporter/internal/satellites"
)

// ---------------------------------------------------------------------------
// Random source: splitmix64, so the output never depends on the Go version.

type rng struct{ s uint64 }

func (r *rng) u64() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// intn returns a value in [0, n) for n > 0.
func (r *rng) intn(n int) int { return int(r.intn64(int64(n))) }

// intn64 is intn for values beyond 32 bits (int has 32 on arm and 386).
func (r *rng) intn64(n int64) int64 {
	if n < 1<<32 {
		return int64(((r.u64() >> 32) * uint64(n)) >> 32)
	}
	return int64(r.u64() % uint64(n))
}

// rangeInt returns a value in [lo, hi].
func (r *rng) rangeInt(lo, hi int) int { return int(r.rangeInt64(int64(lo), int64(hi))) }

// rangeInt64 is rangeInt for values beyond 32 bits.
func (r *rng) rangeInt64(lo, hi int64) int64 { return lo + r.intn64(hi-lo+1) }

func (r *rng) float() float64 { return float64(r.u64()>>11) / (1 << 53) }

func (r *rng) chance(p float64) bool { return r.float() < p }

// weighted picks an index with probability proportional to its weight.
type weighted struct {
	cum   []int
	total int
}

func newWeighted(w ...int) weighted {
	t := weighted{cum: make([]int, len(w))}
	for i, v := range w {
		t.total += v
		t.cum[i] = t.total
	}
	return t
}

func (t weighted) pick(r *rng) int {
	x := r.intn(t.total)
	for i, c := range t.cum {
		if x < c {
			return i
		}
	}
	return len(t.cum) - 1
}

// ---------------------------------------------------------------------------
// Static data.

// satellites are the IDs of the active satellites (us1, eu1, ap1, saltlake,
// in the order of satWeights), from the one table of internal/satellites.
var satellites = func() [4]string {
	var ids [4]string
	active := sats.Active()
	if len(active) != len(ids) {
		panic("loggen: the traffic shares are for 4 active satellites")
	}
	for i, s := range active {
		ids[i] = s.ID
	}
	return ids
}()

// Share of transfer traffic per satellite (us1, eu1, ap1, saltlake).
var satWeights = newWeighted(40, 22, 10, 28)

const (
	actPUT = iota
	actPUTRepair
	actGET
	actGETAudit
	actGETRepair
	numActions
)

var actionNames = [numActions]string{"PUT", "PUT_REPAIR", "GET", "GET_AUDIT", "GET_REPAIR"}

// GET 40 %, PUT 35 %, GET_AUDIT 8 %, GET_REPAIR 7 %, PUT_REPAIR 5 %.
var actionWeights = newWeighted(35, 5, 40, 8, 7)

// Outcome probabilities (per mille) per action: success, canceled, failed.
var outcomeWeights = [numActions]weighted{
	actPUT:       newWeighted(880, 90, 30),
	actPUTRepair: newWeighted(930, 50, 20),
	actGET:       newWeighted(925, 65, 10),
	actGETAudit:  newWeighted(985, 10, 5),
	actGETRepair: newWeighted(900, 80, 20),
}

const (
	outSuccess = iota
	outCanceled
	outFailed
)

// maxPiece is the largest piece of a 64 MiB segment (29 required shares),
// a multiple of the 256-byte stripe alignment.
const maxPiece = 2319360

const nodeLocal4 = "172.17.0.2:28967"
const nodeLocal6 = "[2a01:4f8:1c1b:5e3d::2]:28967"

// errorVerbose call traces (the escapes are part of the JSON string).
const (
	stackDeadline       = `\n\tstorj.io/common/rpc/rpcstatus.NamedWrap:106\n\tstorj.io/storj/storagenode/piecestore.(*Endpoint).Upload:512\n\tstorj.io/common/pb.DRPCPiecestoreDescription.Method.func1:294\n\tstorj.io/drpc/drpcmux.(*Mux).HandleRPC:33\n\tstorj.io/common/rpc/rpctracing.(*Handler).HandleRPC:62\n\tstorj.io/common/experiment.(*Handler).HandleRPC:43\n\tstorj.io/drpc/drpcserver.(*Server).handleRPC:166\n\tstorj.io/drpc/drpcserver.(*Server).ServeOne:108\n\tstorj.io/drpc/drpcserver.(*Server).Serve.func2:156\n\tstorj.io/drpc/drpcctx.(*Tracker).track:35`
	stackManagerRead    = `\n\tgithub.com/jtolio/noiseconn.(*Conn).readMsg:211\n\tgithub.com/jtolio/noiseconn.(*Conn).Read:171\n\tstorj.io/drpc/drpcwire.(*Reader).read:68\n\tstorj.io/drpc/drpcwire.(*Reader).ReadPacketUsing:113\n\tstorj.io/drpc/drpcmanager.(*Manager).manageReader:230`
	stackManagerTimeout = `\n\tstorj.io/drpc/drpcmanager.(*Manager).manageReader:235`
	stackBrokenPipe     = `\n\tstorj.io/drpc/drpcstream.(*Stream).rawFlushLocked:428\n\tstorj.io/drpc/drpcstream.(*Stream).MsgSend:489\n\tstorj.io/common/pb.(*drpcPiecestore_DownloadStream).Send:416\n\tstorj.io/storj/storagenode/piecestore.(*Endpoint).sendData.func1:879\n\tstorj.io/storj/storagenode/piecestore.withTimeout[...]:1157\n\tstorj.io/storj/storagenode/piecestore.(*Endpoint).sendData:877\n\tstorj.io/storj/storagenode/piecestore.(*Endpoint).Download.func7:772\n\tgolang.org/x/sync/errgroup.(*Group).add.func1:130`
	stackNotExist       = `\n\tstorj.io/common/rpc/rpcstatus.Wrap:75\n\tstorj.io/storj/storagenode/piecestore.(*Endpoint).Download.func6:686\n\tstorj.io/storj/storagenode/piecestore.(*Endpoint).Download:704\n\tstorj.io/common/pb.DRPCPiecestoreDescription.Method.func2:302\n\tstorj.io/drpc/drpcmux.(*Mux).HandleRPC:33\n\tstorj.io/common/rpc/rpctracing.(*Handler).HandleRPC:62\n\tstorj.io/common/experiment.(*Handler).HandleRPC:43\n\tstorj.io/drpc/drpcserver.(*Server).handleRPC:166\n\tstorj.io/drpc/drpcserver.(*Server).ServeOne:108\n\tstorj.io/drpc/drpcserver.(*Server).Serve.func2:156\n\tstorj.io/drpc/drpcctx.(*Tracker).track:35`
	stackPing           = `\n\tstorj.io/storj/storagenode/contact.(*Service).pingSatelliteOnce:213\n\tstorj.io/storj/storagenode/contact.(*Service).pingSatellite:157\n\tstorj.io/storj/storagenode/contact.(*Chore).updateCycles.func1:87\n\tstorj.io/common/sync2.(*Cycle).Run:102\n\tstorj.io/common/sync2.(*Cycle).Start.func1:77\n\tgolang.org/x/sync/errgroup.(*Group).Go.func1:78`
)

// Fixed remote-address pools; each entry is an IP without port.
var (
	gatewayIPs = []string{
		"79.127.205.226", "79.127.205.227", "79.127.219.33", "79.127.219.34", "79.127.219.35",
		"79.127.219.42", "79.127.219.44", "79.127.226.97", "79.127.226.103", "79.127.226.106",
		"109.61.92.70", "109.61.92.79", "109.61.92.81", "156.146.43.230", "156.146.43.231",
		"207.211.208.129", "207.211.208.134", "185.101.96.18", "185.101.96.23", "195.201.112.9",
	}
	auditIPs = [4][]string{
		{"34.4.34.124", "34.4.34.125", "35.215.106.201"},
		{"34.159.134.91", "35.207.121.88", "35.207.94.155"},
		{"34.124.189.53", "35.213.135.239", "34.124.189.54"},
		{"35.215.108.32", "35.215.108.33", "34.173.220.62"},
	}
	repairIPs = []string{
		"66.23.193.251", "45.137.206.13", "45.137.206.42", "45.137.206.48", "45.137.206.68",
		"45.137.206.101", "95.216.191.15", "37.27.201.48", "65.108.143.76", "135.181.40.199",
	}
	ipv6Prefixes = []string{"2a01:4f8", "2a02:8108", "2a05:d014", "2001:41d0", "2600:1f18", "2604:a880", "2a0e:97c0", "2003:e3"}
)

// Download-canceled reasons other than the size mismatch (§3.2).
var (
	cancelReasons       = []string{"context canceled", "stream closed by peer", "unknown reason bug in code, please report"}
	cancelReasonWeights = newWeighted(60, 20, 20)
)

// Garbage lines: neither TAB-separated nor "time LEVEL message" with spaces,
// so a parser following §6.1 counts them as unparsable (§6.5).
var garbage = []string{
	"root@storagenode:~# docker logs --tail 50 storagenode",
	"^C",
	"tail: '/app/config/node.log' has been replaced;  following new file",
	"Error response from daemon: No such container: storagenode2",
}

// ---------------------------------------------------------------------------
// Output formats.

// Format is a spelling of the field keys: Current or V142.
type Format struct {
	current bool // v1.146+ snake_case keys; else v1.142 spelling
	// Hot-path keys.
	process, pieceID, satelliteID, action, remoteAddress, size, offset string
	// Version of the binaries (updater lines).
	version string
}

// The formats.
var (
	// Current is the v1.146+ snake_case spelling ("piece_id", "process").
	Current = &Format{
		current: true, process: "process", pieceID: "piece_id", satelliteID: "satellite_id",
		action: "action", remoteAddress: "remote_address", size: "size", offset: "offset",
		version: "v1.148.3",
	}
	// V142 is the spelling of v1.145 and before ("Piece ID", "Process").
	V142 = &Format{
		current: false, process: "Process", pieceID: "Piece ID", satelliteID: "Satellite ID",
		action: "Action", remoteAddress: "Remote Address", size: "Size", offset: "Offset",
		version: "v1.142.7",
	}
)

// FormatByName returns the format called name: "current" or "v142".
func FormatByName(name string) (*Format, bool) {
	switch name {
	case "current":
		return Current, true
	case "v142":
		return V142, true
	}
	return nil, false
}

// k returns the key spelling of this format: old (v1.145 and before) or new.
func (f *Format) k(old, new string) string {
	if f.current {
		return new
	}
	return old
}

// ---------------------------------------------------------------------------
// Expected report.

// Outcome counts the outcomes of one action, as the report counts them.
type Outcome struct {
	Success      int64 `json:"success"`
	Canceled     int64 `json:"canceled"`
	Failed       int64 `json:"failed"`
	SuccessBytes int64 `json:"success_bytes"`
}

// Expectation is what a correct parser reports for the lines written, in
// the shape of `storagenode-exporter report --format json` (those keys only).
type Expectation struct {
	Lines           int64               `json:"lines"`
	Unparsed        int64               `json:"unparsed"`
	UploadsRejected int64               `json:"uploads_rejected"`
	Transfers       map[string]*Outcome `json:"transfers"`
}

// ---------------------------------------------------------------------------
// Generator.

// Generator writes log lines. It is not safe for concurrent use.
type Generator struct {
	// StartedShare is the share of transfers (0 to 1) for which WriteLog
	// also writes the DEBUG `started` line, a few transfers before the
	// outcome, as a node logging at DEBUG does: about 1/(1+StartedShare)
	// of the lines are then outcomes. 0, the default, writes none.
	StartedShare float64
	inflight     []*Transfer // started, not yet finished

	r   rng
	f   *Format
	out []byte // lines written and not yet handed out
	b   []byte // the line being built
	max int64  // lines to write

	t     int64  // current time, Unix seconds
	live  bool   // the clock is set by SetClock: tick leaves it alone
	tsFor int64  // second that ts holds
	ts    []byte // formatted timestamp

	nodeIP   string // the node's public IPv4 (ping errors)
	exp      Expectation
	outcomes [numActions]*Outcome
	pid      [32]byte
	pidText  [52]byte
	plan     transferPlan // the batch mode's transfer, reused

	// Slowly changing node state for the periodic lines.
	audits      [4]int64
	auditsOK    [4]int64
	onlineScore [4]float64
	hsLogs      [4][2]int
	hsRecords   [4][2]int64
	available   int64 // free space announced by `upload started`
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// New returns a generator whose clock starts at start (whole seconds). f nil
// means Current.
func New(f *Format, seed uint64, start time.Time) *Generator {
	if f == nil {
		f = Current
	}
	g := &Generator{
		r:   rng{s: seed*0x2545F4914F6CDD1D + 0x1234567},
		f:   f,
		b:   make([]byte, 0, 4096),
		max: math.MaxInt64,
		t:   start.Unix(),
	}
	g.tsFor = -1
	g.exp.Transfers = make(map[string]*Outcome, numActions)
	for i := range g.outcomes {
		g.outcomes[i] = &Outcome{}
		g.exp.Transfers[actionNames[i]] = g.outcomes[i]
	}
	g.nodeIP = string(g.appendPublicIPv4(nil))
	for s := range 4 {
		g.audits[s] = int64(g.r.rangeInt(3000, 4500000))
		g.auditsOK[s] = g.audits[s] - int64(g.r.intn(int(g.audits[s]/200)+1))
		g.onlineScore[s] = 0.98 + 0.02*g.r.float()
		for st := range 2 {
			g.hsLogs[s][st] = g.r.rangeInt(10, 6000)
			g.hsRecords[s][st] = int64(g.r.rangeInt(1500, 30000000))
		}
	}
	g.available = 1365782446080
	return g
}

// Expectation returns the counts of everything written so far.
func (g *Generator) Expectation() *Expectation { return &g.exp }

// WriteLog writes n more lines to w: about 97 % transfer outcomes (fewer
// with StartedShare), the rest the node's other lines (see the package
// bench/genlog), with the clock advancing about one second per 20 lines.
func (g *Generator) WriteLog(w io.Writer, n int64) error {
	g.max = g.exp.Lines + n
	defer func() { g.max = math.MaxInt64 }()
	for !g.done() {
		switch x := g.r.float(); {
		case x < 0.00001:
			g.garbage()
		case x < 0.0103:
			g.other()
		case g.StartedShare > 0:
			g.startedTransfer()
		default:
			g.transfer()
		}
		g.tick()
		if len(g.out) >= 1<<20 {
			if _, err := w.Write(g.out); err != nil {
				return err
			}
			g.out = g.out[:0]
		}
	}
	_, err := w.Write(g.out)
	g.out = g.out[:0]
	return err
}

func (g *Generator) done() bool { return g.exp.Lines >= g.max }

// begin starts a line: timestamp, level, optional logger, message. It returns
// false when the requested number of lines has been written.
func (g *Generator) begin(level, logger, msg string) bool {
	if g.done() {
		return false
	}
	if g.tsFor != g.t {
		g.ts = time.Unix(g.t, 0).UTC().AppendFormat(g.ts[:0], time.RFC3339)
		g.tsFor = g.t
	}
	b := append(g.b[:0], g.ts...)
	b = append(b, '\t')
	b = append(b, level...)
	b = append(b, '\t')
	if logger != "" {
		b = append(b, logger...)
		b = append(b, '\t')
	}
	b = append(b, msg...)
	g.b = b
	return true
}

// fields opens the fields object with the process field.
func (g *Generator) fields(process string) {
	g.b = append(g.b, "\t{\""...)
	g.b = append(g.b, g.f.process...)
	g.b = append(g.b, "\": \""...)
	g.b = append(g.b, process...)
	g.b = append(g.b, '"')
}

func (g *Generator) str(key, val string) {
	b := append(g.b, ", \""...)
	b = append(b, key...)
	b = append(b, "\": \""...)
	b = append(b, val...)
	g.b = append(b, '"')
}

func (g *Generator) strBytes(key string, val []byte) {
	b := append(g.b, ", \""...)
	b = append(b, key...)
	b = append(b, "\": \""...)
	b = append(b, val...)
	g.b = append(b, '"')
}

func (g *Generator) num(key string, v int64) {
	b := append(g.b, ", \""...)
	b = append(b, key...)
	b = append(b, "\": "...)
	g.b = strconv.AppendInt(b, v, 10)
}

func (g *Generator) float(key string, v float64) {
	b := append(g.b, ", \""...)
	b = append(b, key...)
	b = append(b, "\": "...)
	g.b = strconv.AppendFloat(b, v, 'f', -1, 64)
}

func (g *Generator) boolean(key string, v bool) {
	b := append(g.b, ", \""...)
	b = append(b, key...)
	b = append(b, "\": "...)
	g.b = strconv.AppendBool(b, v)
}

func (g *Generator) raw(key string, v []byte) {
	b := append(g.b, ", \""...)
	b = append(b, key...)
	b = append(b, "\": "...)
	g.b = append(b, v...)
}

// end closes the fields object (if any), writes the line and counts it.
func (g *Generator) end(withFields bool) {
	if withFields {
		g.b = append(g.b, '}')
	}
	g.b = append(g.b, '\n')
	g.out = append(g.out, g.b...)
	g.exp.Lines++
}

// tick advances the clock: about 20 lines per second on average.
func (g *Generator) tick() {
	if g.live {
		return
	}
	for g.r.chance(0.05) {
		g.t++
	}
}

func (g *Generator) sat() int { return satWeights.pick(&g.r) }

func (g *Generator) newPieceID() []byte {
	for i := 0; i < 32; i += 8 {
		v := g.r.u64()
		for j := range 8 {
			g.pid[i+j] = byte(v >> (8 * j))
		}
	}
	b32.Encode(g.pidText[:], g.pid[:])
	return g.pidText[:]
}

// pieceSize returns a piece size in [256, maxPiece], a multiple of 256:
// log-uniform, with a peak at the full piece size.
func (g *Generator) pieceSize() int64 {
	if g.r.chance(0.12) {
		return maxPiece
	}
	x := 256 * math.Exp(g.r.float()*math.Log(maxPiece/256.0))
	s := int64(x) / 256 * 256
	if s < 256 {
		s = 256
	}
	return s
}

func isReserved(a, b byte) bool {
	switch {
	case a == 0 || a == 10 || a == 127 || a >= 224:
		return true
	case a == 100 && b >= 64 && b < 128:
		return true
	case a == 169 && b == 254, a == 172 && b >= 16 && b < 32, a == 192 && b == 168:
		return true
	case a == 198 && (b == 18 || b == 19), a == 192 && b == 0, a == 203 && b == 0:
		return true
	}
	return false
}

func (g *Generator) appendPublicIPv4(b []byte) []byte {
	for {
		v := g.r.u64()
		a, c := byte(v), byte(v>>8)
		if isReserved(a, c) {
			continue
		}
		b = strconv.AppendInt(b, int64(a), 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(c), 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(byte(v>>16)), 10)
		b = append(b, '.')
		return strconv.AppendInt(b, int64(1+byte(v>>24)%254), 10)
	}
}

func (g *Generator) port(b []byte) []byte {
	b = append(b, ':')
	return strconv.AppendInt(b, int64(g.r.rangeInt(1024, 65535)), 10)
}

// remote builds a remote address for the action into dst. It reports whether
// the address is IPv6.
func (g *Generator) remote(dst []byte, act, sat int) ([]byte, bool) {
	dst = dst[:0]
	x := g.r.intn(1000)
	if x < 30 && act != actGETAudit { // ~3 % IPv6
		dst = append(dst, '[')
		dst = append(dst, ipv6Prefixes[g.r.intn(len(ipv6Prefixes))]...)
		for range 2 {
			dst = append(dst, ':')
			dst = strconv.AppendUint(dst, uint64(g.r.intn(0x10000)), 16)
		}
		dst = append(dst, "::"...)
		dst = strconv.AppendUint(dst, uint64(1+g.r.intn(0xfff)), 16)
		dst = append(dst, ']')
		return g.port(dst), true
	}
	switch act {
	case actGETAudit:
		pool := auditIPs[sat]
		dst = append(dst, pool[g.r.intn(len(pool))]...)
	case actGETRepair, actPUTRepair:
		if x < 700 {
			dst = append(dst, repairIPs[g.r.intn(len(repairIPs))]...)
		} else {
			dst = g.appendPublicIPv4(dst)
		}
	default:
		if x < 550 {
			dst = append(dst, gatewayIPs[g.r.intn(len(gatewayIPs))]...)
		} else {
			dst = g.appendPublicIPv4(dst)
		}
	}
	return g.port(dst), false
}

// connErr appends "<op> tcp LOCAL->REMOTE: <op>: <what>" to dst.
func connErr(dst []byte, prefix, op string, v6 bool, remote []byte, what string) []byte {
	dst = append(dst, prefix...)
	dst = append(dst, op...)
	dst = append(dst, " tcp "...)
	if v6 {
		dst = append(dst, nodeLocal6...)
	} else {
		dst = append(dst, nodeLocal4...)
	}
	dst = append(dst, "->"...)
	dst = append(dst, remote...)
	dst = append(dst, ": "...)
	dst = append(dst, op...)
	dst = append(dst, ": "...)
	return append(dst, what...)
}

// transferPlan is one transfer, drawn before any of its lines is written.
// Its slices point into its own arrays: use it by pointer, never copy it.
type transferPlan struct {
	act, sat, res int
	v6            bool
	offset, size  int64 // size: what the outcome line says
	reqSize       int64 // download: the requested size (started line)
	level, msg    string
	internalErr   bool // an `upload internal error` line follows
	trashFirst    bool // a `file found in trash` line comes first

	pid                      []byte
	addr, errText, verbose   []byte
	reason                   []byte
	pidBuf                   [52]byte
	addrBuf, errBuf, verbBuf [160]byte
	reasonBuf                [128]byte
}

func (p *transferPlan) upload() bool { return p.act == actPUT || p.act == actPUTRepair }

// transfer writes one piecestore transfer outcome line (sometimes preceded by
// `file found in trash` or followed by `upload internal error`).
func (g *Generator) transfer() {
	g.planTransfer(&g.plan)
	g.finish(&g.plan)
}

// inflightMax is how many started transfers WriteLog keeps open: each
// outcome comes this many started transfers after its started line.
const inflightMax = 8

// startedTransfer draws a transfer and, with the chance StartedShare,
// writes its started line and keeps it open; else it writes its outcome at
// once. It finishes the oldest open transfer when there are too many.
func (g *Generator) startedTransfer() {
	t := g.NewTransfer()
	if !g.r.chance(g.StartedShare) {
		g.Finish(t)
		return
	}
	g.Start(t)
	g.inflight = append(g.inflight, t)
	if len(g.inflight) > inflightMax {
		g.Finish(g.inflight[0])
		g.inflight = append(g.inflight[:0], g.inflight[1:]...)
	}
}

// planTransfer draws a transfer: action, satellite, outcome, piece, peer,
// sizes and the outcome line's level, message and error.
func (g *Generator) planTransfer(p *transferPlan) {
	act := actionWeights.pick(&g.r)
	sat := g.sat()
	res := outcomeWeights[act].pick(&g.r)
	p.pid = append(p.pidBuf[:0], g.newPieceID()...)
	addr, v6 := g.remote(p.addrBuf[:0], act, sat)
	f := g.f
	upload := act == actPUT || act == actPUTRepair

	var offset, size int64
	piece := g.pieceSize()
	if upload {
		size = piece
	} else {
		switch act {
		case actGETAudit:
			offset = int64(g.r.intn(maxPiece/256)) * 256
			size = 256
		case actGET:
			size = piece
			if g.r.chance(0.2) { // range request
				offset = int64(g.r.intn(int(piece/256))) * 256
				size = piece - offset
				if size > 256 && g.r.chance(0.5) {
					size = int64(1+g.r.intn(int(size/256))) * 256
				}
			}
		default:
			size = piece
		}
	}
	reqSize := size

	level, msg := "INFO", ""
	var errText, verbose []byte
	var reason []byte
	internalErr := false
	errBuf, verbBuf := p.errBuf[:0], p.verbBuf[:0]
	switch {
	case upload && res == outSuccess:
		msg = "uploaded"
	case upload && res == outCanceled:
		msg = "upload canceled"
		size = int64(g.r.intn(int(piece/256)+1)) * 256
	case upload: // failed
		msg = "upload failed"
		size = int64(g.r.intn(int(piece/32768)+1)) * 32768
		if g.r.chance(0.55) { // client disconnect: WARN since v1.147
			if f.current {
				level = "WARN"
			} else {
				level = "ERROR"
			}
			if g.r.chance(0.6) {
				errText = connErr(errBuf, "", "write", v6, addr, "broken pipe")
			} else {
				errText = connErr(errBuf, "", "read", v6, addr, "connection reset by peer")
			}
		} else {
			level = "ERROR"
			if g.r.chance(0.45) {
				errText = append(errBuf, "context deadline exceeded"...)
				verbose = append(append(verbBuf, errText...), stackDeadline...)
			} else {
				errText = connErr(errBuf, "manager closed: ", "read", v6, addr, "operation timed out")
				verbose = append(append(verbBuf, errText...), stackManagerRead...)
			}
			internalErr = g.r.chance(0.3)
		}
	case res == outSuccess:
		msg = "downloaded"
	case res == outCanceled:
		raceP := 0.04
		if act == actGETRepair {
			raceP = 0.15
		}
		if g.r.chance(raceP) {
			msg = "download canceled (race lost or node shutdown)"
			break
		}
		msg = "download canceled"
		reason = p.reasonBuf[:0]
		if g.r.chance(0.45) {
			var sent int64
			if size > 32768 && g.r.chance(0.6) {
				sent = int64(g.r.intn(int(size/32768))) * 32768
			}
			reason = append(reason, "downloaded size ("...)
			reason = strconv.AppendInt(reason, sent, 10)
			reason = append(reason, " bytes) does not match received message size ("...)
			reason = strconv.AppendInt(reason, size, 10)
			reason = append(reason, " bytes)"...)
		} else {
			reason = append(reason, cancelReasons[cancelReasonWeights.pick(&g.r)]...)
		}
	default: // download failed
		msg = "download failed"
		level = "ERROR"
		notExist := 0.08
		if act == actGETAudit {
			notExist = 0.45
		}
		switch x := g.r.float(); {
		case g.r.chance(notExist):
			errText = append(errBuf, "file does not exist"...)
			verbose = append(append(verbBuf, errText...), stackNotExist...)
		case x < 0.4:
			errText = connErr(errBuf, "manager closed: ", "read", v6, addr, "connection refused")
			verbose = append(append(verbBuf, errText...), stackManagerRead...)
		case x < 0.7:
			errText = connErr(errBuf, "", "write", v6, addr, "broken pipe")
			verbose = append(append(verbBuf, errText...), stackBrokenPipe...)
		default:
			errText = connErr(errBuf, "manager closed: ", "read", v6, addr, "operation timed out")
			verbose = append(append(verbBuf, errText...), stackManagerTimeout...)
		}
	}

	// Rarely a download is served from the trash first (WARN, not an outcome).
	trashFirst := !upload && res == outSuccess && g.r.chance(0.0005)

	p.act, p.sat, p.res, p.v6 = act, sat, res, v6
	p.offset, p.size, p.reqSize = offset, size, reqSize
	p.level, p.msg = level, msg
	p.addr, p.errText, p.verbose, p.reason = addr, errText, verbose, reason
	p.internalErr, p.trashFirst = internalErr, trashFirst
}

// finish writes the lines that end a planned transfer and counts its outcome.
func (g *Generator) finish(p *transferPlan) {
	upload := p.upload()
	if p.trashFirst {
		if !g.begin("WARN", "piecestore", "file found in trash") {
			return
		}
		g.pieceFields(p.pid, p.sat, p.act, p.offset, p.size, p.addr, false)
		g.end(true)
	}

	if !g.begin(p.level, "piecestore", p.msg) {
		return
	}
	g.pieceFields(p.pid, p.sat, p.act, p.offset, p.size, p.addr, upload)
	if p.reason != nil {
		g.strBytes("reason", p.reason)
	}
	if p.errText != nil {
		g.strBytes("error", p.errText)
		if p.verbose != nil {
			g.strBytes("errorVerbose", p.verbose)
		}
	}
	g.end(true)

	o := g.outcomes[p.act]
	switch p.res {
	case outSuccess:
		o.Success++
		o.SuccessBytes += p.size
		if upload {
			g.available = max(g.available-p.size, 0)
		}
	case outCanceled:
		o.Canceled++
	default:
		o.Failed++
	}

	if p.internalErr && g.begin("ERROR", "piecestore", "upload internal error") {
		g.fields("storagenode")
		g.strBytes("error", p.errText)
		g.strBytes("errorVerbose", p.verbose)
		g.end(true)
	}
}

// pieceFields writes the process field and the transfer context fields in the
// node's order (§3.1), plus size for uploads (a call field there).
func (g *Generator) pieceFields(pid []byte, sat, act int, offset, size int64, addr []byte, upload bool) {
	f := g.f
	g.fields("storagenode")
	g.strBytes(f.pieceID, pid)
	g.str(f.satelliteID, satellites[sat])
	g.str(f.action, actionNames[act])
	if upload {
		g.strBytes(f.remoteAddress, addr)
		g.num(f.size, size)
		return
	}
	g.num(f.offset, offset)
	g.num(f.size, size)
	g.strBytes(f.remoteAddress, addr)
}

// ---------------------------------------------------------------------------
// Other lines (about 3 % of the log).

// Event is a kind of the node's lines other than transfers: one Event call
// writes one group of lines (a whole compaction run, a retain run, ...).
type Event int

// The events. WriteLog picks the first eleven (Rejected to Bandwidth) at
// random; the filewalkers come only from Event calls.
const (
	Rejected      Event = iota // 1-4 `upload rejected, too many requests`
	InternalError              // `upload internal error`
	Ping                       // 1-3 `ping satellite failed `
	Orders                     // `finished` sending orders, per satellite
	Hashstore                  // a hashstore compaction run
	Reputation                 // `node scores updated` (or `worsened`) per satellite
	Updater                    // a storagenode-updater check
	Collector                  // an expired-pieces collection
	Retain                     // a garbage-collection (retain) run
	Trash                      // emptying a satellite's trash
	Bandwidth                  // `Persisting bandwidth usage cache to db`
	UsedSpaceWalk              // a lazy used-space filewalker run
	GCWalk                     // a lazy gc-filewalker run
	TrashWalk                  // a lazy trash-cleanup filewalker run
	NumEvents
)

var eventWeights = newWeighted(22, 6, 8, 14, 8, 5, 5, 8, 3, 5, 8)

func (g *Generator) other() { g.Event(Event(eventWeights.pick(&g.r))) }

// Event writes the lines of one event, at the clock's time.
func (g *Generator) Event(ev Event) {
	f := g.f
	switch ev {
	case Rejected:
		limit := int64(40)
		for i := g.r.rangeInt(1, 4); i > 0; i-- {
			if !g.begin("INFO", "piecestore", "upload rejected, too many requests") {
				return
			}
			g.fields("storagenode")
			g.num(f.k("live requests", "live_requests"), limit+1+int64(g.r.intn(3)))
			g.num(f.k("requestLimit", "request_limit"), limit)
			g.end(true)
			g.exp.UploadsRejected++
			g.tick()
		}
	case InternalError:
		var buf [128]byte
		addr, v6 := g.remote(buf[:0], actPUT, 0)
		var e [160]byte
		errText := connErr(e[:0], "manager closed: ", "read", v6, addr, "operation timed out")
		if !g.begin("ERROR", "piecestore", "upload internal error") {
			return
		}
		g.fields("storagenode")
		g.strBytes("error", errText)
		g.strBytes("errorVerbose", append(append([]byte(nil), errText...), stackManagerRead...))
		g.end(true)
	case Ping:
		sat := g.r.intn(4)
		e := "ping satellite: failed to ping storage node, your node indicated error code: 0, rpc: tcp connector failed: rpc: dial tcp " + g.nodeIP + ":28967: connect: connection timed out"
		attempts := g.r.rangeInt(1, 3)
		for a := 1; a <= attempts; a++ {
			if !g.begin("ERROR", "contact:service", "ping satellite failed ") {
				return
			}
			g.fields("storagenode")
			g.str(f.satelliteID, satellites[sat])
			g.num("attempts", int64(a))
			g.str("error", e)
			g.str("errorVerbose", e+stackPing)
			g.end(true)
		}
	case Orders:
		for s := range 4 {
			if !g.begin("INFO", "orders", "finished") {
				return
			}
			g.fields("storagenode")
			g.str(f.k("satelliteID", "satellite_id"), satellites[s])
			g.num("count", int64(g.r.rangeInt(1, 2500)))
			g.end(true)
		}
	case Hashstore:
		g.compaction()
	case Reputation:
		g.reputation()
	case Updater:
		g.updater()
	case Collector:
		if !g.begin("INFO", "collector", "expired pieces collection started") {
			return
		}
		g.fields("storagenode")
		g.end(true)
		if !g.begin("INFO", "collector", "expired pieces collection completed") {
			return
		}
		g.fields("storagenode")
		g.num("count", int64(g.r.intn(3)*g.r.intn(400)))
		g.end(true)
	case Retain:
		g.retain()
	case Trash:
		sat := g.r.intn(4)
		if !g.begin("INFO", "pieces:trash", "emptying trash started") {
			return
		}
		g.fields("storagenode")
		g.str(f.satelliteID, satellites[sat])
		g.end(true)
		if !g.begin("INFO", "pieces:trash", "emptying trash finished") {
			return
		}
		g.fields("storagenode")
		g.str(f.satelliteID, satellites[sat])
		g.str("elapsed", time.Duration(g.r.rangeInt(2e6, 2e9)).String())
		g.end(true)
	case Bandwidth:
		if !g.begin("INFO", "bandwidth", "Persisting bandwidth usage cache to db") {
			return
		}
		g.fields("storagenode")
		g.end(true)
	case UsedSpaceWalk:
		g.usedSpaceWalk()
	case GCWalk:
		g.gcWalk()
	case TrashWalk:
		g.trashWalk()
	}
}

// appendSize formats bytes as a hashstore size string (§4.1).
func appendSize(b []byte, v int64) []byte {
	if v < 683 {
		b = strconv.AppendInt(b, v, 10)
		return append(b, " B"...)
	}
	units := [...]string{"KiB", "MiB", "GiB", "TiB", "PiB"}
	x := float64(v) / 1024
	i := 0
	for x >= 1024*2.0/3 && i < len(units)-1 {
		x /= 1024
		i++
	}
	b = strconv.AppendFloat(b, x, 'f', 1, 64)
	b = append(b, ' ')
	return append(b, units[i]...)
}

func (g *Generator) sizeStr(key string, v int64) {
	var tmp [32]byte
	g.strBytes(key, appendSize(tmp[:0], v))
}

func (g *Generator) duration(lo, hi int64) string {
	return time.Duration(g.r.rangeInt64(lo, hi)).String()
}

// stats writes the hashstore "stats" object (compact JSON, §4.1).
func (g *Generator) stats(sat, store int, compacting bool) {
	logs := g.hsLogs[sat][store]
	recs := g.hsRecords[sat][store]
	avg := 150000 + g.r.float()*150000
	lenSet := int64(float64(recs) * avg)
	trash := recs / int64(20+g.r.intn(40))
	ttl := recs / int64(200+g.r.intn(400))
	today := g.t / 86400
	var b []byte
	b = append(b, `{"NumLogs":`...)
	b = strconv.AppendInt(b, int64(logs), 10)
	b = append(b, `,"LenLogs":"`...)
	b = appendSize(b, lenSet+lenSet/8)
	b = append(b, `","NumLogsTTL":`...)
	b = strconv.AppendInt(b, int64(logs/100+g.r.intn(12)), 10)
	b = append(b, `,"LenLogsTTL":"`...)
	b = appendSize(b, ttl*int64(avg))
	b = append(b, `","SetPercent":`...)
	b = strconv.AppendFloat(b, 0.85+0.15*g.r.float(), 'f', -1, 64)
	b = append(b, `,"TrashPercent":`...)
	b = strconv.AppendFloat(b, 0.08*g.r.float(), 'f', -1, 64)
	b = append(b, `,"TTLPercent":`...)
	b = strconv.AppendFloat(b, 0.01*g.r.float(), 'f', -1, 64)
	b = append(b, `,"Compacting":`...)
	b = strconv.AppendBool(b, compacting)
	b = append(b, `,"Compactions":1,"Today":`...)
	b = strconv.AppendInt(b, today, 10)
	b = append(b, `,"LastCompact":`...)
	b = strconv.AppendInt(b, today-1, 10)
	b = append(b, `,"LogsRewritten":0,"DataRewritten":"0 B","DataReclaimed":"0 B","DataReclaimable":"`...)
	b = appendSize(b, lenSet/int64(20+g.r.intn(30)))
	b = append(b, `","Table":{"NumSet":`...)
	b = strconv.AppendInt(b, recs, 10)
	b = append(b, `,"LenSet":"`...)
	b = appendSize(b, lenSet)
	b = append(b, `","AvgSet":`...)
	b = strconv.AppendFloat(b, avg, 'f', -1, 64)
	b = append(b, `,"NumTrash":`...)
	b = strconv.AppendInt(b, trash, 10)
	b = append(b, `,"LenTrash":"`...)
	b = appendSize(b, trash*int64(avg))
	b = append(b, `","AvgTrash":`...)
	b = strconv.AppendFloat(b, avg*1.2, 'f', -1, 64)
	b = append(b, `,"NumTTL":`...)
	b = strconv.AppendInt(b, ttl, 10)
	b = append(b, `,"LenTTL":"`...)
	b = appendSize(b, ttl*int64(avg))
	b = append(b, `","AvgTTL":`...)
	b = strconv.AppendFloat(b, avg*1.9, 'f', -1, 64)
	slots := int64(1) << logSlots(recs)
	b = append(b, `,"NumSlots":`...)
	b = strconv.AppendInt(b, slots, 10)
	b = append(b, `,"TableSize":"`...)
	b = appendSize(b, slots*64)
	b = append(b, `","Load":`...)
	b = strconv.AppendFloat(b, float64(recs)/float64(slots), 'f', -1, 64)
	b = append(b, `,"Created":`...)
	b = strconv.AppendInt(b, today-1, 10)
	b = append(b, `,"Kind":0}`...)
	if g.f.current {
		b = append(b, `,"LogsSkipped":`...)
		b = strconv.AppendInt(b, int64(logs-1), 10)
		b = append(b, `,"LogsMatched":1,"LogsMismatched":0,"FreeRequired":"`...)
		b = appendSize(b, 1<<30+int64(g.r.intn(1<<30)))
		b = append(b, '"')
	}
	b = append(b, `,"Compaction":{"Elapsed":0,"Remaining":0,"TotalRecords":0,"ProcessedRecords":0}}`...)
	g.raw("stats", b)
}

// logSlots returns log2 of the hash-table slot count for recs records.
func logSlots(recs int64) int64 {
	n := int64(14)
	for int64(1)<<n < recs*2 {
		n++
	}
	return n
}

// compaction writes the lines of one hashstore compaction run.
func (g *Generator) compaction() {
	f := g.f
	sat, store := g.r.intn(4), g.r.intn(2)
	storeName := [2]string{"s0", "s1"}[store]
	head := func(msg string) bool {
		if !g.begin("INFO", "hashstore", msg) {
			return false
		}
		g.fields("storagenode")
		g.str("satellite", satellites[sat])
		g.str("store", storeName)
		return true
	}
	if !head("beginning compaction") {
		return
	}
	g.stats(sat, store, false)
	g.end(true)
	if !head("compact once started") {
		return
	}
	g.num("today", g.t/86400)
	g.end(true)

	recs := g.hsRecords[sat][store]
	slots := logSlots(recs)
	var cand, rewrite []byte
	cand, rewrite = append(cand, '['), append(rewrite, '[')
	nrw := g.r.intn(4)
	for i := range nrw {
		if i > 0 {
			cand = append(cand, ", "...)
			rewrite = append(rewrite, ", "...)
		}
		id := int64(g.r.intn(g.hsLogs[sat][store] + 1))
		cand = strconv.AppendInt(cand, id, 10)
		rewrite = strconv.AppendInt(rewrite, id, 10)
	}
	cand, rewrite = append(cand, ']'), append(rewrite, ']')
	if !head("compaction computed details") {
		return
	}
	g.num("nset", recs-int64(g.r.intn(3000)))
	g.num("nexist", recs)
	g.boolean("modifications", g.r.chance(0.7))
	g.num(f.k("curr logSlots", "curr_log_slots"), slots)
	if f.current {
		g.sizeStr("curr logSlots size", 64<<slots)
	}
	g.num(f.k("next logSlots", "next_log_slots"), slots)
	if f.current {
		g.sizeStr("next logSlots size", 64<<slots)
	}
	g.raw("candidates", cand)
	g.raw("rewrite", rewrite)
	g.str("duration", g.duration(5e7, 5e8))
	g.end(true)
	g.tick()

	if nrw > 0 {
		if !head("records rewritten") {
			return
		}
		g.num("records", int64(g.r.rangeInt(100, 5000)))
		g.sizeStr("bytes", g.r.rangeInt64(1<<20, 1<<31))
		g.str("duration", g.duration(1e9, 3e10))
		g.end(true)
	}
	if !head("hashtbl rewritten") {
		return
	}
	k := func(s string) string {
		if f.current {
			b := []byte(s)
			for i, c := range b {
				if c == ' ' {
					b[i] = '_'
				}
			}
			return string(b)
		}
		return s
	}
	avg := int64(250000)
	g.str("duration", g.duration(5e6, 2e9))
	for _, name := range [...]string{"total", "rewritten", "trashed", "restored", "expired"} {
		n := recs
		switch {
		case name == "total":
		case name == "rewritten" && nrw == 0, name == "restored" && g.r.chance(0.9):
			n = 0
		default:
			n = int64(g.r.intn(int(recs/50) + 1))
		}
		g.num(k(name+" records"), n)
		g.sizeStr(k(name+" bytes"), n*avg)
	}
	g.num(k("reclaimed logs"), int64(nrw))
	g.sizeStr(k("reclaimed bytes"), int64(nrw)*int64(g.r.rangeInt(1<<28, 1<<30)))
	if f.current {
		g.float("reclaim_ratio", math.Round(g.r.float()*1e4)/1e4)
	}
	g.end(true)
	if !head("compact once finished") {
		return
	}
	g.str("duration", g.duration(1e8, 3e10))
	g.boolean("completed", true)
	g.end(true)
	if !head("finished compaction") {
		return
	}
	g.str("duration", g.duration(1e8, 3e10))
	g.stats(sat, store, false)
	g.end(true)
	g.hsRecords[sat][store] += int64(g.r.intn(5000))
}

// reputation writes one `node scores updated` (or `worsened`) line per satellite.
func (g *Generator) reputation() {
	f := g.f
	for s := range 4 {
		n := int64(g.r.rangeInt(0, 400))
		g.audits[s] += n
		g.auditsOK[s] += n - int64(g.r.intn(2))
		delta := 0.0
		level, msg := "INFO", "node scores updated"
		if g.r.chance(0.15) {
			delta = -g.r.float() * 0.0006
			level, msg = "WARN", "node scores worsened"
		}
		g.onlineScore[s] = math.Min(1, math.Max(0.9, g.onlineScore[s]+delta))
		if !g.begin(level, "reputation:service", msg) {
			return
		}
		g.fields("storagenode")
		g.str(f.satelliteID, satellites[s])
		g.num(f.k("Total Audits", "total_audits"), g.audits[s])
		g.num(f.k("Successful Audits", "successful_audits"), g.auditsOK[s])
		g.num(f.k("Audit Score", "audit_score"), 1)
		g.float(f.k("Online Score", "online_score"), g.onlineScore[s])
		g.num(f.k("Suspension Score", "suspension_score"), 1)
		g.num(f.k("Audit Score Delta", "audit_score_delta"), 0)
		if delta == 0 {
			g.num(f.k("Online Score Delta", "online_score_delta"), 0)
		} else {
			g.float(f.k("Online Score Delta", "online_score_delta"), delta)
		}
		g.num(f.k("Suspension Score Delta", "suspension_score_delta"), 0)
		g.end(true)
	}
}

// updater writes a storagenode-updater check (no logger name, §4.11).
func (g *Generator) updater() {
	f := g.f
	if !g.begin("INFO", "", "Downloading versions.") {
		return
	}
	g.fields("storagenode-updater")
	g.str(f.k("Server Address", "server_address"), "https://version.storj.io")
	g.end(true)
	for _, svc := range [...]string{"storagenode", "storagenode-updater"} {
		if !g.begin("INFO", "", "Current binary version") {
			return
		}
		g.fields("storagenode-updater")
		g.str(f.k("Service", "service"), svc)
		g.str(f.k("Version", "version"), f.version)
		g.end(true)
		if !g.begin("INFO", "", "Version is up to date") {
			return
		}
		g.fields("storagenode-updater")
		g.str(f.k("Service", "service"), svc)
		g.end(true)
	}
}

// retain writes a garbage-collection sequence (§4.3).
func (g *Generator) retain() {
	f := g.f
	sat := g.r.intn(4)
	created := time.Unix(g.t-int64(g.r.rangeInt(2*86400, 4*86400)), 0).UTC().Truncate(time.Hour).Format(time.RFC3339)
	cache := "/app/config/retain"
	if !g.begin("INFO", "piecestore", "New bloomfilter is received") {
		return
	}
	g.fields("storagenode")
	g.str("satellite", satellites[sat])
	g.str("creation", created)
	g.end(true)
	if !g.begin("INFO", "retain", "Retain job queued") {
		return
	}
	g.fields("storagenode")
	g.str(f.k("cachePath", "cache_path"), cache)
	g.str(f.satelliteID, satellites[sat])
	g.end(true)
	if !g.begin("INFO", "retain", "Prepared to run a Retain request.") {
		return
	}
	g.fields("storagenode")
	g.str(f.k("cachePath", "cache_path"), cache)
	g.str(f.k("Created Before", "created_before"), created)
	g.num(f.k("Filter Size", "filter_size"), int64(g.r.rangeInt(100000, 20000000)))
	g.str(f.satelliteID, satellites[sat])
	g.end(true)
	g.tick()
	if !g.begin("INFO", "retain", "Moved pieces to trash during retain") {
		return
	}
	count := int64(g.r.rangeInt(1000, 40000000))
	g.fields("storagenode")
	g.str(f.k("cachePath", "cache_path"), cache)
	g.num(f.k("Deleted pieces", "deleted_pieces"), count/int64(g.r.rangeInt(8, 100)))
	g.num(f.k("Failed to delete", "failed_to_delete"), 0)
	g.num(f.k("Pieces failed to read", "pieces_failed_to_read"), 0)
	g.num(f.k("Pieces count", "pieces_count"), count)
	g.str(f.satelliteID, satellites[sat])
	g.str(f.k("Duration", "duration"), g.duration(3e8, 2e13))
	g.str(f.k("Retain Status", "retain_status"), "enabled")
	g.end(true)
}

func (g *Generator) garbage() {
	if g.done() {
		return
	}
	g.b = append(g.b[:0], garbage[g.r.intn(len(garbage))]...)
	g.end(false)
	g.exp.Unparsed++
}

// ---------------------------------------------------------------------------
// Filewalkers (§4.3, §4.4): the lazy walks, each in a subprocess whose lines
// the node logs again under <supervisor>.subprocess, with the process field
// twice.

// usedBytes are the bytes each satellite's pieces take (us1, eu1, ap1,
// saltlake), as a used-space walk counts them; about what the demo's sample
// node API reports.
var usedBytes = [4]int64{4662813308894, 2304992291610, 965906386236, 645080031115}

// subprocess writes a lazy-filewalker supervisor line.
func (g *Generator) subprocess(walker, msg string, sat int) bool {
	if !g.begin("INFO", "lazyfilewalker."+walker, msg) {
		return false
	}
	g.fields("storagenode")
	g.str(g.f.k("satelliteID", "satellite_id"), satellites[sat])
	g.end(true)
	return true
}

// relayed starts a line the subprocess wrote, as the node relays it.
func (g *Generator) relayed(walker, msg string, sat int) bool {
	if !g.begin("INFO", "lazyfilewalker."+walker+".subprocess", msg) {
		return false
	}
	g.fields("storagenode")
	g.str(g.f.k("satelliteID", "satellite_id"), satellites[sat])
	g.str(g.f.process, "storagenode")
	return true
}

func (g *Generator) walkStart(walker string, sat int) bool {
	if !g.subprocess(walker, "starting subprocess", sat) || !g.subprocess(walker, "subprocess started", sat) {
		return false
	}
	if !g.relayed(walker, "Database started", sat) {
		return false
	}
	g.end(true)
	return true
}

// usedSpaceWalk writes a lazy used-space walk of one satellite and the
// node's summary line (logger pieces), which is what counts.
func (g *Generator) usedSpaceWalk() {
	f := g.f
	sat := g.r.intn(4)
	if !g.begin("INFO", "pieces", "used-space-filewalker started") {
		return
	}
	g.fields("storagenode")
	g.str(f.satelliteID, satellites[sat])
	g.end(true)
	if !g.walkStart("used-space-filewalker", sat) || !g.subprocess("used-space-filewalker", "subprocess finished successfully", sat) {
		return
	}
	if !g.begin("INFO", "pieces", "used-space-filewalker completed") {
		return
	}
	total := usedBytes[sat] + int64(g.r.intn(1<<30))
	g.fields("storagenode")
	g.str(f.satelliteID, satellites[sat])
	g.boolean(f.k("Lazy File Walker", "lazy_file_walker"), true)
	g.num(f.k("Total Pieces Size", "total_pieces_size"), total)
	g.num(f.k("Total Pieces Content Size", "total_pieces_content_size"), total-total/1500)
	g.num(f.k("Total Pieces Count", "total_pieces_count"), total/610000)
	g.str(f.k("Duration", "duration"), g.duration(6e11, 2.4e13))
	g.end(true)
}

// gcWalk writes a lazy gc-filewalker run of one satellite.
func (g *Generator) gcWalk() {
	f := g.f
	sat := g.r.intn(4)
	if !g.walkStart("gc-filewalker", sat) {
		return
	}
	if !g.relayed("gc-filewalker", "gc-filewalker started", sat) {
		return
	}
	created := time.Unix(g.t-int64(g.r.rangeInt(2*86400, 4*86400)), 0).UTC().Truncate(time.Hour).Format(time.RFC3339)
	g.str(f.k("createdBefore", "created_before"), created)
	g.num(f.k("bloomFilterSize", "bloom_filter_size"), int64(g.r.rangeInt(100000, 20000000)))
	g.end(true)
	if !g.relayed("gc-filewalker", "gc-filewalker completed", sat) {
		return
	}
	count := usedBytes[sat] / 610000
	trashed := count / int64(g.r.rangeInt(30, 400))
	g.num(f.k("piecesCount", "pieces_count"), count)
	g.num(f.k("Total Pieces To Trash", "total_pieces_to_trash"), trashed)
	g.num(f.k("Trashed Pieces", "trashed_pieces"), trashed)
	g.num(f.k("Pieces Skipped", "pieces_skipped"), 0)
	g.end(true)
	g.subprocess("gc-filewalker", "subprocess finished successfully", sat)
}

// trashWalk writes a lazy trash-cleanup walk of one satellite.
func (g *Generator) trashWalk() {
	f := g.f
	sat := g.r.intn(4)
	if !g.walkStart("trash-cleanup-filewalker", sat) {
		return
	}
	if !g.relayed("trash-cleanup-filewalker", "trash-filewalker started", sat) {
		return
	}
	g.str(f.k("dateBefore", "date_before"), time.Unix(g.t-7*86400, 0).UTC().Format(time.RFC3339))
	g.end(true)
	if !g.relayed("trash-cleanup-filewalker", "trash-filewalker completed", sat) {
		return
	}
	keys := int64(g.r.rangeInt(0, 200000))
	g.num(f.k("bytesDeleted", "bytes_deleted"), keys*int64(g.r.rangeInt(200000, 600000)))
	g.num(f.k("numKeysDeleted", "num_keys_deleted"), keys)
	g.end(true)
	g.subprocess("trash-cleanup-filewalker", "subprocess finished successfully", sat)
}

// ---------------------------------------------------------------------------
// Live use: the caller sets the clock, draws transfers, writes their
// `started` line when they begin and their outcome when they end, and takes
// the lines written.

// SetClock sets the time of the lines written next (whole seconds) and hands
// the clock to the caller: the generator no longer advances it.
func (g *Generator) SetClock(t time.Time) {
	g.t = t.Unix()
	g.live = true
}

// Take returns the lines written since the last Take, each ending in "\n".
// The slice is valid until the next call on g.
func (g *Generator) Take() []byte {
	b := g.out
	g.out = g.out[:0]
	return b
}

// Transfer is one upload or download drawn by NewTransfer.
type Transfer struct {
	p transferPlan
	// Duration is how long the transfer runs, from its started line to
	// its outcome.
	Duration time.Duration
}

// Action is the transfer's action: PUT, PUT_REPAIR, GET, GET_AUDIT or
// GET_REPAIR.
func (t *Transfer) Action() string { return actionNames[t.p.act] }

// Result is the outcome the transfer ends with: success, canceled or failed.
func (t *Transfer) Result() string { return [...]string{"success", "canceled", "failed"}[t.p.res] }

// Median transfer durations in seconds, by action (PUT, PUT_REPAIR, GET,
// GET_AUDIT, GET_REPAIR).
var medianSeconds = [numActions]float64{0.9, 1.4, 0.35, 0.08, 0.9}

// NewTransfer draws a transfer and its duration: log-normal around the
// action's median, longer for cancellations and failures.
func (g *Generator) NewTransfer() *Transfer {
	t := &Transfer{}
	g.planTransfer(&t.p)
	m := medianSeconds[t.p.act]
	switch t.p.res {
	case outCanceled:
		m *= 2.5
	case outFailed:
		m *= 4
	}
	// Box-Muller: a standard normal from two uniforms.
	u1, u2 := g.r.float(), g.r.float()
	z := math.Sqrt(-2*math.Log(1-u1)) * math.Cos(2*math.Pi*u2)
	d := m * math.Exp(0.8*z)
	t.Duration = time.Duration(min(max(d, 0.01), 45) * float64(time.Second))
	return t
}

// Start writes the transfer's DEBUG `upload started` or `download started`
// line (§3.2).
func (g *Generator) Start(t *Transfer) {
	p, f := &t.p, g.f
	msg := "download started"
	if p.upload() {
		msg = "upload started"
	}
	if !g.begin("DEBUG", "piecestore", msg) {
		return
	}
	g.fields("storagenode")
	g.strBytes(f.pieceID, p.pid)
	g.str(f.satelliteID, satellites[p.sat])
	g.str(f.action, actionNames[p.act])
	if p.upload() {
		g.strBytes(f.remoteAddress, p.addr)
		g.num(f.k("Available Space", "available_space"), g.available)
	} else {
		g.num(f.offset, p.offset)
		g.num(f.size, p.reqSize)
		g.strBytes(f.remoteAddress, p.addr)
	}
	g.end(true)
}

// Finish writes the lines that end the transfer: its outcome, sometimes
// with a `file found in trash` line before or an `upload internal error`
// after it.
func (g *Generator) Finish(t *Transfer) { g.finish(&t.p) }
