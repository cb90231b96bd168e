package parser

import (
	"bytes"
	"strings"
)

// msgID names the messages that have a typed meaning. Events are identified
// by (logger, exact message), never by substrings (docs/log-formats.md §6.4).
type msgID uint8

const (
	mNone msgID = iota
	mUploadStarted
	mDownloadStarted
	mUploaded
	mDownloaded
	mUploadCanceled
	mDownloadCanceled
	mUploadCanceledRace
	mDownloadCanceledRace
	mUploadFailed
	mDownloadFailed
	mUploadRejected
	mDeleted
	mDeleteFailed
	mDeleteToTrash
	mDeleteToTrashFailed
	mPingFailed
	mScoresUpdated
	mScoresWorsened
	mBeginCompaction
	mFinishedCompaction
	mCompactionFailed
	mRecordsRewritten
	mHashtblRewritten
	mRetainPrepared
	mRetainMoved
	mRetainFailed
	mUsedSpaceStarted
	mUsedSpaceCompleted
	mUsedSpaceFailed
	mGCStarted
	mGCCompleted
	mGCIncomplete
	mTrashWalkStarted
	mTrashWalkCompleted
	mSubprocessError
	mSubprocessStartFailed
	mTrashStarted
	mTrashFinished
	mTrashFailed
	mExpiredStarted
	mExpiredCompleted
	mExpiredError
	mCollect
)

type msgInfo struct {
	id   msgID
	text string
}

var messages = map[string]msgInfo{}

func init() {
	for id, text := range map[msgID]string{
		mUploadStarted:         "upload started",
		mDownloadStarted:       "download started",
		mUploaded:              "uploaded",
		mDownloaded:            "downloaded",
		mUploadCanceled:        "upload canceled",
		mDownloadCanceled:      "download canceled",
		mUploadCanceledRace:    "upload canceled (race lost or node shutdown)",
		mDownloadCanceledRace:  "download canceled (race lost or node shutdown)",
		mUploadFailed:          "upload failed",
		mDownloadFailed:        "download failed",
		mUploadRejected:        "upload rejected, too many requests",
		mDeleted:               "deleted",
		mDeleteFailed:          "delete failed",
		mDeleteToTrash:         "delete piece sent to trash",
		mDeleteToTrashFailed:   "could not send delete piece to trash",
		mPingFailed:            "ping satellite failed ",
		mScoresUpdated:         "node scores updated",
		mScoresWorsened:        "node scores worsened",
		mBeginCompaction:       "beginning compaction",
		mFinishedCompaction:    "finished compaction",
		mCompactionFailed:      "compaction failed",
		mRecordsRewritten:      "records rewritten",
		mHashtblRewritten:      "hashtbl rewritten",
		mRetainPrepared:        "Prepared to run a Retain request.",
		mRetainMoved:           "Moved pieces to trash during retain",
		mRetainFailed:          "retain pieces failed",
		mUsedSpaceStarted:      "used-space-filewalker started",
		mUsedSpaceCompleted:    "used-space-filewalker completed",
		mUsedSpaceFailed:       "used-space-filewalker failed",
		mGCStarted:             "gc-filewalker started",
		mGCCompleted:           "gc-filewalker completed",
		mGCIncomplete:          "gc-filewalker did not complete",
		mTrashWalkStarted:      "trash-filewalker started",
		mTrashWalkCompleted:    "trash-filewalker completed",
		mSubprocessError:       "subprocess exited with error",
		mSubprocessStartFailed: "failed to start subprocess",
		mTrashStarted:          "emptying trash started",
		mTrashFinished:         "emptying trash finished",
		mTrashFailed:           "emptying trash failed",
		mExpiredStarted:        "expired pieces collection started",
		mExpiredCompleted:      "expired pieces collection completed",
		mExpiredError:          "error during expired pieces collection",
		mCollect:               "collect",
	} {
		messages[text] = msgInfo{id, text}
	}
	// Other frequent messages are interned too, so that they cost no
	// allocation; they have no typed meaning.
	for _, text := range []string{"upload internal error", "New bloomfilter is received", "finished",
		"sending", "Retain job queued", "starting subprocess", "subprocess started",
		"subprocess finished successfully", "subprocess exited with status", "Database started",
		"pinged", "Current binary version", "Version is up to date", "Downloading versions.",
		"Scheduling next refresh", "Persisting bandwidth usage cache to db", "file found in trash",
		"readability check done", "writability check done", "no orders to send", "cleaning",
		"cleanup finished", "compact once started", "compact once finished", "compaction computed details",
		"compaction acquired locks", "hashstore opened successfully", "enqueued for migration",
		"couldn't migrate", "migrated a piece", "processed a bunch of pieces", "About to move piece to trash",
		"starting to empty trash", "deleted expired piece", "Running on allowed version.",
		"Allowed minimum version from control server.", "error sending hash and order limit",
		"failed to add bandwidth usage", "directory not found", "number of subdirs", "no more BFs to process",
		"Fetched URLs from source; updating cache"} {
		if _, ok := messages[text]; !ok {
			messages[text] = msgInfo{mNone, text}
		}
	}
}

// internMessage returns the message as a string, shared for known messages.
// In a line whose TABs became spaces the message's own trailing spaces are
// lost; spaced tells to try the known message with its trailing space.
func internMessage(b []byte, spaced bool) (string, msgID) {
	// Transfer lines are nearly every line: their messages are matched
	// without hashing.
	switch string(b) {
	case "uploaded":
		return "uploaded", mUploaded
	case "downloaded":
		return "downloaded", mDownloaded
	case "upload started":
		return "upload started", mUploadStarted
	case "download started":
		return "download started", mDownloadStarted
	case "upload canceled":
		return "upload canceled", mUploadCanceled
	case "download canceled":
		return "download canceled", mDownloadCanceled
	case "upload failed":
		return "upload failed", mUploadFailed
	case "download failed":
		return "download failed", mDownloadFailed
	}
	if m, ok := messages[string(b)]; ok {
		return m.text, m.id
	}
	if spaced && len(b) > 0 {
		var buf [64]byte
		if len(b) < len(buf) {
			k := append(append(buf[:0], b...), ' ')
			if m, ok := messages[string(k)]; ok {
				return m.text, m.id
			}
		}
	}
	return string(b), mNone
}

// isLogger reports whether logger is name or one of its sub-loggers
// (name:..., as the modular build names them).
func loggerIs(logger, name string) bool {
	return logger == name || len(logger) > len(name) && logger[len(name)] == ':' && logger[:len(name)] == name
}

// classify sets the Kind and typed fields of an event from its logger,
// message (m, as internMessage found it) and fields; full is false for
// Parser.CountOnly.
func classify(ev *Event, f *fields, m msgID, full bool) {
	if v := f.get(fProcess); v.typ == 's' {
		switch string(v.b) {
		case "storagenode":
			ev.Process = "storagenode"
		case "storagenode-updater":
			ev.Process = "storagenode-updater"
		default:
			ev.Process = v.str()
		}
	}
	if f.has(fSatellite) {
		ev.Satellite = internSatellite(f.get(fSatellite))
	}
	if f.has(fError) {
		ev.Error = f.get(fError).str()
	}
	switch {
	case m == mNone:
	case ev.Logger == "piecestore" || ev.Logger == "piecestore:endpoint":
		transfer(ev, f, m, full)
	case ev.Logger == "piecedeleter":
		if m == mDeleted || m == mDeleteFailed || m == mDeleteToTrash || m == mDeleteToTrashFailed {
			transfer(ev, f, m, full)
		}
	case loggerIs(ev.Logger, "contact") && m == mPingFailed:
		ev.Kind = KindPingFailed
		n, _ := f.get(fAttempts).int()
		ev.Ping = &Ping{Attempts: n}
	case loggerIs(ev.Logger, "reputation") && (m == mScoresUpdated || m == mScoresWorsened):
		ev.Kind = KindReputation
		r := &Reputation{Worsened: m == mScoresWorsened}
		r.TotalAudits, _ = f.get(fTotalAudits).int()
		r.SuccessfulAudits, _ = f.get(fSuccessfulAudits).int()
		r.AuditScore, _ = f.get(fAuditScore).float()
		r.OnlineScore, _ = f.get(fOnlineScore).float()
		r.SuspensionScore, _ = f.get(fSuspensionScore).float()
		r.AuditDelta, _ = f.get(fAuditDelta).float()
		r.OnlineDelta, _ = f.get(fOnlineDelta).float()
		r.SuspensionDelta, _ = f.get(fSuspensionDelta).float()
		ev.Reputation = r
	case loggerIs(ev.Logger, "hashstore"):
		compaction(ev, f, m)
	case loggerIs(ev.Logger, "retain"):
		c := &Retain{}
		switch m {
		case mRetainPrepared:
			c.Phase = Started
		case mRetainMoved:
			c.Phase = Finished
			c.Deleted, _ = f.get(fDeletedPieces).int()
			if !f.has(fDeletedPieces) {
				c.Deleted, _ = f.get(fNumDeleted).int()
			}
			c.Failed, _ = f.get(fFailedToDelete).int()
			c.PiecesSeen, _ = f.get(fPiecesCount).int()
			c.Duration, _ = f.get(fDuration).duration()
			c.Status = internStatus(f.get(fRetainStatus))
		case mRetainFailed:
			c.Phase = PhaseFailed
		default:
			return
		}
		ev.Kind, ev.Retain = KindRetain, c
	case ev.Logger == "pieces" || strings.HasPrefix(ev.Logger, "lazyfilewalker"):
		walker(ev, f, m)
	case loggerIs(ev.Logger, "pieces:trash") || ev.Logger == "pieces:trash":
		t := &Trash{}
		switch m {
		case mTrashStarted:
			t.Phase = Started
		case mTrashFinished:
			t.Phase = Finished
			t.Elapsed, _ = f.get(fElapsed).duration()
		case mTrashFailed:
			t.Phase = PhaseFailed
		default:
			return
		}
		ev.Kind, ev.Trash = KindTrash, t
	case loggerIs(ev.Logger, "collector"):
		x := &Expired{}
		switch m {
		case mExpiredStarted:
			x.Phase = Started
		case mExpiredCompleted, mCollect:
			x.Phase = Finished
		case mExpiredError:
			x.Phase = PhaseFailed
		default:
			return
		}
		x.Count, _ = f.get(fCount).int()
		ev.Kind, ev.Expired = KindExpired, x
	}
}

func transfer(ev *Event, f *fields, m msgID, full bool) {
	if v := f.get(fAction); v.typ == 's' {
		ev.Action = parseAction(v.b)
	}
	if full {
		ev.Remote = parseRemote(f.get(fRemote))
	}
	ev.Size, ev.HasSize = f.get(fSize).int()
	ev.Offset, _ = f.get(fOffset).int()
	switch m {
	case mUploadStarted, mDownloadStarted:
		ev.Kind = KindTransferStarted
	case mUploaded, mDownloaded:
		ev.Kind, ev.Result = KindTransferOutcome, Success
	case mUploadCanceled, mDownloadCanceled:
		ev.Kind, ev.Result = KindTransferOutcome, Canceled
		if v := f.get(fReason); v.typ == 's' {
			ev.Reason = v.str()
		}
	case mUploadCanceledRace, mDownloadCanceledRace:
		ev.Kind, ev.Result, ev.RaceLost = KindTransferOutcome, Canceled, true
	case mUploadFailed:
		ev.Kind, ev.Result = KindTransferOutcome, Failed
		if ev.Level == Debug { // rule 4: client-side cancellations are logged at DEBUG
			ev.Result = Canceled
		}
	case mDownloadFailed:
		ev.Kind, ev.Result = KindTransferOutcome, Failed
	case mUploadRejected:
		ev.Kind = KindUploadRejected
		r := &Rejected{}
		r.LiveRequests, _ = f.get(fLiveRequests).int()
		r.RequestLimit, _ = f.get(fRequestLimit).int()
		ev.Rejected = r
	case mDeleted, mDeleteToTrash:
		ev.Kind, ev.Result = KindDelete, Success
		ev.Action = ActionDelete
	case mDeleteFailed, mDeleteToTrashFailed:
		ev.Kind, ev.Result = KindDelete, Failed
		ev.Action = ActionDelete
	}
	if v := f.get(fPieceID); v.typ == 's' && (full || ev.RaceLost || pairedByRule5(ev)) {
		ev.PieceID = v.str()
	}
}

func compaction(ev *Event, f *fields, m msgID) {
	c := &Compaction{}
	switch m {
	case mBeginCompaction:
		c.Phase = Started
	case mFinishedCompaction:
		c.Phase = Finished
		if ev.Error != "" {
			c.Phase = PhaseFailed
		}
	case mCompactionFailed:
		c.Phase = PhaseFailed
	case mRecordsRewritten:
		c.Rewritten, _ = parseSizeString(f.get(fBytes))
	case mHashtblRewritten:
		c.Rewritten, _ = parseSizeString(f.get(fRewrittenBytes))
		c.Reclaimed, _ = parseSizeString(f.get(fReclaimedBytes))
	default:
		return
	}
	if v := f.get(fStore); v.typ == 's' {
		switch string(v.b) {
		case "s0":
			c.Store = "s0"
		case "s1":
			c.Store = "s1"
		default:
			c.Store = v.str()
		}
	}
	c.Duration, _ = f.get(fDuration).duration()
	if st := f.get(fStats); st.typ == 'o' {
		var sf fields
		if parseObject(st.b, &sf, false) {
			c.HasStats = true
			c.NumLogs, _ = sf.get(fNumLogs).int()
			c.LogsBytes, _ = parseSizeString(sf.get(fLenLogs))
			c.DataReclaimable, _ = parseSizeString(sf.get(fDataReclaimable))
			c.TrashFraction, _ = sf.get(fTrashPercent).float()
			if tb := sf.get(fTable); tb.typ == 'o' {
				var tf fields
				if parseObject(tb.b, &tf, false) {
					c.TrashBytes, _ = parseSizeString(tf.get(fLenTrash))
				}
			}
		}
	}
	ev.Kind, ev.Compaction = KindCompaction, c
}

// walker types the filewalker lines. The used-space walk is counted from
// the `pieces` summary lines, which the node writes for the lazy and the
// in-process walk alike; the subprocess's own used-space lines would count it
// twice and stay generic. The gc and trash-cleanup walks are counted from the
// subprocess lines and their supervisor's failures.
func walker(ev *Event, f *fields, m msgID) {
	w := &Walker{}
	sub := strings.HasSuffix(ev.Logger, ".subprocess")
	switch {
	case ev.Logger == "pieces":
		w.Name = WalkerUsedSpace
		w.Lazy = f.get(fLazy).bool()
		switch m {
		case mUsedSpaceStarted:
			w.Phase = Started
		case mUsedSpaceCompleted:
			w.Phase = Finished
			w.TotalBytes, _ = f.get(fTotalPiecesSize).int()
			w.Content, _ = f.get(fTotalPiecesContentSize).int()
			w.Pieces, _ = f.get(fTotalPiecesCount).int()
			w.Duration, _ = f.get(fDuration).duration()
		case mUsedSpaceFailed:
			w.Phase = PhaseFailed
		default:
			return
		}
	case sub:
		w.Lazy = true
		switch m {
		case mGCStarted:
			w.Name, w.Phase = WalkerGC, Started
		case mGCCompleted:
			w.Name, w.Phase = WalkerGC, Finished
			w.Pieces, _ = f.get(fPiecesCount).int()
			w.Trashed, _ = f.get(fTrashedPieces).int()
			if !f.has(fTrashedPieces) {
				w.Trashed, _ = f.get(fTotalToTrash).int()
			}
		case mGCIncomplete:
			w.Name, w.Phase = WalkerGC, PhaseFailed
		case mTrashWalkStarted:
			w.Name, w.Phase = WalkerTrashCleanup, Started
		case mTrashWalkCompleted:
			w.Name, w.Phase = WalkerTrashCleanup, Finished
			w.BytesFreed, _ = f.get(fBytesDeleted).int()
			w.Trashed, _ = f.get(fNumKeysDeleted).int()
		default:
			return
		}
	default: // a supervisor: lazyfilewalker.<walker>
		if m != mSubprocessError && m != mSubprocessStartFailed {
			return
		}
		switch {
		case strings.Contains(ev.Logger, "gc-filewalker"):
			w.Name = WalkerGC
		case strings.Contains(ev.Logger, "trash-cleanup-filewalker"):
			w.Name = WalkerTrashCleanup
		default:
			return // used-space failures come from the pieces summary
		}
		w.Lazy, w.Phase = true, PhaseFailed
	}
	ev.Kind, ev.Walker = KindFilewalker, w
}

func internStatus(v rawVal) string {
	switch string(v.b) {
	case "enabled":
		return "enabled"
	case "debug":
		return "debug"
	case "disabled":
		return "disabled"
	}
	return v.str()
}

// parseSizeString reads a hashstore size string ("153.7 GiB", "2.00 GB",
// "512 B", "-1.5 MiB") as bytes, rounded to the nearest byte.
func parseSizeString(v rawVal) (int64, bool) {
	if v.typ == 'n' {
		return v.int()
	}
	if v.typ != 's' {
		return 0, false
	}
	b := bytes.TrimSpace(v.b)
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return 0, false
	}
	num, unit := b[:i], bytes.TrimSpace(b[i+1:])
	x, ok := rawVal{b: num, typ: 'n'}.float()
	if !ok {
		return 0, false
	}
	var mult float64
	switch string(unit) {
	case "B":
		mult = 1
	case "KiB":
		mult = 1 << 10
	case "MiB":
		mult = 1 << 20
	case "GiB":
		mult = 1 << 30
	case "TiB":
		mult = 1 << 40
	case "PiB":
		mult = 1 << 50
	case "EiB":
		mult = 1 << 60
	case "KB":
		mult = 1e3
	case "MB":
		mult = 1e6
	case "GB":
		mult = 1e9
	case "TB":
		mult = 1e12
	case "PB":
		mult = 1e15
	case "EB":
		mult = 1e18
	default:
		return 0, false
	}
	r := x * mult
	if r < 0 {
		return int64(r - 0.5), true
	}
	return int64(r + 0.5), true
}
