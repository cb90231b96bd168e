package main

import (
	"fmt"

	promversion "github.com/prometheus/common/version"

	"github.com/storagenode-exporter/storagenode-exporter/internal/buildinfo"
)

// Set by the linker: -ldflags "-X main.version=v0.1.0".
var version = ""

// storj_exporter_build_info reads the version from prometheus/common's
// version package; it is set once, before any command runs.
func init() {
	promversion.Version, promversion.Revision = buildinfo.Get(version)
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
func versionLine() string { return buildinfo.Line(version) }
