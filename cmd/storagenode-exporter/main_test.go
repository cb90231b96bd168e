package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"github.com/alecthomas/kong"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixture = "../../report/testdata/fixture.log"

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestReportJSON(t *testing.T) {
	t.Parallel()
	code, out, errs := runCLI(t, "", "report", "--format", "json", fixture)
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var got struct {
		Lines     int64
		Transfers map[string]map[string]int64
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Lines != 38 || len(got.Transfers) != 5 || got.Transfers["PUT"]["success_bytes"] != 2355872 {
		t.Errorf("%+v", got)
	}
}

// A missing or unreadable file is named on stderr in one line; the other
// files are still reported; the exit status is 1.
func TestReportBadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.log")
	code, out, errs := runCLI(t, "", "report", "--format", "json", missing, fixture, dir)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], missing) || !strings.Contains(lines[0], "no such file") ||
		!strings.Contains(lines[1], dir) || !strings.Contains(lines[1], "directory") {
		t.Errorf("stderr:\n%s", errs)
	}
	if !strings.Contains(out, `"lines": 38`) {
		t.Errorf("the readable file was not reported:\n%.300s", out)
	}
}

func TestReportStdinAndGzip(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	path := filepath.Join(t.TempDir(), "node.log.2.gz")
	os.WriteFile(path, gz.Bytes(), 0o644)
	// stdin plus the compressed file: the counts add up
	code, out, errs := runCLI(t, string(data), "report", "--format", "json", "-", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, `"lines": 76`) {
		t.Errorf("%.200s", out)
	}
	code, out, _ = runCLI(t, string(data), "report", "-")
	if code != 0 || !strings.Contains(out, "Critically failed:") || !strings.Contains(out, "REPAIR UPLOAD") {
		t.Errorf("text report: exit %d\n%s", code, out)
	}
}

func TestVersionAndUsage(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "storagenode-exporter ") {
		t.Errorf("version: %d %q", code, out)
	}
	if code, _, errs := runCLI(t, "", "report", "--format", "xml", fixture); code != 2 || !strings.Contains(errs, "format") {
		t.Errorf("bad flag: %d %q", code, errs)
	}
}

// --help prints the help and runs nothing.
func TestHelpRunsNothing(t *testing.T) {
	t.Parallel()
	code, out, errs := runCLI(t, "", "serve", "--help")
	if code != 0 || !strings.Contains(out, "--node") || strings.Contains(errs, "no node") {
		t.Errorf("exit %d\nstdout %.200s\nstderr %s", code, out, errs)
	}
	// a comma in a path is part of it: --node values are not split
	var cli CLI
	p, err := kong.New(&cli, kong.Exit(func(int) {}), cliVars())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse([]string{"serve", "--node", "N:/logs/a,b.log", "--node", "M:-"}); err != nil {
		t.Fatal(err)
	}
	if len(cli.Serve.Node) != 2 || cli.Serve.Node[0] != "N:/logs/a,b.log" {
		t.Errorf("nodes %q", cli.Serve.Node)
	}
}
