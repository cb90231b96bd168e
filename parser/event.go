// Package parser turns one storagenode log line into a typed Event.
//
// Parse is a pure function: no I/O, no clock, no state, and the Event it
// returns never aliases the input line. It reads every shape described in
// docs/log-formats.md §2 and §6: console encoding with 3, 4 or 5 TAB columns (or
// runs of spaces where a paste turned TABs into spaces, or rsyslog's #011),
// JSON encoding (keys L, T, N, C, M), both timestamp layouts, both field-key
// spellings (before and after the v1.146 snake_case rename), and the prefixes
// tools put in front of a line (docker logs -t, docker compose, syslog and
// journald, grep -r).
//
// The outcome rules of a transfer that need no context (rules 1-4 and 6-8 of
// docs/log-formats.md §3.7) are applied by Parse. Rule 5, which needs the
// previous lines, is applied by Tracker.
package parser

import (
	"net/netip"
	"time"
)

// Level is a zap log level.
type Level uint8

// Levels in increasing severity. LevelNone is the zero value and never comes
// out of a successful Parse.
const (
	LevelNone Level = iota
	Debug
	Info
	Warn
	Error
	DPanic
	Panic
	Fatal
)

var levelNames = [...]string{"", "DEBUG", "INFO", "WARN", "ERROR", "DPANIC", "PANIC", "FATAL"}

// Levels lists every level a line can carry, in order.
var Levels = []Level{Debug, Info, Warn, Error, DPanic, Panic, Fatal}

func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return ""
}

func parseLevel(b []byte) Level {
	switch string(b) {
	case "INFO":
		return Info
	case "DEBUG":
		return Debug
	case "WARN":
		return Warn
	case "ERROR":
		return Error
	case "DPANIC":
		return DPanic
	case "PANIC":
		return Panic
	case "FATAL":
		return Fatal
	}
	return LevelNone
}

// Action is a piece action (docs/log-formats.md §3.4).
type Action uint8

// Actions. ActionNone means the line carried no action; ActionOther an
// action that is not one of the five transfer actions (DELETE,
// PUT_GRACEFUL_EXIT, INVALID or an unknown name).
const (
	ActionNone Action = iota
	GET
	GETAudit
	GETRepair
	PUT
	PUTRepair
	ActionDelete
	ActionOther
)

// TransferActions are the five actions of uploads and downloads, in the order
// reports list them.
var TransferActions = []Action{GET, GETAudit, GETRepair, PUT, PUTRepair}

var actionNames = [...]string{"", "GET", "GET_AUDIT", "GET_REPAIR", "PUT", "PUT_REPAIR", "DELETE", "OTHER"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "OTHER"
}

// IsUpload tells whether the action stores data on the node.
func (a Action) IsUpload() bool { return a == PUT || a == PUTRepair }

// IsDownload tells whether the action reads data from the node.
func (a Action) IsDownload() bool { return a == GET || a == GETAudit || a == GETRepair }

func parseAction(b []byte) Action {
	switch string(b) {
	case "GET":
		return GET
	case "PUT":
		return PUT
	case "GET_AUDIT":
		return GETAudit
	case "GET_REPAIR":
		return GETRepair
	case "PUT_REPAIR":
		return PUTRepair
	case "DELETE":
		return ActionDelete
	}
	return ActionOther
}

// Result is the outcome of a transfer.
type Result uint8

// Results. ResultNone is used by events that are not outcomes.
const (
	ResultNone Result = iota
	Success
	Canceled
	Failed
)

// Results lists the three outcomes in the order reports list them.
var Results = []Result{Success, Canceled, Failed}

var resultNames = [...]string{"", "success", "canceled", "failed"}

func (r Result) String() string {
	if int(r) < len(resultNames) {
		return resultNames[r]
	}
	return ""
}

// Kind says what an Event is about and which of its fields are set.
type Kind uint8

// Kinds of events.
const (
	// KindGeneric is any storagenode line without a typed meaning here:
	// Level, Logger and Message are set.
	KindGeneric Kind = iota
	// KindTransferStarted: `upload started` / `download started`.
	KindTransferStarted
	// KindTransferOutcome: the lines that end an upload or download.
	// Result holds the outcome under rules 1-4.
	KindTransferOutcome
	// KindDelete: the delete lines of nodes before v1.118.
	KindDelete
	// KindUploadRejected: `upload rejected, too many requests`.
	KindUploadRejected
	// KindPingFailed: `ping satellite failed ` (contact:service).
	KindPingFailed
	// KindReputation: `node scores updated` / `node scores worsened`.
	KindReputation
	// KindCompaction: hashstore compaction lines; see Compaction.
	KindCompaction
	// KindRetain: garbage collection with bloom filters; see Retain.
	KindRetain
	// KindFilewalker: used-space, gc and trash-cleanup walkers; see Walker.
	KindFilewalker
	// KindTrash: trash emptying (pieces:trash); see Trash.
	KindTrash
	// KindExpired: expired-piece collection (collector); see Expired.
	KindExpired
)

var kindNames = [...]string{"generic", "transfer_started", "transfer_outcome", "delete", "upload_rejected",
	"ping_failed", "reputation", "compaction", "retain", "filewalker", "trash", "expired"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Event is one parsed storagenode log line.
type Event struct {
	// Time is the line's time in UTC; zero when the node ran with
	// STORJ_LOG_NOTIME. TZOffset keeps the offset it was written with.
	Time     time.Time
	TZOffset int32

	Level   Level
	Logger  string // "" for unnamed loggers
	Message string
	Process string // "storagenode", "storagenode-updater" or "" when absent
	Kind    Kind

	// Transfer context (transfer, delete, and wherever the line names them).
	Action    Action
	Result    Result // set for KindTransferOutcome and KindDelete
	RaceLost  bool   // the "(race lost or node shutdown)" variant of a cancel
	Satellite string // satellite NodeID as logged; see SatelliteName
	PieceID   string
	Remote    netip.AddrPort // zero when absent or unparsable
	Size      int64          // the size field; HasSize tells whether it was present
	HasSize   bool
	Offset    int64
	Error     string // the error field, without errorVerbose
	Reason    string // the reason field of `download canceled`

	// Typed details of the other kinds; nil unless Kind says so.
	Rejected   *Rejected
	Ping       *Ping
	Reputation *Reputation
	Compaction *Compaction
	Retain     *Retain
	Walker     *Walker
	Trash      *Trash
	Expired    *Expired
}

// Rejected holds the fields of `upload rejected, too many requests`.
type Rejected struct {
	LiveRequests int64
	RequestLimit int64
}

// Ping holds the fields of `ping satellite failed `.
type Ping struct {
	Attempts int64
}

// Reputation holds a `node scores updated` or `node scores worsened` line.
type Reputation struct {
	Worsened         bool
	TotalAudits      int64
	SuccessfulAudits int64
	AuditScore       float64
	OnlineScore      float64
	SuspensionScore  float64
	AuditDelta       float64
	OnlineDelta      float64
	SuspensionDelta  float64
}

// Phase says where in a run a line stands.
type Phase uint8

// Phases of compactions, walks, trash emptying and collections.
const (
	PhaseNone Phase = iota
	Started
	Finished
	PhaseFailed
)

var phaseNames = [...]string{"", "started", "finished", "failed"}

func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return ""
}

// Compaction holds a hashstore line (docs/log-formats.md §4.1). Byte amounts
// come from size strings and are approximate (±0.05 unit).
type Compaction struct {
	// Phase: Started for `beginning compaction`, Finished for `finished
	// compaction` (PhaseFailed when it carries an error, or for `compaction
	// failed`), PhaseNone for the intermediate lines.
	Phase     Phase
	Store     string // "s0" or "s1"
	Duration  time.Duration
	Rewritten int64 // `records rewritten` bytes or `hashtbl rewritten` rewritten_bytes
	Reclaimed int64 // `hashtbl rewritten` reclaimed_bytes
	// Store statistics from the `stats` object, when the line has one.
	HasStats        bool
	LogsBytes       int64 // LenLogs
	NumLogs         int64
	TrashBytes      int64 // Table.LenTrash
	DataReclaimable int64
	TrashFraction   float64
}

// Retain holds a garbage-collection line (docs/log-formats.md §4.3).
type Retain struct {
	Phase      Phase // Started: `Prepared to run a Retain request.`; Finished: `Moved pieces to trash during retain`
	Deleted    int64
	Failed     int64 // failed_to_delete
	PiecesSeen int64 // pieces_count
	Duration   time.Duration
	Status     string // enabled, debug, disabled
}

// Walker names a filewalker.
type WalkerName uint8

// The three walkers.
const (
	WalkerNone WalkerName = iota
	WalkerUsedSpace
	WalkerGC
	WalkerTrashCleanup
)

var walkerNames = [...]string{"", "used-space", "gc", "trash-cleanup"}

func (w WalkerName) String() string {
	if int(w) < len(walkerNames) {
		return walkerNames[w]
	}
	return ""
}

// Walker holds a filewalker line (docs/log-formats.md §4.3-4.4).
type Walker struct {
	Name       WalkerName
	Phase      Phase
	Lazy       bool          // the line comes from the lazy (subprocess) walker
	TotalBytes int64         // used-space: total_pieces_size
	Content    int64         // used-space: total_pieces_content_size
	Pieces     int64         // pieces counted
	Trashed    int64         // gc: pieces trashed; trash-cleanup: keys deleted
	BytesFreed int64         // trash-cleanup: bytes_deleted
	Duration   time.Duration // when the line reports one
}

// Trash holds a trash-emptying line (docs/log-formats.md §4.5).
type Trash struct {
	Phase   Phase
	Elapsed time.Duration
}

// Expired holds an expired-piece collection line (docs/log-formats.md §4.6).
type Expired struct {
	Phase Phase
	Count int64
}
