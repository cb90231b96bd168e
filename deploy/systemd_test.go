//go:build unix

package deploy_test

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

const unitFile = "storagenode-exporter.service"

// unitDirectives reads the unit file's [Service] section: each key with
// its values in order.
func unitDirectives(t *testing.T) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	section := ""
	for l := range strings.Lines(string(data)) {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";"):
		case strings.HasPrefix(l, "["):
			section = l
		case section == "[Service]":
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				t.Fatalf("%s: not KEY=VALUE in [Service]: %q", unitFile, l)
			}
			keys[k] = append(keys[k], v)
		}
	}
	return keys
}

// execStart returns the unit's command line as words. It has no quoting,
// variables or prefixes (-, @, +, ! would change how systemd runs it, and
// this test could not honour them).
func execStart(t *testing.T) []string {
	t.Helper()
	v := unitDirectives(t)["ExecStart"]
	if len(v) != 1 {
		t.Fatalf("%s: %d ExecStart=, want 1", unitFile, len(v))
	}
	if strings.ContainsAny(v[0], `"'$%\`) || strings.ContainsAny(v[0][:1], "-@+!:|") {
		t.Fatalf("%s: ExecStart=%s: quoting, variables or prefixes this test cannot run", unitFile, v[0])
	}
	return strings.Fields(v[0])
}

// buildExporter builds the command into dir.
func buildExporter(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "storagenode-exporter")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/storagenode-exporter").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// The unit keeps its protections and gives the exporter a state directory
// of its own, private to it.
func TestSystemdUnitDirectives(t *testing.T) {
	keys := unitDirectives(t)
	for k, want := range map[string]string{
		"DynamicUser": "yes", "StateDirectory": "storagenode-exporter", "StateDirectoryMode": "0700",
		"ProtectSystem": "strict", "ProtectHome": "read-only", "UMask": "0077", "PrivateTmp": "yes",
		"PrivateDevices": "yes", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "MemoryDenyWriteExecute": "yes",
		"ProtectKernelTunables": "yes", "ProtectControlGroups": "yes", "ProtectProc": "invisible",
	} {
		if got := keys[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	if got := keys["SystemCallFilter"]; !slices.Equal(got, []string{"@system-service", "~@privileged"}) {
		t.Errorf("SystemCallFilter=%q", got)
	}
	for _, k := range []string{"ReadWritePaths", "CacheDirectory", "LogsDirectory", "RuntimeDirectory"} {
		if len(keys[k]) > 0 {
			t.Errorf("%s=%q: the exporter writes only its state directory", k, keys[k])
		}
	}
	data, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "writes nothing") {
		t.Errorf("%s says the exporter writes nothing; it writes its database", unitFile)
	}
}

// systemd-analyze verify finds nothing to say about the unit (on a copy
// whose ExecStart names a binary that exists). Skipped without
// systemd-analyze, even in CI.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	dir := t.TempDir()
	bin := buildExporter(t, dir)
	data, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	words := execStart(t)
	copied := strings.Replace(string(data), "ExecStart="+words[0]+" ", "ExecStart="+bin+" ", 1)
	if copied == string(data) {
		t.Fatal("ExecStart not replaced")
	}
	unit := filepath.Join(dir, unitFile) // the unit's name is the file's
	if err := os.WriteFile(unit, []byte(copied), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// exampleConfig is deploy/config.example.yml with its first node's log and
// its listen address changed, and nothing else.
func exampleConfig(t *testing.T, log, listen string) []byte {
	t.Helper()
	data, err := os.ReadFile("config.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	get := func(m *yaml.Node, key string) *yaml.Node {
		for i := 0; m.Kind == yaml.MappingNode && i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == key {
				return m.Content[i+1]
			}
		}
		t.Fatalf("config.example.yml: no %q", key)
		return nil
	}
	root := doc.Content[0]
	nodes := get(root, "nodes")
	if nodes.Kind != yaml.SequenceNode || len(nodes.Content) == 0 {
		t.Fatal("config.example.yml: no nodes")
	}
	get(nodes.Content[0], "log").Value = log
	get(get(root, "web"), "listen-address").Value = listen
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The unit's command line, run as systemd runs it: an unprivileged user
// (nobody when the test runs as root, else the test's own user), working
// directory /, STATE_DIRECTORY set to a directory that user owns, with the
// example configuration (its node's log and listen address changed). It
// serves /metrics, counts a line appended to the log, and keeps its
// database in the state directory, not in /.
func TestSystemdExecStartRuns(t *testing.T) {
	words := execStart(t)
	// a directory every user can read: the binary, the log, the configuration
	dir, err := os.MkdirTemp("", "systemd-unit-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := buildExporter(t, dir)
	log := filepath.Join(dir, "node.log")
	testutil.AppendFile(t, log, "")
	config := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(config, exampleConfig(t, log, "127.0.0.1:0"), 0o644); err != nil {
		t.Fatal(err)
	}
	uid, gid := os.Getuid(), os.Getgid()
	var cred *syscall.Credential
	if uid == 0 {
		uid, gid = 65534, 65534 // nobody, nogroup
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}
	}
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(state, uid, gid); err != nil {
		t.Fatal(err)
	}

	args := slices.Clone(words[1:])
	replaced := false
	for i, w := range args {
		if w == "--config" && i+1 < len(args) {
			args[i+1], replaced = config, true
		} else if strings.HasPrefix(w, "--config=") {
			args[i], replaced = "--config="+config, true
		}
	}
	if !replaced {
		t.Fatalf("ExecStart=%s gives no --config", strings.Join(words, " "))
	}
	rootBefore := rootEntries(t)
	cmd := exec.Command(bin, args...)
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/", "STATE_DIRECTORY=" + state}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	stderr := &testutil.SyncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cmd.Process.Kill()
			<-exited
		}
	})
	running := func() bool {
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("the exporter exited: %v\n%s", err, stderr.String())
		default:
		}
		return true
	}

	serving := regexp.MustCompile(`msg=serving address=(\S+)`)
	var url string
	testutil.WaitFor(t, "the exporter to listen", func() bool {
		m := serving.FindStringSubmatch(stderr.String())
		if m != nil {
			url = "http://" + m[1] + "/metrics"
		}
		return running() && m != nil
	})
	scrape := func(name string, labels ...string) (float64, bool) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", url, resp.Status)
		}
		sum, found := 0.0, false
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
	lines:
		for sc.Scan() {
			l := sc.Text()
			if !strings.HasPrefix(l, name+"{") && !strings.HasPrefix(l, name+" ") {
				continue
			}
			for _, lbl := range labels {
				if !strings.Contains(l, lbl) {
					continue lines
				}
			}
			v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
			if err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			sum, found = sum+v, true
		}
		return sum, found
	}
	node := `node="My-Node"` // the example's node
	testutil.WaitFor(t, "the log source to be up", func() bool {
		v, _ := scrape("storj_log_source_up", node)
		return running() && v == 1
	})
	testutil.AppendFile(t, log, downloadedLine(t)+"\n")
	testutil.WaitFor(t, "the appended download in storj_transfers_total", func() bool {
		v, _ := scrape("storj_transfers_total", node, `action="GET"`, `result="success"`)
		return running() && v == 1
	})

	db := filepath.Join(state, "storagenode-exporter.db")
	st, err := os.Stat(db)
	if err != nil {
		t.Fatalf("no database in the state directory: %v\n%s", err, stderr.String())
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != uid {
		t.Errorf("%s: owner %d, want %d", db, sys.Uid, uid)
	}
	if want := `msg="raw-event sink" db=` + db + ` from=$STATE_DIRECTORY`; !strings.Contains(stderr.String(), want) {
		t.Errorf("no %s in the exporter's log:\n%s", want, stderr.String())
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(testutil.Timeout):
		t.Fatalf("the exporter did not stop on SIGTERM:\n%s", stderr.String())
	}
	for _, name := range rootEntries(t) {
		if !slices.Contains(rootBefore, name) && strings.HasPrefix(name, "storagenode-exporter") {
			t.Errorf("the exporter wrote /%s", name)
		}
	}
}

// rootEntries lists /.
func rootEntries(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// downloadedLine returns a successful download of the repository's sample
// log (testdata/logs/seed-sample.log).
func downloadedLine(t *testing.T) string {
	t.Helper()
	f, err := os.Open("../testdata/logs/seed-sample.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "\tdownloaded\t") && strings.Contains(sc.Text(), `"Action": "GET"`) {
			return sc.Text()
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	t.Fatalf("no download in %s", f.Name())
	return ""
}
