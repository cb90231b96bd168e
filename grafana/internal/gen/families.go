package gen

import (
	"regexp"
	"sort"
	"strings"
)

var metricName = regexp.MustCompile(`\bstorj_[a-zA-Z0-9_]*[a-zA-Z0-9]`)

// Families returns the metric families an expression reads, sorted and
// unique, with the histogram suffixes _bucket, _sum and _count removed (no
// storj family ends in one of them).
func Families(expr string) []string {
	seen := map[string]bool{}
	for _, m := range metricName.FindAllString(expr, -1) {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if strings.HasSuffix(m, suffix) {
				m = strings.TrimSuffix(m, suffix)
				break
			}
		}
		seen[m] = true
	}
	fs := make([]string, 0, len(seen))
	for f := range seen {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	return fs
}

// Reasons a family can have no series at all on a healthy node.
const (
	whyDebug     = "transfer durations come from DEBUG `started` lines only (piecestore=DEBUG); at the default INFO level the histogram has no series"
	whyHashstore = "exists after the first hashstore compaction line (hashstore nodes only, about once a day per store)"
	whyRetain    = "exists after the first garbage-collection (retain) run, when a satellite sends a bloom filter (a few times a week)"
	whyWalker    = "exists after the first filewalker run (start-up used-space walk, gc and trash-cleanup walks)"
	whyTrash     = "exists after the first trash emptying (about once a day)"
	whyExpired   = "exists after the first expired-piece collection line"
)

// Sparse maps the families that can be absent for hours or days on a
// healthy node (and are absent from the exporter's golden scrape of its
// fixture log and node API) to the reason. A query reading one of them is
// optional: no series is not an error.
var Sparse = map[string]string{
	"storj_transfer_duration_seconds": whyDebug,

	"storj_hashstore_compactions_total":                whyHashstore,
	"storj_hashstore_compaction_seconds_total":         whyHashstore,
	"storj_hashstore_compaction_last_duration_seconds": whyHashstore,
	"storj_hashstore_rewritten_bytes_total":            whyHashstore,
	"storj_hashstore_reclaimed_bytes_total":            whyHashstore,
	"storj_hashstore_log_bytes":                        whyHashstore,
	"storj_hashstore_trash_bytes":                      whyHashstore,
	"storj_hashstore_reclaimable_bytes":                whyHashstore,

	"storj_retain_runs_total":            whyRetain,
	"storj_retain_pieces_trashed_total":  whyRetain,
	"storj_retain_pieces_failed_total":   whyRetain,
	"storj_retain_last_duration_seconds": whyRetain,

	"storj_filewalker_runs_total":            whyWalker,
	"storj_filewalker_last_duration_seconds": whyWalker,
	"storj_filewalker_pieces_trashed_total":  whyWalker,
	"storj_filewalker_used_space_bytes":      whyWalker,

	"storj_trash_empty_runs_total":            whyTrash,
	"storj_trash_empty_last_duration_seconds": whyTrash,

	"storj_expired_collections_total":    whyExpired,
	"storj_expired_pieces_deleted_total": whyExpired,
}

// Optional tells whether an expression may rightly return no series, and
// why: it reads a Sparse family.
func Optional(expr string) (bool, string) {
	var why []string
	seen := map[string]bool{}
	for _, f := range Families(expr) {
		if r, ok := Sparse[f]; ok && !seen[r] {
			seen[r] = true
			why = append(why, f+": "+r)
		}
	}
	return len(why) > 0, strings.Join(why, "; ")
}
