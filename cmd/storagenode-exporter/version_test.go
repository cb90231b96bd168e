package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionFrom(t *testing.T) {
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
		v, r := versionFrom(c.ldflags, c.bi)
		if v != c.wantV || r != c.wantR {
			t.Errorf("%s: versionFrom = %q, %q; want %q, %q", c.name, v, r, c.wantV, c.wantR)
		}
	}
}

// --version prints what the version command prints, exits 0 and runs
// nothing, whatever else the command line says.
func TestVersionFlag(t *testing.T) {
	t.Parallel()
	code, want, errs := runCLI(t, "", "version")
	if code != 0 || errs != "" || !strings.HasPrefix(want, "storagenode-exporter ") || strings.Count(want, "\n") != 1 {
		t.Fatalf("version: exit %d, stdout %q, stderr %q", code, want, errs)
	}
	missing := filepath.Join(t.TempDir(), "missing.log")
	for _, args := range [][]string{
		{"--version"},
		{"serve", "--version", "--node", "N:" + missing, "--web.listen-address", "127.0.0.1:0"},
		{"--version", "--node", "N:" + missing},
		{"report", "--version", missing},
		{"forward", "--version"},
	} {
		code, out, errs := runCLI(t, "", args...)
		if code != 0 || out != want || errs != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 0, %q, nothing", args, code, out, errs, want)
		}
	}
}

// A binary built with `go build` in a git checkout says which commit it
// was built from, never plain "devel".
func TestVersionOfBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	if err := exec.Command("git", "rev-parse", "--git-dir").Run(); err != nil {
		t.Skip("not in a git checkout")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "storagenode-exporter")
	build := exec.Command(goTool, "build", "-buildvcs=true", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOFLAGS=") // -buildvcs=true is go build's default; GOFLAGS may turn it off
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	rev := strings.TrimSpace(string(head))[:12]
	// v0.0.0-20261203075604-f6cf0ed4d4c4[+dirty], or the tag on a tagged commit
	if got := string(out); !strings.HasPrefix(got, "storagenode-exporter v") || !strings.Contains(got, "(revision "+rev+",") {
		t.Errorf("--version of a go build binary: %q; want a version from git and revision %s", got, rev)
	}
}
