package main

import (
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"

	promversion "github.com/prometheus/common/version"
)

// Set by the linker: -ldflags "-X main.version=v0.1.0".
var version = ""

// storj_exporter_build_info reads the version from prometheus/common's
// version package; it is set once, before any command runs.
func init() {
	promversion.Version, promversion.Revision = buildVersion()
	promversion.Branch = ""
}

// VersionCmd prints build information.
type VersionCmd struct{}

// Run prints the version, the revision and the Go version.
func (VersionCmd) Run(env *Env) error {
	fmt.Fprintln(env.Stdout, versionLine())
	return nil
}

// versionLine is what the version command and --version print.
func versionLine() string {
	v, rev := buildVersion()
	return fmt.Sprintf("storagenode-exporter %s (revision %s, %s, %s/%s)", v, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// buildVersion returns the version and VCS revision the binary was built from.
func buildVersion() (v, revision string) {
	bi, _ := debug.ReadBuildInfo()
	return versionFrom(version, bi)
}

// pseudoRevision finds the revision in a pseudo-version such as
// v0.0.0-20261203075604-f6cf0ed4d4c4+dirty.
var pseudoRevision = regexp.MustCompile(`(?:^|[.-])\d{14}-([0-9a-f]{12})(?:\+.*)?$`)

// versionFrom derives the version and the (12-digit) revision from the
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
func versionFrom(ldflags string, bi *debug.BuildInfo) (v, revision string) {
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
