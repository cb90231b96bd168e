package logfile

import (
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var (
	numbered = regexp.MustCompile(`^(.*)\.(\d+)$`)                           // node.log.1
	dated    = regexp.MustCompile(`^(.*)-(\d{8}|\d{4}-\d{2}-\d{2})(-\d+)?$`) // node.log-20250101 (logrotate dateext)
)

// rotation is where a file stands in its rotated set.
type rotation struct {
	group string // directory and base name: node.log for node.log.2.gz
	rank  int    // 0 dated, 1 numbered, 2 the live file
	date  string
	num   int
}

func rotationOf(path string) rotation {
	dir, name := filepath.Split(path)
	name = strings.TrimSuffix(name, ".gz")
	if m := numbered.FindStringSubmatch(name); m != nil {
		n, _ := strconv.Atoi(m[2])
		return rotation{group: dir + m[1], rank: 1, num: n}
	}
	if m := dated.FindStringSubmatch(name); m != nil {
		return rotation{group: dir + m[1], rank: 0, date: m[2] + m[3]}
	}
	return rotation{group: dir + name, rank: 2}
}

// SortRotated orders the files of rotated sets oldest first, as an
// Ingester wants them: node.log.3.gz, node.log.2, node.log.1, node.log
// (numbered by logrotate, the highest number the oldest), and
// node.log-20250101.gz before node.log-20250102 (dateext). Sets keep the
// order in which they first appear; files that belong to no set keep their
// place.
func SortRotated(paths []string) []string {
	first := map[string]int{}
	rot := make([]rotation, len(paths))
	for i, p := range paths {
		rot[i] = rotationOf(p)
		if _, ok := first[rot[i].group]; !ok {
			first[rot[i].group] = i
		}
	}
	idx := make([]int, len(paths))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		x, y := rot[idx[a]], rot[idx[b]]
		if x.group != y.group {
			return first[x.group] < first[y.group]
		}
		if x.rank != y.rank {
			return x.rank < y.rank
		}
		if x.date != y.date {
			return x.date < y.date
		}
		return x.num > y.num
	})
	out := make([]string, len(paths))
	for i, j := range idx {
		out[i] = paths[j]
	}
	return out
}
