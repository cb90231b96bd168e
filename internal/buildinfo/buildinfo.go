// Package buildinfo tells the version and revision a binary was built
// from, for the version command, --version and storj_exporter_build_info.
package buildinfo

import (
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
)

// Line is what the version command and --version print, with ldflags the
// linker's version (cmd's main.version, "" when not set).
func Line(ldflags string) string {
	v, rev := Get(ldflags)
	return fmt.Sprintf("storagenode-exporter %s (revision %s, %s, %s/%s)", v, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// Get returns the version and VCS revision of this binary (see From).
func Get(ldflags string) (v, revision string) {
	bi, _ := debug.ReadBuildInfo()
	return From(ldflags, bi)
}

// pseudoRevision finds the revision in a pseudo-version such as
// v0.0.0-20261203075604-f6cf0ed4d4c4+dirty.
var pseudoRevision = regexp.MustCompile(`(?:^|[.-])\d{14}-([0-9a-f]{12})(?:\+.*)?$`)

// From derives the version and the (12-digit) revision from the
// linker's version (set with -ldflags, wins when set) and the build
// information (bi may be nil).
//
// `go build` and `go install` in a git checkout stamp the main module's
// version from git as a pseudo-version (v0.0.0-20261203075604-f6cf0ed4d4c4,
// with +dirty when the tree has changes; a tagged commit gives the tag), and
// record vcs.revision and vcs.modified. `go install module@version` records
// the version only. `go run`, test binaries and -buildvcs=false record
// "(devel)" and no revision: the version is then "devel", or
// "devel-REVISION[+dirty]" when a revision is known nonetheless.
func From(ldflags string, bi *debug.BuildInfo) (v, revision string) {
	v, revision = ldflags, ""
	modified := false
	if bi != nil {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		if m := pseudoRevision.FindStringSubmatch(bi.Main.Version); revision == "" && m != nil {
			revision = m[1]
		}
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	if v == "" {
		v = "devel"
		if revision != "" {
			v += "-" + revision
			if modified {
				v += "+dirty"
			}
		}
	}
	if revision == "" {
		revision = "unknown"
	}
	return v, revision
}
