package parser

import (
	"regexp"
	"strings"

	"github.com/storagenode-exporter/storagenode-exporter/internal/satellites"
)

// internedIDs holds each public satellite's ID once, so that parsing one
// costs no allocation.
var internedIDs = func() map[string]string {
	m := map[string]string{}
	for _, s := range satellites.All() {
		m[s.ID] = s.ID
	}
	return m
}()

// activeIDs are the IDs of the satellites that serve traffic, most
// lines' satellites: compared before the map, they cost no hashing.
var activeIDs = func() (ids []string) {
	for _, s := range satellites.Active() {
		ids = append(ids, s.ID)
	}
	return ids
}()

func internSatellite(v rawVal) string {
	if v.typ != 's' {
		return ""
	}
	for _, id := range activeIDs {
		if string(v.b) == id {
			return id
		}
	}
	if id, ok := internedIDs[string(v.b)]; ok {
		return id
	}
	return v.str()
}

// SatelliteName returns the name of a satellite ID ("us1"), or the ID itself
// when it is not a public satellite (the table of internal/satellites). ""
// stays "".
func SatelliteName(id string) string { return satellites.Name(id) }

// ErrorClass is a small, fixed classification of the error texts of
// transfers, fit to be a metric label.
type ErrorClass uint8

// Error classes, matched in this order.
const (
	ErrNone ErrorClass = iota
	ErrFileNotFound
	ErrDatabaseLocked
	ErrDisk
	ErrBrokenPipe
	ErrConnectionReset
	ErrClosedConnection
	ErrUnexpectedEOF
	ErrTimeout
	ErrCanceled
	ErrOther
)

var errorClassNames = [...]string{"", "file_not_found", "database_locked", "disk", "broken_pipe",
	"connection_reset", "closed_connection", "unexpected_eof", "timeout", "canceled", "other"}

// ErrorClasses lists every class but ErrNone.
var ErrorClasses = []ErrorClass{ErrFileNotFound, ErrDatabaseLocked, ErrDisk, ErrBrokenPipe,
	ErrConnectionReset, ErrClosedConnection, ErrUnexpectedEOF, ErrTimeout, ErrCanceled, ErrOther}

func (c ErrorClass) String() string {
	if int(c) < len(errorClassNames) {
		return errorClassNames[c]
	}
	return "other"
}

var errorPatterns = []struct {
	class ErrorClass
	subs  []string
}{
	{ErrFileNotFound, []string{"file does not exist", "no such file or directory"}},
	{ErrDatabaseLocked, []string{"database is locked"}},
	{ErrDisk, []string{"no space left on device", "input/output error", "not enough available disk space",
		"out of space", "read-only file system", "disk"}},
	{ErrBrokenPipe, []string{"broken pipe"}},
	{ErrConnectionReset, []string{"connection reset"}},
	{ErrClosedConnection, []string{"use of closed network connection", "closed network connection"}},
	{ErrUnexpectedEOF, []string{"unexpected EOF"}},
	{ErrTimeout, []string{"i/o timeout", "timed out", "timeout", "deadline exceeded"}},
	{ErrCanceled, []string{"context canceled", "canceled", "Canceled"}},
}

// ClassifyError maps an error text to its class (ErrNone for "").
func ClassifyError(err string) ErrorClass {
	if err == "" {
		return ErrNone
	}
	for _, p := range errorPatterns {
		for _, s := range p.subs {
			if strings.Contains(err, s) {
				return p.class
			}
		}
	}
	return ErrOther
}

// CancelReason is the bounded form of a `download canceled` reason
// (docs/log-formats.md §3.2).
type CancelReason uint8

// Cancel reasons.
const (
	ReasonNone CancelReason = iota
	ReasonContextCanceled
	ReasonStreamClosed
	ReasonSizeMismatch
	ReasonUnknown
)

var cancelReasonNames = [...]string{"", "context_canceled", "stream_closed", "size_mismatch", "unknown"}

func (r CancelReason) String() string {
	if int(r) < len(cancelReasonNames) {
		return cancelReasonNames[r]
	}
	return "unknown"
}

var sentBytes = regexp.MustCompile(`^downloaded size \((\d+) bytes\)`)

// ClassifyReason maps a cancel reason to its class, and for the
// "downloaded size (N bytes) ..." form returns N, the bytes actually sent.
func ClassifyReason(reason string) (CancelReason, int64) {
	switch {
	case reason == "":
		return ReasonNone, 0
	case reason == "context canceled":
		return ReasonContextCanceled, 0
	case reason == "stream closed by peer":
		return ReasonStreamClosed, 0
	case strings.HasPrefix(reason, "downloaded size ("):
		if m := sentBytes.FindStringSubmatch(reason); m != nil {
			n, _ := atoi([]byte(m[1]))
			return ReasonSizeMismatch, n
		}
		return ReasonSizeMismatch, 0
	}
	return ReasonUnknown, 0
}
