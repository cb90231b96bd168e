package main

import (
	"errors"

	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
)

// lineLimit is --max-line-length, embedded in each command that reads a log
// (serve, forward, report, ingest); the configuration file's top-level key
// max-line-length sets it too.
type lineLimit struct {
	MaxLineLength int `name:"max-line-length" default:"${max_line_length}" help:"Longest log line held, in bytes (4096 to 1073741824). A longer line is cut, counted as unparsed with the reason too_long and never parsed; the rest of it is skipped up to the next newline without being held."`
}

// Validate checks the flag's bounds (logfile.CheckMaxLine) before anything
// runs (exit status 2).
func (l *lineLimit) Validate() error {
	if msg := logfile.CheckMaxLine(int64(l.MaxLineLength)); msg != "" {
		return errors.New("--max-line-length: " + msg)
	}
	return nil
}
