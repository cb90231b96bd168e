package report_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/satellites"
	"github.com/storagenode-exporter/storagenode-exporter/report"
)

// TestSatelliteFlood: a log naming thousands of made-up satellites keeps the
// per-satellite table bounded (issue 13): the public satellites, the first
// satellites.MaxOwnLabels other valid IDs, then other, invalid and unknown;
// nothing is lost from the totals, and reading in parallel gives the same
// table as reading line by line.
func TestSatelliteFlood(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var log bytes.Buffer
	line := func(sat string) {
		fmt.Fprintf(&log, "2026-09-05T14:20:31Z\tINFO\tpiecestore\tdownloaded\t{\"process\": \"storagenode\", "+
			"\"piece_id\": \"7VCCJA3NTUGCABTKIDXPVB7ETUPRPYY63K6LKRXH3DHXBJCPSOMQ\", \"satellite_id\": %q, "+
			"\"action\": \"GET\", \"offset\": 0, \"size\": 100, \"remote_address\": \"56.191.230.82:59530\"}\n", sat)
	}
	const valid, invalid = 2500, 2500
	for i := range valid + invalid {
		if i%2 == 0 {
			var id [32]byte
			for j := range id {
				id[j] = byte(r.Uint32())
			}
			line(satellites.FormatID(0, id))
		} else {
			b := make([]byte, 50)
			for j := range b {
				b[j] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"[r.IntN(58)]
			}
			line(string(b))
		}
	}
	line(satellites.Active()[0].ID)
	line(strings.Repeat("x", 512<<10)) // a 512 KiB "ID" (a line under the length limit)
	want := int64(valid + invalid + 2)

	seq := report.NewCounter()
	for l := range bytes.Lines(log.Bytes()) {
		seq.Line(l)
	}
	par := report.NewCounter()
	if err := par.Read(bytes.NewReader(log.Bytes()), 4); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*report.Counter{"line by line": seq, "parallel": par} {
		if n := len(c.Satellites); n != 1+satellites.MaxOwnLabels+2 {
			t.Errorf("%s: %d satellites in the table, want %d (us1, 16 own, other, invalid): %v",
				name, n, 1+satellites.MaxOwnLabels+2, c.SatelliteNames())
		}
		var total int64
		for _, b := range c.Satellites {
			for _, a := range b {
				total += a.Success
			}
		}
		if total != want {
			t.Errorf("%s: %d downloads in the table, want %d", name, total, want)
		}
		if got := downloads(c.Satellites[satellites.Invalid]); got != invalid+1 {
			t.Errorf("%s: invalid holds %d downloads, want %d", name, got, invalid+1)
		}
		if got := downloads(c.Satellites[satellites.Other]); got != valid-satellites.MaxOwnLabels {
			t.Errorf("%s: other holds %d downloads, want %d", name, got, valid-satellites.MaxOwnLabels)
		}
		if got := downloads(c.Satellites["us1"]); got != 1 {
			t.Errorf("%s: us1 holds %d downloads, want 1", name, got)
		}
	}
}

func downloads(b *report.ByAction) int64 {
	if b == nil {
		return 0
	}
	var n int64
	for _, c := range b {
		n += c.Success
	}
	return n
}
