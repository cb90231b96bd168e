package sink

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// A 256 MiB line without a newline (a crash's hole of NULs, as
// `truncate -s +256M` makes) between two copies of a log is read without
// being held: it counts as one line too long, the lines after it are
// ingested as report counts them, and the position ends at the file's end.
// (Not parallel: it measures the process's allocations.)
func TestIngestLongLine(t *testing.T) {
	const huge = 256 << 20
	fixture, err := os.ReadFile(fixtureLog)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "node.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(fixture)
	if err := f.Truncate(int64(len(fixture)) + huge); err != nil { // sparse: costs no disk
		t.Fatal(err)
	}
	f.Seek(0, 2)
	f.Write([]byte("\n"))
	f.Write(fixture)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := reportOf(t, path)
	if want.UnparsedBy[parser.ReasonTooLong] != 1 {
		t.Fatalf("report counted %d lines too long", want.UnparsedBy[parser.ReasonTooLong])
	}
	var outcomes int64
	for _, c := range want.Transfers {
		outcomes += c.Total()
	}
	outcomes += want.NoAction.Total()

	db := openTest(t, filepath.Join(t.TempDir(), "s.db"))
	var res FileResult
	alloc := testutil.Allocated(func() { res = ingest(t, db, "n1", IngestOptions{}, path)[0] })
	if res.Lines != want.Lines || res.TooLong != 1 || res.Events != outcomes || res.To != int64(2*len(fixture)+huge+1) {
		t.Errorf("ingest: %d lines (%d too long), %d events, to %d; report: %d lines, %d outcomes; size %d",
			res.Lines, res.TooLong, res.Events, res.To, want.Lines, outcomes, 2*len(fixture)+huge+1)
	}
	if alloc > 128<<20 {
		t.Errorf("ingesting a %d MiB line allocated %d MiB", huge>>20, alloc>>20)
	}
}
