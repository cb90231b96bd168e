package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

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
