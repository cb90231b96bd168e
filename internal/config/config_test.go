package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/config"
)

// Every mistake in a configuration file is named with the file, the line
// and the key, in words.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct {
		name, yaml string
		want       []string // after "PATH:", one a problem
	}{
		{"unknown nested key, close to a known one", "nodes:\n  - name: A\n    log: /x\nweb:\n  listen-adress: \":29651\"\n",
			[]string{`5: unknown key "listen-adress" under web (did you mean "listen-address"?)`}},
		{"the brief's example, on line 4", "from-beginning: true\nlog: {level: info}\nweb:\n  listen-adress: \":1\"\n",
			[]string{`4: unknown key "listen-adress" under web (did you mean "listen-address"?)`}},
		{"unknown top-level key, close", "from-begining: true\n",
			[]string{`1: unknown key "from-begining" (did you mean "from-beginning"?)`}},
		{"unknown top-level key, a prefix", "db-ret: 24h\n",
			[]string{`1: unknown key "db-ret" (did you mean "db-retention"?)`}},
		{"unknown key, nothing close", "colour: blue\n",
			[]string{`1: unknown key "colour"`}},
		{"a key of another section", "telemetry-path: /m\n",
			[]string{`1: unknown key "telemetry-path" (did you mean "telemetry-path" under web?)`}},
		{"a flag name as a key", "# flags\nweb.listen-address: \":1\"\n",
			[]string{`2: unknown key "web.listen-address" (did you mean "listen-address" under web?)`}},
		{"a top-level key in a section", "web:\n  from-beginning: true\n",
			[]string{`2: unknown key "from-beginning" under web (did you mean "from-beginning" at the top level?)`}},
		{"unknown key in a node", "nodes:\n  - name: A\n    log: /x\n    colour: blue\n  - name: B\n    lgo: /y\n",
			[]string{`4: unknown key "colour" under nodes`, `6: unknown key "lgo" under nodes (did you mean "log"?)`}},
		{"not a duration", "nodes:\n  - {name: A, log: /x}\nnodeapi: {timeout: fast}\n",
			[]string{`3: key "timeout" under nodeapi: "fast" is not a duration`}},
		{"not a duration, block style", "nodeapi:\n  discover: false\n  poll-interval: 1 minute\ndb-retention: 7d\n",
			[]string{`3: key "poll-interval" under nodeapi: "1 minute" is not a duration`, `4: key "db-retention": "7d" is not a duration`}},
		{"not a boolean", "from-beginning: sometimes\nnodeapi:\n  discover: 2\n",
			[]string{`1: key "from-beginning": "sometimes" is not true or false`, `3: key "discover" under nodeapi: "2" is not true or false`}},
		{"not one of the values", "log:\n  level: verbose\n  format: text\n",
			[]string{`2: key "level" under log: "verbose" is not one of debug, info, warn, error`, `3: key "format" under log: "text" is not one of logfmt, json`}},
		{"a value where keys belong", "web: \":29651\"\n",
			[]string{`1: key "web" holds keys (listen-address, telemetry-path, config-file), not the value ":29651"`}},
		{"keys where a value belongs", "db:\n  path: x.db\n",
			[]string{`1: key "db" takes a single value, not keys and values`}},
		{"nodes not a list", "nodes:\n  name: A\n",
			[]string{`1: key "nodes" is a list (each item starting with "- "), not keys and values`}},
		{"a node as a string", "nodes:\n  - My-Node:/var/log/x.log\n",
			[]string{`2: an item of nodes holds keys (name, log, api), not the value "My-Node:/var/log/x.log"`}},
		{"a node without log", "nodes:\n  - name: A\n    api: http://localhost:14002\n",
			[]string{`2: node "A" under nodes has no log (a file, host:port, or -)`}},
		{"a node without name", "nodes:\n  - log: /x\n",
			[]string{`2: the node with log "/x" under nodes has no name`}},
		{"a key twice", "db: a.db\nweb: {}\ndb: b.db\n",
			[]string{`3: key "db" is given twice (first at line 1)`}},
		{"not a mapping", "- name: A\n",
			[]string{`1: the configuration must be keys and values (nodes:, web:, ...), not a list`}},
		{"YAML syntax: indentation", "nodes:\n  - name: A\n  log: /x\n",
			[]string{`3: invalid YAML: did not find expected '-' indicator`}},
		{"YAML syntax: a tab", "web:\n\tlisten-address: x\n",
			[]string{`2: invalid YAML: found character that cannot start any token`}},
		{"YAML syntax: an unterminated quote", "db: a.db\nweb:\n  listen-address: \":29651\nlog: {level: info}\n",
			[]string{`3: invalid YAML: found unexpected end of stream`}},
		{"YAML syntax: an unclosed bracket", "db: a.db\nnodeapi: {timeout: 5s\nlog: {}\n",
			[]string{`2: invalid YAML: did not find expected ',' or '}'`}},
		{"YAML syntax on the first line", "db: a: b\n",
			[]string{`1: invalid YAML: mapping values are not allowed in this context`}},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".yml")
		if err := os.WriteFile(path, []byte(c.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := config.Load(path)
		want := path + ":" + strings.Join(c.want, "\n"+path+":")
		if err == nil || err.Error() != want {
			t.Errorf("%s:\n%s\ngot  %v\nwant %s", c.name, c.yaml, err, want)
		}
	}
}

// A valid file with every key loads, with its values; an empty one too.
func TestConfigValid(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yml")
	os.WriteFile(path, []byte(`# every key
nodes:
  - name: My-Node
    log: /var/log/storagenode.log
    api: http://localhost:14002
  - {name: Other, log: "192.168.1.10:9999"}
from-beginning: false
db: storagenode-exporter.db
db-retention: 168h
web:
  listen-address: ":29651"
  telemetry-path: /metrics
  config-file: /etc/storagenode-exporter/web.yml
log: {level: info, format: logfmt}
geoip: {database: /usr/share/GeoIP/GeoLite2-Country.mmdb}
nodeapi: {timeout: 30s, poll-interval: 1m, discover: true, expose-wallet: false}
`), 0o644)
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Nodes) != 2 || c.Nodes[1].Log != "192.168.1.10:9999" || *c.DBRetention != "168h" || *c.Web.ListenAddress != ":29651" ||
		*c.NodeAPI.PollInterval != "1m" || *c.NodeAPI.Discover != true || *c.Log.Format != "logfmt" {
		t.Errorf("%+v", c)
	}
	// empty ones, and one document with its start and end markers
	for _, empty := range []string{"", "# nothing yet\n", "web:\nnodeapi: ~\n", "---\nnodes: []\n...\n"} {
		os.WriteFile(path, []byte(empty), 0o644)
		if _, err := config.Load(path); err != nil {
			t.Errorf("%q: %v", empty, err)
		}
	}
}
