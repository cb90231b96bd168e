package logfile_test

import (
	"slices"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
)

func TestSortRotated(t *testing.T) {
	t.Parallel()
	got := logfile.SortRotated([]string{"a/node.log", "a/node.log.1", "a/node.log.10.gz", "a/node.log.2.gz", "b/other.log", "a/node.log-20250102.gz", "a/node.log-20250101"})
	want := []string{"a/node.log-20250101", "a/node.log-20250102.gz", "a/node.log.10.gz", "a/node.log.2.gz", "a/node.log.1", "a/node.log", "b/other.log"}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
