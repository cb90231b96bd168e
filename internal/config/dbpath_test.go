package config

import (
	"path/filepath"
	"strings"
	"testing"
)

// The default database follows STATE_DIRECTORY (its first directory), then
// XDG_STATE_HOME (absolute only, as the XDG specification says), then HOME;
// LocalAppData on Windows.
func TestDefaultDB(t *testing.T) {
	t.Parallel()
	const unix, windows = "linux", "windows"
	for _, c := range []struct {
		goos string
		env  map[string]string
		want string // "" for an error
		from string
	}{
		{unix, map[string]string{"STATE_DIRECTORY": "/var/lib/storagenode-exporter:/var/lib/other", "XDG_STATE_HOME": "/x", "HOME": "/home/u"},
			"/var/lib/storagenode-exporter/storagenode-exporter.db", "$STATE_DIRECTORY"},
		{unix, map[string]string{"STATE_DIRECTORY": "/data"}, "/data/storagenode-exporter.db", "$STATE_DIRECTORY"},
		{unix, map[string]string{"XDG_STATE_HOME": "/x", "HOME": "/home/u"}, "/x/storagenode-exporter/storagenode-exporter.db", "$XDG_STATE_HOME"},
		{unix, map[string]string{"XDG_STATE_HOME": "relative", "HOME": "/home/u"},
			"/home/u/.local/state/storagenode-exporter/storagenode-exporter.db", "$HOME"},
		{unix, map[string]string{"HOME": "/home/u"}, "/home/u/.local/state/storagenode-exporter/storagenode-exporter.db", "$HOME"},
		{unix, map[string]string{}, "", ""},
		{windows, map[string]string{"LocalAppData": "/Users/u/AppData/Local", "HOME": "/home/u"},
			filepath.Join("/Users/u/AppData/Local", "storagenode-exporter", "storagenode-exporter.db"), "%LocalAppData%"},
		{windows, map[string]string{"STATE_DIRECTORY": "/data", "LocalAppData": "/Users/u/AppData/Local"}, "/data/storagenode-exporter.db", "$STATE_DIRECTORY"},
		{windows, map[string]string{"HOME": "/home/u"}, "", ""},
	} {
		loc, err := DefaultDB(func(k string) string { return c.env[k] }, c.goos)
		switch {
		case c.want == "" && err == nil:
			t.Errorf("%s %v: %q, want an error", c.goos, c.env, loc.Path)
		case c.want == "" && !strings.Contains(err.Error(), "STATE_DIRECTORY"):
			t.Errorf("%s %v: error %q does not name the variables", c.goos, c.env, err)
		case c.want != "" && (err != nil || loc.Path != filepath.FromSlash(c.want) || loc.From != c.from):
			t.Errorf("%s %v: %q from %q, %v; want %q from %q", c.goos, c.env, loc.Path, loc.From, err, c.want, c.from)
		}
	}
}
