package pipeline_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/pipeline"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// A 64 MiB line without a newline between two copies of a log, in a
// followed file, on standard input and over TCP: each node counts it as one
// unparsed line and every line after it as report does, and none of the
// readers holds it. (Not parallel: it measures the process's allocations.)
func TestRunLongLine(t *testing.T) {
	const huge = 64 << 20
	fixture, err := os.ReadFile(fixtureLog)
	if err != nil {
		t.Fatal(err)
	}
	stream := func() io.Reader {
		return io.MultiReader(bytes.NewReader(fixture), testutil.Hole(huge), bytes.NewReader([]byte("\n")), bytes.NewReader(fixture))
	}
	log := filepath.Join(t.TempDir(), "node.log")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, stream()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	want := reportOf(t, log)
	if want.UnparsedBy[parser.ReasonTooLong] != 1 {
		t.Fatalf("report counts %d lines too long", want.UnparsedBy[parser.ReasonTooLong])
	}
	addr := testutil.SendOnce(t, stream())

	var r *running
	alloc := testutil.Allocated(func() {
		r = start(t, pipeline.Options{
			Nodes: []pipeline.NodeSpec{
				{Name: "File", Source: log, Kind: pipeline.SourceFile},
				{Name: "Piped", Source: "-", Kind: pipeline.SourceStdin},
				{Name: "Remote", Source: addr, Kind: pipeline.SourceTCP},
			},
			FromBeginning: true,
			Stdin:         stream(),
		})
		for _, node := range []string{"File", "Piped", "Remote"} {
			testutil.WaitFor(t, node+"'s lines", func() bool {
				return r.value(t, `storj_log_lines_total{node="`+node+`"}`) == float64(want.Lines)
			})
			for _, reason := range parser.Reasons {
				if got := r.value(t, `storj_log_lines_unparsed_total{node="`+node+`",reason="`+reason.String()+`"}`); got != float64(want.UnparsedBy[reason]) {
					t.Errorf("%s: %v unparsed (%s), report counts %d", node, got, reason, want.UnparsedBy[reason])
				}
			}
			if got := r.value(t, `storj_transfers_total{node="`+node+`",action="PUT",result="success",satellite="us1"}`); got != float64(want.Satellites["us1"][parser.PUT].Success) {
				t.Errorf("%s: %v PUT successes on us1, report counts %d", node, got, want.Satellites["us1"][parser.PUT].Success)
			}
		}
	})
	if err := r.stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
	if alloc > 96<<20 {
		t.Errorf("three readers of a %d MiB line allocated %d MiB", huge>>20, alloc>>20)
	} else {
		t.Logf("allocated %d MiB", alloc>>20)
	}
}
