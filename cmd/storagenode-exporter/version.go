package main

import (
	"fmt"
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
	v, rev := buildVersion()
	fmt.Fprintf(env.Stdout, "storagenode-exporter %s (revision %s, %s, %s/%s)\n", v, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// buildVersion returns the version and VCS revision the binary was built from.
func buildVersion() (v, revision string) {
	v, revision = version, "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
				if len(revision) > 12 {
					revision = revision[:12]
				}
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	return v, revision
}
