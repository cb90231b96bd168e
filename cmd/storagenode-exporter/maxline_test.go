package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --max-line-length is checked by every command that reads a log, and the
// configuration file's max-line-length alike, before anything runs.
func TestMaxLineLengthBounds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	os.WriteFile(log, nil, 0o644)
	for _, args := range [][]string{
		{"--node", "A:" + log, "--db", ""},
		{"forward", log},
		{"report", log},
		{"ingest", "--db", filepath.Join(dir, "e.db"), "A:" + log},
	} {
		for _, v := range []string{"4095", "1073741825", "9223372036854775807"} {
			code, _, stderr := runCLI(t, "", append(args, "--max-line-length", v)...)
			if code != 2 || !strings.Contains(stderr, "--max-line-length: "+v+" bytes is outside 4096 (4 KiB) to 1073741824 (1 GiB)") {
				t.Errorf("%s --max-line-length %s: exit %d, %q", args[0], v, code, stderr)
			}
		}
	}
	for value, want := range map[string]string{
		"100":  `config.yml:2: key "max-line-length": 100 bytes is outside 4096 (4 KiB) to 1073741824 (1 GiB)`,
		"1MiB": `config.yml:2: key "max-line-length": "1MiB" is not a whole number of bytes`,
	} {
		cfg := filepath.Join(t.TempDir(), "config.yml")
		os.WriteFile(cfg, []byte("nodes: [{name: A, log: "+log+"}]\nmax-line-length: "+value+"\n"), 0o644)
		if code, _, stderr := runCLI(t, "", "--config", cfg, "--db", ""); code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("max-line-length: %s: exit %d, %q", value, code, stderr)
		}
	}
}

// The limit reaches report's reader and serve's (from the configuration
// file): a line of 5,000 bytes is too long under 4096, not by default.
func TestMaxLineLengthApplies(t *testing.T) {
	t.Parallel()
	log := filepath.Join(t.TempDir(), "node.log")
	data, err := os.ReadFile("../../report/testdata/fixture.log")
	if err != nil {
		t.Fatal(err)
	}
	long := "2025-01-01T00:00:00Z\tINFO\tpiecestore\tuploaded\t{\"x\": \"" + strings.Repeat("x", 5000) + "\"}\n"
	os.WriteFile(log, append([]byte(long), data...), 0o644)
	for limit, want := range map[string]float64{"": 0, "4096": 1} {
		args := []string{"report", "--format", "json", log}
		if limit != "" {
			args = append(args, "--max-line-length", limit)
		}
		code, out, stderr := runCLI(t, "", args...)
		var r struct {
			Lines    float64            `json:"lines"`
			Unparsed map[string]float64 `json:"unparsed_by_reason"`
		}
		if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil || r.Unparsed["too_long"] != want || r.Lines != 39 {
			t.Errorf("report --max-line-length %q: exit %d, %v, %d lines, too long %v (%s)", limit, code, err, int(r.Lines), r.Unparsed["too_long"], stderr)
		}
	}
	cfg := filepath.Join(t.TempDir(), "config.yml")
	os.WriteFile(cfg, []byte("nodes: [{name: A, log: "+log+"}]\nmax-line-length: 4096\nfrom-beginning: true\n"), 0o644)
	s := startServe(t, nil, "--config", cfg, "--db", "", "--no-nodeapi.discover")
	s.waitFor(t, `storj_log_lines_total{node="A"}`, 39)
	if got := s.value(t, `storj_log_lines_unparsed_total{node="A", reason="too_long"}`); got != 1 {
		t.Errorf("serve with max-line-length: 4096 in its configuration counts %v lines too long", got)
	}
}
