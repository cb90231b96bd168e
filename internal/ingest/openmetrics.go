package ingest

import (
	"bytes"

	"github.com/storagenode-exporter/storagenode-exporter/backfill"
	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

// openMetricsChunk is the size of the chunks WriteOpenMetrics reads.
const openMetricsChunk = 1 << 20

// WriteOpenMetrics writes the log-derived counters of the plan's files,
// every line of each, oldest first per node, with timestamps to out
// (package backfill). It reads the files through the one reader of logs
// (internal/logfile and its chunks), with maxLine the longest line
// held (0: logfile.DefaultMaxLine); a longer line is counted as unparsed
// (too_long), as serve counts it, and not held. It runs
// after the sink's ingest rather than in the same pass: that one skips
// what the database holds already, this one covers every line given. A
// file that cannot be read was reported by the ingest already and is
// skipped here (or read up to where it fails). countries may be nil.
func WriteOpenMetrics(out string, plan *Plan, countries sink.Countries, maxLine int) error {
	var geo exporter.Countries
	if countries != nil {
		geo = countries
	}
	w, err := backfill.New(out, backfill.DefaultStep, geo)
	if err != nil {
		return err
	}
	// Two buffers in turn: Split asks for the next one while it holds the
	// chunk it hands over, which is counted before it asks again.
	bufs := [2][]byte{make([]byte, openMetricsChunk), make([]byte, openMetricsChunk)}
	turn := 0
	get := func() []byte {
		turn ^= 1
		return bufs[turn]
	}
	for _, node := range plan.Nodes {
		n := w.Node(node)
		for _, f := range plan.Files {
			if f.Node != node {
				continue
			}
			r, err := logfile.OpenContent(f.Path)
			if err != nil {
				continue
			}
			var lineErr error
			_ = logfile.SplitChunks(r, logfile.ChunkOptions{Get: get, MaxLine: maxLine, KeepTail: true}, func(c logfile.Chunk) bool {
				if c.TooLong { // counted, never parsed
					lineErr = n.TooLong()
					return lineErr == nil
				}
				for b := c.Buf; len(b) > 0; {
					line := b
					if i := bytes.IndexByte(b, '\n'); i >= 0 {
						line, b = b[:i], b[i+1:]
					} else {
						b = nil
					}
					if lineErr = n.Line(line); lineErr != nil {
						return false
					}
				}
				return true
			})
			r.Close()
			if lineErr != nil {
				w.Close()
				return lineErr
			}
		}
	}
	return w.Close()
}
