package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The command line names every problem on a line of its own, exits 2 and
// runs nothing; a missing file is named.
func TestConfigErrorsCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yml")
	os.WriteFile(path, []byte("nodes:\n  - name: A\n    log: /x\nweb:\n  listen-adress: \":1\"\nnodeapi: {timeout: fast}\n"), 0o644)
	code, out, errs := runCLI(t, "", "--config", path)
	want := "storagenode-exporter: " + path + `:5: unknown key "listen-adress" under web (did you mean "listen-address"?)` + "\n" +
		"storagenode-exporter: " + path + `:6: key "timeout" under nodeapi: "fast" is not a duration` + "\n"
	if code != 2 || out != "" || errs != want {
		t.Errorf("exit %d, stdout %q\nstderr %q\nwant   %q", code, out, errs, want)
	}
	missing := filepath.Join(dir, "missing.yml")
	code, out, errs = runCLI(t, "", "serve", "--config="+missing)
	want = "storagenode-exporter: " + missing + ": cannot read the configuration file: no such file or directory\n"
	if code != 2 || out != "" || errs != want {
		t.Errorf("missing file: exit %d, stdout %q\nstderr %q\nwant   %q", code, out, errs, want)
	}
}
