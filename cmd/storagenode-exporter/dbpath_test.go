package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/config"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

// stateEnv sets the variables the default database depends on ("" unsets
// them for the program) and makes a fresh empty working directory, which
// is returned.
func stateEnv(t *testing.T, stateDirectory, xdg, home string) string {
	t.Helper()
	t.Setenv("STATE_DIRECTORY", stateDirectory)
	t.Setenv("XDG_STATE_HOME", xdg)
	t.Setenv("HOME", home)
	cwd := t.TempDir()
	t.Chdir(cwd)
	return cwd
}

// serveNoDB runs serve in-process with args and no --db of its own. It
// returns the exit status when serve ends by itself, else stops it once it
// listens and returns that status; and serve's stderr.
func serveNoDB(t *testing.T, args ...string) (code int, stderr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	listening := make(chan net.Addr, 1)
	errb := &testutil.SyncBuffer{}
	done := make(chan int, 1)
	args = append([]string{"--web.listen-address", "127.0.0.1:0", "--geoip.database", absGeoDB, "--no-nodeapi.discover"}, args...)
	go func() { done <- runWith(args, strings.NewReader(""), io.Discard, errb, listening, ctx) }()
	select {
	case code = <-done:
		return code, errb.String()
	case <-listening:
	case <-time.After(testutil.Timeout):
		t.Fatalf("serve did not listen: %s", errb.String())
	}
	cancel()
	select {
	case code = <-done:
	case <-time.After(testutil.Timeout):
		t.Fatalf("serve did not stop: %s", errb.String())
	}
	return code, errb.String()
}

// The fixtures' absolute paths, for the tests that change the working
// directory (taken when the test binary starts in the package's folder).
var absGeoDB, absFixture = mustAbs(testGeoDB), mustAbs(fixture)

func mustAbs(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		panic(err)
	}
	return abs
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s was written in the working directory %s", e.Name(), dir)
	}
}

// Without --db, serve keeps its database under XDG_STATE_HOME (a directory
// of its own, 0700), says so in one INFO line, and writes nothing in its
// working directory; ingest without --db adds to that database and report
// without arguments reads it.
func TestSinkDefaultLocation(t *testing.T) {
	state := t.TempDir()
	cwd := stateEnv(t, "", state, filepath.Join(state, "no-home"))
	fixture := absFixture
	dir := filepath.Join(state, "storagenode-exporter")
	db := filepath.Join(dir, "storagenode-exporter.db")
	log := filepath.Join(t.TempDir(), "node.log")
	testutil.AppendFile(t, log, "")

	code, errs := serveNoDB(t, "--node", "N:"+log)
	if code != 0 {
		t.Fatalf("serve: exit %d\n%s", code, errs)
	}
	if want := `msg="raw-event sink" db=` + db + ` from=$XDG_STATE_HOME`; strings.Count(errs, want) != 1 {
		t.Errorf("serve's log lacks one line %s:\n%s", want, errs)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("%s: %v, want a directory of mode 0700 (%v)", dir, st, err)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(state, "no-home")); err == nil {
		t.Error("HOME was used although XDG_STATE_HOME is set")
	}

	code, out, errs := runCLI(t, "", "ingest", "--progress", "none", "N:"+fixture)
	if code != 0 || !strings.Contains(out, " into "+db) || !strings.Contains(errs, "from=$XDG_STATE_HOME") {
		t.Fatalf("ingest: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = runCLI(t, "", "report", "--format", "json")
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, errs)
	}
	var fromDB struct {
		Summary struct {
			Transfers map[string]map[string]int64 `json:"transfers"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &fromDB); err != nil {
		t.Fatalf("report without arguments: %v\n%s", err, out)
	}
	_, out, _ = runCLI(t, "", "report", "--format", "json", fixture)
	var fromLog struct {
		Transfers map[string]map[string]int64 `json:"transfers"`
	}
	if err := json.Unmarshal([]byte(out), &fromLog); err != nil || len(fromLog.Transfers) == 0 {
		t.Fatalf("report %s: %v\n%s", fixture, err, out)
	}
	for act, c := range fromLog.Transfers {
		for k, v := range c {
			if got := fromDB.Summary.Transfers[act][k]; got != v {
				t.Errorf("%s %s: the default database has %d, the log %d", act, k, got, v)
			}
		}
	}
	assertEmptyDir(t, cwd)
}

// STATE_DIRECTORY (systemd's StateDirectory=, the image's /data) comes
// first, and of several directories the first; a --db or a db: in the
// configuration file wins over every default, and an empty one turns the
// sink off.
func TestSinkDefaultStateDirectory(t *testing.T) {
	tmp := t.TempDir()
	first, second := filepath.Join(tmp, "first"), filepath.Join(tmp, "second")
	cwd := stateEnv(t, first+":"+second, filepath.Join(tmp, "xdg"), filepath.Join(tmp, "home"))
	log := filepath.Join(tmp, "node.log")
	testutil.AppendFile(t, log, "")
	cfgFile := filepath.Join(tmp, "config.yml")
	os.WriteFile(cfgFile, []byte("nodes: [{name: N, log: "+log+"}]\ndb: "+filepath.Join(tmp, "from-config.db")+"\n"), 0o644)
	empty := filepath.Join(tmp, "empty.yml")
	os.WriteFile(empty, []byte("nodes: [{name: N, log: "+log+"}]\ndb: \"\"\n"), 0o644)

	for _, c := range []struct {
		args       []string
		db, from   string // db "": no sink
		notCreated []string
	}{
		{[]string{"--node", "N:" + log}, filepath.Join(first, config.DBFile), "$STATE_DIRECTORY", []string{second, filepath.Join(tmp, "xdg"), filepath.Join(tmp, "home")}},
		{[]string{"--config", cfgFile}, filepath.Join(tmp, "from-config.db"), "db: in " + cfgFile, nil},
		{[]string{"--config", cfgFile, "--db", filepath.Join(tmp, "flag.db")}, filepath.Join(tmp, "flag.db"), "--db", []string{filepath.Join(tmp, "from-config.db")}},
		{[]string{"--config", empty}, "", "", nil},
		{[]string{"--node", "N:" + log, "--db", ""}, "", "", nil},
	} {
		for _, p := range []string{first, filepath.Join(tmp, "from-config.db"), filepath.Join(tmp, "flag.db")} {
			os.RemoveAll(p)
		}
		code, errs := serveNoDB(t, c.args...)
		if code != 0 {
			t.Errorf("%q: exit %d\n%s", c.args, code, errs)
			continue
		}
		if c.db == "" {
			if strings.Contains(errs, "raw-event sink") {
				t.Errorf("%q: the sink is on:\n%s", c.args, errs)
			}
			if _, err := os.Stat(first); err == nil {
				t.Errorf("%q: the default directory was created", c.args)
			}
			continue
		}
		from := c.from
		if strings.Contains(from, " ") {
			from = strconv.Quote(from)
		}
		if want := `msg="raw-event sink" db=` + c.db + ` from=` + from; !strings.Contains(errs, want) {
			t.Errorf("%q: no %s in the log:\n%s", c.args, want, errs)
		}
		if _, err := os.Stat(c.db); err != nil {
			t.Errorf("%q: %v", c.args, err)
		}
		for _, p := range c.notCreated {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("%q: %s was created", c.args, p)
			}
		}
	}
	assertEmptyDir(t, cwd)
}

// When the default directory cannot be made, serve and ingest exit 1 with
// an error that names it and says what moves it; report names the database
// it did not find.
func TestSinkDefaultUnwritable(t *testing.T) {
	fixture := absFixture
	tmp := t.TempDir()
	file := filepath.Join(tmp, "a-file")
	testutil.AppendFile(t, file, "not a directory")
	log := filepath.Join(tmp, "node.log")
	testutil.AppendFile(t, log, "")
	for _, c := range []struct {
		stateDirectory, xdg, home string
		dir                       string // the directory that cannot be made
		names                     []string
	}{
		{filepath.Join(file, "state"), "", "", filepath.Join(file, "state"), []string{"STATE_DIRECTORY", "$STATE_DIRECTORY"}},
		{"", "", file, filepath.Join(file, ".local", "state", "storagenode-exporter"), []string{"XDG_STATE_HOME", "from $HOME:"}},
	} {
		cwd := stateEnv(t, c.stateDirectory, c.xdg, c.home)
		code, errs := serveNoDB(t, "--node", "N:"+log)
		for _, want := range append(c.names, "cannot create the directory "+c.dir, "--db PATH", `--db "" turns the sink off`) {
			if code != 1 || !strings.Contains(errs, want) {
				t.Errorf("serve with the default in %s: exit %d, want 1 and %q in:\n%s", c.dir, code, want, errs)
			}
		}
		code, _, errs = runCLI(t, "", "ingest", "--progress", "none", "N:"+fixture)
		if code != 1 || !strings.Contains(errs, "cannot create the directory "+c.dir) || !strings.Contains(errs, "--db PATH") || strings.Contains(errs, `--db ""`) {
			t.Errorf("ingest with the default in %s: exit %d\n%s", c.dir, code, errs)
		}
		code, _, errs = runCLI(t, "", "report")
		if code != 1 || !strings.Contains(errs, "no database at "+filepath.Join(c.dir, config.DBFile)) || !strings.Contains(errs, "--db PATH") {
			t.Errorf("report with the default in %s: exit %d\n%s", c.dir, code, errs)
		}
		assertEmptyDir(t, cwd)
	}

	// no variable at all
	stateEnv(t, "", "", "")
	code, errs := serveNoDB(t, "--node", "N:"+log)
	if code != 1 || !strings.Contains(errs, "neither STATE_DIRECTORY, XDG_STATE_HOME nor HOME is set") || !strings.Contains(errs, "--db PATH") {
		t.Errorf("serve without HOME: exit %d\n%s", code, errs)
	}
}
