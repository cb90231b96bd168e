package logfile

// DefaultMaxLine is the longest line, in bytes, that a reader of a log
// (the follower, the TCP and stdin sources, report, ingest, forward) holds
// by default. The longest real storagenode lines are errorVerbose stack
// traces of about 500 KB (docs/log-formats.md); a line longer than the
// limit is cut to its first DefaultMaxLine bytes, counted as unparsed with
// the reason "too_long", and the rest of it up to the next newline is
// skipped without being held.
const DefaultMaxLine = 1 << 20
