package main

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

// get returns the status and body of a GET on the served address.
func (s *served) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(s.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// A log file that does not exist is warned about with its path, is down
// in storj_log_source_up, and says so on the landing page; once it is
// created it is up and read from its start.
func TestServeMissingLogFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "node.log")
	s := startServe(t, nil, "--node", "My-Node:"+path)
	up := `storj_log_source_up{node="My-Node"}`
	testutil.WaitFor(t, "the warning", func() bool {
		return s.stderr.Count("level=WARN") > 0 && s.stderr.Count(path) > 0
	})
	warn := s.stderr.String()
	for l := range strings.Lines(warn) {
		if strings.Contains(l, "level=WARN") && (!strings.Contains(l, "does not exist") || !strings.Contains(l, "path="+path) || !strings.Contains(l, "node=My-Node")) {
			t.Errorf("warning without the path and the node: %s", l)
		}
	}
	if got := s.value(t, up); got != 0 {
		t.Errorf("%s = %v while the file is missing, want 0", up, got)
	}
	if code, body := s.get(t, "/"); code != 200 || !strings.Contains(body, "<li>My-Node: "+path+" — not found, waiting for it</li>") {
		t.Errorf("landing page while the file is missing: %d\n%s", code, body)
	}

	appendLines(t, path, 0, 3)
	s.waitFor(t, up, 1)
	s.waitFor(t, `storj_log_lines_total{node="My-Node"}`, 3) // a file created later is read from its start
	if code, body := s.get(t, "/"); code != 200 || !strings.Contains(body, "<li>My-Node: "+path+" — following</li>") {
		t.Errorf("landing page once the file exists: %d\n%s", code, body)
	}
	if n := s.stderr.Count("level=WARN"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, s.stderr.String())
	}
}

// A log file that cannot be read is warned about with its path, down, and
// named on the landing page until it can be read. (Root reads anything.)
func TestServeUnreadableLogFile(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root can read a file without read permission")
	}
	path := filepath.Join(t.TempDir(), "node.log")
	appendLines(t, path, 0, 2)
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, nil, "--node", "N:"+path, "--from-beginning")
	up := `storj_log_source_up{node="N"}`
	testutil.WaitFor(t, "the warning", func() bool { return s.stderr.Count("permission denied") > 0 })
	if n := s.stderr.Count("level=WARN"); n != 1 || s.stderr.Count("path="+path) == 0 {
		t.Errorf("warnings:\n%s", s.stderr.String())
	}
	if got := s.value(t, up); got != 0 {
		t.Errorf("%s = %v while the file is unreadable, want 0", up, got)
	}
	if _, body := s.get(t, "/"); !strings.Contains(body, "<li>N: "+path+" — permission denied, retrying") {
		t.Errorf("landing page:\n%s", body)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, up, 1)
	s.waitFor(t, `storj_log_lines_total{node="N"}`, 2)
}

var href = regexp.MustCompile(`href="([^"]*)"`)

// The landing page links what is served and nothing else: every local link
// answers 200, and the metrics link follows --web.telemetry-path.
func TestLandingLinks(t *testing.T) {
	t.Parallel()
	log := filepath.Join(t.TempDir(), "node.log")
	appendLines(t, log, 0, 1)
	for _, c := range []struct {
		args []string
		want []string // the local links
	}{
		{nil, []string{"/metrics", "/healthz"}},
		{[]string{"--web.telemetry-path", "/custom/prom"}, []string{"/custom/prom", "/healthz"}},
	} {
		s := startServe(t, nil, append([]string{"--node", "N:" + log}, c.args...)...)
		code, body := s.get(t, "/")
		if code != 200 {
			t.Fatalf("/: %d", code)
		}
		base, _ := url.Parse(s.url + "/")
		var local []string
		for _, m := range href.FindAllStringSubmatch(body, -1) {
			u, err := base.Parse(m[1])
			if err != nil {
				t.Errorf("link %q: %v", m[1], err)
				continue
			}
			if u.Host != base.Host {
				continue // external (the data licence)
			}
			local = append(local, u.Path)
			if code, _ := s.get(t, u.RequestURI()); code != 200 {
				t.Errorf("%v: link %q answers %d", c.args, m[1], code)
			}
		}
		if !slices.Equal(local, c.want) {
			t.Errorf("%v: local links %q, want %q", c.args, local, c.want)
		}
		if code, _ := s.get(t, "/debug/pprof/heap"); code != 404 {
			t.Errorf("/debug/pprof/heap answers %d", code)
		}
	}
}
