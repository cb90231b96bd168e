package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A file in which no line is a storagenode log line (garbage, a binary)
// is an error naming it; no report of zeros is printed when nothing was
// read.
func TestReportNoLogLines(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.txt")
	os.WriteFile(garbage, []byte("hello\nthis is not a log\n\n2026-01-01 something else\t{\"a\": 1}\nno newline at the end"), 0o644)
	binary := filepath.Join(dir, "a-binary")
	self, err := os.ReadFile(os.Args[0]) // the test binary
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(binary, self, 0o644)
	for _, path := range []string{garbage, binary} {
		for _, format := range []string{"text", "json"} {
			code, out, errs := runCLI(t, "", "report", "--format", format, path)
			if want := "storagenode-exporter: report: " + path + ": no storagenode log lines found\n"; code != 1 || out != "" || errs != want {
				t.Errorf("%s, %s: exit %d, stdout %.100q\nstderr %q\nwant   %q", filepath.Base(path), format, code, out, errs, want)
			}
		}
	}

	// with a good file: it is reported, the bad one named, the exit status 1
	code, out, errs := runCLI(t, "", "report", "--format", "json", garbage, fixture)
	want := "storagenode-exporter: report: " + garbage + ": no storagenode log lines found\n" +
		"storagenode-exporter: 1 of 2 files could not be read as storagenode logs\n"
	if code != 1 || errs != want || !strings.Contains(out, `"transfers"`) {
		t.Errorf("with a good file: exit %d, stdout %.100q\nstderr %q\nwant   %q", code, out, errs, want)
	}

	// one storagenode line among garbage is a log; an empty file is no error
	mixed := filepath.Join(dir, "mixed.log")
	fixtureData, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(fixtureData), "\n")
	os.WriteFile(mixed, []byte("garbage\n"+first+"\nmore garbage\n"), 0o644)
	empty := filepath.Join(dir, "empty.log")
	os.WriteFile(empty, nil, 0o644)
	for _, path := range []string{mixed, empty} {
		if code, out, errs := runCLI(t, "", "report", path); code != 0 || errs != "" || !strings.Contains(out, "DOWNLOAD") {
			t.Errorf("%s: exit %d, stderr %q\n%.200s", filepath.Base(path), code, errs, out)
		}
	}
}

// A missing file is named, with nothing before it: no report of zeros on
// stdout, no summary line for a single file.
func TestReportMissingFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.log")
	for _, format := range []string{"text", "json"} {
		code, out, errs := runCLI(t, "", "report", "--format", format, missing)
		if want := "storagenode-exporter: report: " + missing + ": open: no such file or directory\n"; code != 1 || out != "" || errs != want {
			t.Errorf("%s: exit %d, stdout %.100q\nstderr %q\nwant   %q", format, code, out, errs, want)
		}
	}
	garbage := filepath.Join(dir, "garbage.txt")
	os.WriteFile(garbage, []byte("not a log\n"), 0o644)
	code, out, errs := runCLI(t, "", "report", missing, garbage)
	want := "storagenode-exporter: report: " + missing + ": open: no such file or directory\n" +
		"storagenode-exporter: report: " + garbage + ": no storagenode log lines found\n" +
		"storagenode-exporter: report: none of the 2 files could be read as a storagenode log\n"
	if code != 1 || out != "" || errs != want {
		t.Errorf("two bad files: exit %d, stdout %.100q\nstderr %q\nwant   %q", code, out, errs, want)
	}
}

// A rotated set is read oldest first whatever the order of the arguments
// (as ingest reads it), so that a DEBUG follow-up at the start of node.log
// of a race-lost cancel at the end of node.log.1 counts once (rule 5).
func TestReportRotatedSetOldestFirst(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const fields = `{"process": "storagenode", "piece_id": "P000000000000000000000000000000000000000000000000005", "satellite_id": "12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S", "action": "GET", "offset": 0, "size": 4096, "remote_address": "198.51.100.9:28967"}`
	os.WriteFile(filepath.Join(dir, "node.log.1"), []byte("2026-09-05T14:00:05Z\tINFO\tpiecestore\tdownload canceled (race lost or node shutdown)\t"+fields+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "node.log"), []byte("2026-09-05T14:00:05Z\tDEBUG\tpiecestore\tdownload canceled\t"+fields+"\n"), 0o644)
	for _, args := range [][]string{{"node.log.1", "node.log"}, {"node.log", "node.log.1"}} {
		code, out, errs := runCLI(t, "", "report", "--format", "json", filepath.Join(dir, args[0]), filepath.Join(dir, args[1]))
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", args, code, errs)
		}
		if !strings.Contains(out, `"GET": {
      "success": 0,
      "canceled": 1,`) {
			t.Errorf("%s: want one canceled download:\n%s", args, out)
		}
	}
}
