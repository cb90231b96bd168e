package parser

// fieldID is a canonical field key. Every spelling a node version used maps
// to one ID (docs/log-formats.md §2.9 and §6.3).
type fieldID uint8

const (
	fNone fieldID = iota
	fProcess
	fPieceID
	fSatellite
	fAction
	fRemote
	fSize
	fOffset
	fError
	fReason
	fLiveRequests
	fRequestLimit
	fAttempts
	fTotalAudits
	fSuccessfulAudits
	fAuditScore
	fOnlineScore
	fSuspensionScore
	fAuditDelta
	fOnlineDelta
	fSuspensionDelta
	fStore
	fDuration
	fStats
	fBytes
	fRewrittenBytes
	fReclaimedBytes
	fDeletedPieces
	fNumDeleted
	fFailedToDelete
	fPiecesCount
	fRetainStatus
	fLazy
	fTotalPiecesSize
	fTotalPiecesContentSize
	fTotalPiecesCount
	fPiecesTotal
	fPiecesContentSize
	fTrashedPieces
	fTotalToTrash
	fBytesDeleted
	fNumKeysDeleted
	fElapsed
	fCount
	// keys of the hashstore stats object and its Table
	fNumLogs
	fLenLogs
	fDataReclaimable
	fTrashPercent
	fTable
	fLenTrash
	numFields
)

// Header keys of the JSON encoding, kept apart from the fields.
const (
	hdrL fieldID = 200 + iota
	hdrT
	hdrN
	hdrM
)

// fieldOf maps a key as written to its canonical ID (fNone for keys we do not
// use). A switch on the string compiles to a search without allocation.
func fieldOf(k []byte) fieldID {
	switch string(k) {
	case "process", "Process":
		return fProcess
	case "piece_id", "Piece ID", "piece ID", "pieceID":
		return fPieceID
	case "satellite_id", "Satellite ID", "satellite ID", "satelliteID", "SatelliteID", "satellite", "sat":
		return fSatellite
	case "action", "Action":
		return fAction
	case "remote_address", "Remote Address":
		return fRemote
	case "size", "Size":
		return fSize
	case "offset", "Offset":
		return fOffset
	case "error":
		return fError
	case "reason":
		return fReason
	case "live_requests", "live requests":
		return fLiveRequests
	case "request_limit", "requestLimit":
		return fRequestLimit
	case "attempts":
		return fAttempts
	case "total_audits", "Total Audits":
		return fTotalAudits
	case "successful_audits", "Successful Audits":
		return fSuccessfulAudits
	case "audit_score", "Audit Score":
		return fAuditScore
	case "online_score", "Online Score":
		return fOnlineScore
	case "suspension_score", "Suspension Score":
		return fSuspensionScore
	case "audit_score_delta", "Audit Score Delta":
		return fAuditDelta
	case "online_score_delta", "Online Score Delta":
		return fOnlineDelta
	case "suspension_score_delta", "Suspension Score Delta":
		return fSuspensionDelta
	case "store":
		return fStore
	case "duration", "Duration":
		return fDuration
	case "stats":
		return fStats
	case "bytes":
		return fBytes
	case "rewritten_bytes", "rewritten records bytes", "rewritten bytes":
		return fRewrittenBytes
	case "reclaimed_bytes", "reclaimed logs bytes", "reclaimed bytes":
		return fReclaimedBytes
	case "deleted_pieces", "Deleted pieces":
		return fDeletedPieces
	case "num deleted":
		return fNumDeleted
	case "failed_to_delete", "Failed to delete":
		return fFailedToDelete
	case "pieces_count", "Pieces count", "piecesCount":
		return fPiecesCount
	case "retain_status", "Retain Status":
		return fRetainStatus
	case "lazy_file_walker", "Lazy File Walker":
		return fLazy
	case "total_pieces_size", "Total Pieces Size":
		return fTotalPiecesSize
	case "total_pieces_content_size", "Total Pieces Content Size":
		return fTotalPiecesContentSize
	case "total_pieces_count", "Total Pieces Count":
		return fTotalPiecesCount
	case "piecesTotal":
		return fPiecesTotal
	case "piecesContentSize":
		return fPiecesContentSize
	case "trashed_pieces", "Trashed Pieces", "piecesTrashed":
		return fTrashedPieces
	case "total_pieces_to_trash", "Total Pieces To Trash", "trashPiecesCount":
		return fTotalToTrash
	case "bytes_deleted", "bytesDeleted":
		return fBytesDeleted
	case "num_keys_deleted", "numKeysDeleted":
		return fNumKeysDeleted
	case "elapsed":
		return fElapsed
	case "count":
		return fCount
	case "NumLogs":
		return fNumLogs
	case "LenLogs":
		return fLenLogs
	case "DataReclaimable":
		return fDataReclaimable
	case "TrashPercent":
		return fTrashPercent
	case "Table":
		return fTable
	case "LenTrash":
		return fLenTrash
	case "L":
		return hdrL
	case "T":
		return hdrT
	case "N":
		return hdrN
	case "M":
		return hdrM
	}
	return fNone
}
