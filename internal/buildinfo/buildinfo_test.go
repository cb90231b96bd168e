package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFrom(t *testing.T) {
	t.Parallel()
	const rev = "f6cf0ed4d4c46822d56d9f595ac3c045a0e25eb9"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: "2026-12-03T07:56:04Z"}, {Key: "vcs.modified", Value: modified}}
	}
	info := func(version string, settings []debug.BuildSetting) *debug.BuildInfo {
		bi := &debug.BuildInfo{Settings: settings}
		bi.Main.Path = "github.com/storagenode-exporter/storagenode-exporter"
		bi.Main.Version = version
		return bi
	}
	for _, c := range []struct {
		name         string
		ldflags      string
		bi           *debug.BuildInfo
		wantV, wantR string
	}{
		{"go build, clean tree", "", info("v0.0.0-20261203075604-f6cf0ed4d4c4", vcs("false")),
			"v0.0.0-20261203075604-f6cf0ed4d4c4", "f6cf0ed4d4c4"},
		{"go build, changed tree", "", info("v0.0.0-20261203075604-f6cf0ed4d4c4+dirty", vcs("true")),
			"v0.0.0-20261203075604-f6cf0ed4d4c4+dirty", "f6cf0ed4d4c4"},
		{"go build on a tag", "", info("v1.2.3", vcs("false")), "v1.2.3", "f6cf0ed4d4c4"},
		{"go build after a tag", "", info("v1.2.4-0.20261203075604-f6cf0ed4d4c4", vcs("false")),
			"v1.2.4-0.20261203075604-f6cf0ed4d4c4", "f6cf0ed4d4c4"},
		{"go install module@version", "", info("v1.2.3", nil), "v1.2.3", "unknown"},
		{"go install module@commit", "", info("v0.0.0-20261203075604-f6cf0ed4d4c4", nil),
			"v0.0.0-20261203075604-f6cf0ed4d4c4", "f6cf0ed4d4c4"},
		{"(devel) with a revision", "", info("(devel)", vcs("true")), "devel-f6cf0ed4d4c4+dirty", "f6cf0ed4d4c4"},
		{"(devel) with a clean revision", "", info("(devel)", vcs("false")), "devel-f6cf0ed4d4c4", "f6cf0ed4d4c4"},
		{"go run, go test, -buildvcs=false", "", info("(devel)", nil), "devel", "unknown"},
		{"no build information", "", nil, "devel", "unknown"},
		{"-ldflags -X main.version", "v0.9.0", info("v0.0.0-20261203075604-f6cf0ed4d4c4+dirty", vcs("true")),
			"v0.9.0", "f6cf0ed4d4c4"},
	} {
		v, r := From(c.ldflags, c.bi)
		if v != c.wantV || r != c.wantR {
			t.Errorf("%s: From = %q, %q; want %q, %q", c.name, v, r, c.wantV, c.wantR)
		}
	}
}
