package geo

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// DefaultSearchDirs returns the directories searched when Options.SearchDirs
// is nil: where geoipupdate and distribution packages put databases, then
// the working directory.
func DefaultSearchDirs() []string {
	return []string{"/usr/share/GeoIP", "/var/lib/GeoIP", "."}
}

// candidate file names in order of preference. The edition decides first
// (commercial GeoIP2, then GeoLite2, then DB-IP commercial, then DB-IP
// Lite); within an edition the Country database comes before the City one:
// they give the same country answers and the Country file is smaller.
// Patterns use path.Match syntax; when one matches several files in a
// directory (dated DB-IP downloads such as dbip-country-lite-2025-01.mmdb),
// the lexically greatest name, i.e. the newest month, wins.
var candidatePatterns = []string{
	"GeoIP2-Country.mmdb",
	"GeoIP2-City.mmdb",
	"GeoLite2-Country.mmdb",
	"GeoLite2-City.mmdb",
	"dbip-country*.mmdb", // commercial DB-IP; "lite" files are skipped here
	"dbip-country-lite*.mmdb",
	"dbip-city-lite*.mmdb",
}

// candidates lists, best first, the database files found in dirs: for each
// pattern in preference order, each directory in the given order.
func candidates(dirs []string) []string {
	type dirList struct {
		dir   string
		names []string
	}
	listed := make([]dirList, 0, len(dirs))
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			continue // missing or unreadable directory: nothing there
		}
		dl := dirList{dir: d}
		for _, e := range ents {
			if e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0 {
				dl.names = append(dl.names, e.Name())
			}
		}
		listed = append(listed, dl)
	}

	var out []string
	seen := make(map[string]bool)
	for _, pat := range candidatePatterns {
		for _, dl := range listed {
			var matched []string
			for _, n := range dl.names {
				if ok, _ := filepath.Match(pat, n); !ok {
					continue
				}
				if pat == "dbip-country*.mmdb" && strings.HasPrefix(n, "dbip-country-lite") {
					continue
				}
				matched = append(matched, n)
			}
			slices.Sort(matched)
			slices.Reverse(matched)
			for _, n := range matched {
				p := filepath.Join(dl.dir, n)
				if abs, err := filepath.Abs(p); err == nil {
					p = abs
				}
				if !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
			}
		}
	}
	return out
}
