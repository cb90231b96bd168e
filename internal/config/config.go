// Package config reads the YAML configuration file of serve (--config): the
// same settings as the flags, each mistake an error naming the file, the
// line and the key in words (unknown key with a suggestion, a value of the
// wrong type, a key twice, YAML syntax at the line where it goes wrong).
// The command gives the file's values to its flag parser for the flags
// the command line leaves unset.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
)

// Config is the YAML configuration file (--config). It holds the same
// settings as the flags; a flag given on the command line overrides it.
// Every mistake in it (unknown key, wrong type, YAML syntax) is an error
// naming the file, the line and the key; see checkConfig. A field's
// `check` tag says what its value must be beyond its Go type: "duration"
// (time.ParseDuration), optionally with a bound ("duration > 0",
// "duration >= 1s"), "one of a,b,c", "line length" (a number of bytes
// within logfile.CheckMaxLine's bounds), or "log source" (host:port with a
// port, when it is of that form).
type Config struct {
	Nodes         []NodeConfig `yaml:"nodes"`
	FromBeginning *bool        `yaml:"from-beginning"`
	MaxLineLength *string      `yaml:"max-line-length" check:"line length"`
	DB            *string      `yaml:"db"`
	DBRetention   *string      `yaml:"db-retention" check:"duration >= 0"`
	Web           struct {
		ListenAddress *string `yaml:"listen-address"`
		TelemetryPath *string `yaml:"telemetry-path"`
		ConfigFile    *string `yaml:"config-file"`
	} `yaml:"web"`
	Log struct {
		Level  *string `yaml:"level" check:"one of debug,info,warn,error"`
		Format *string `yaml:"format" check:"one of logfmt,json"`
	} `yaml:"log"`
	GeoIP struct {
		Database *string `yaml:"database"`
	} `yaml:"geoip"`
	NodeAPI struct {
		Timeout      *string `yaml:"timeout" check:"duration > 0"`
		PollInterval *string `yaml:"poll-interval" check:"duration >= 1s"`
		Discover     *bool   `yaml:"discover"`
		ExposeWallet *bool   `yaml:"expose-wallet"`
	} `yaml:"nodeapi"`
}

// NodeConfig is one node of the configuration file.
type NodeConfig struct {
	Name string `yaml:"name"`
	Log  string `yaml:"log" check:"log source"` // a file path, host:port of a log stream, or - for stdin
	API  string `yaml:"api"`                    // the node API's URL, e.g. http://localhost:14002
}

// Load reads and checks a configuration file. Its errors name the
// file as given and, when the problem is in the file, the line:
// "config.yml:4: unknown key ...", one line per problem.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: cannot read the configuration file: %w", path, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := yamlSyntaxError(data, err)
		if line > 0 {
			return nil, fmt.Errorf("%s:%d: invalid YAML: %s", path, line, msg)
		}
		return nil, fmt.Errorf("%s: invalid YAML: %s", path, msg)
	}
	if line := secondDocument(data); line > 0 {
		return nil, fmt.Errorf("%s:%d: a second YAML document; the configuration is one document (remove this --- and what follows, or merge it into the first)", path, line)
	}
	var c Config
	if len(doc.Content) == 0 { // empty, or comments only
		return &c, nil
	}
	root := doc.Content[0]
	if problems := checkConfig(root); len(problems) > 0 {
		errs := make([]error, len(problems))
		for i, p := range problems {
			errs[i] = fmt.Errorf("%s:%d: %s", path, p.line, p.msg)
		}
		return nil, errors.Join(errs...)
	}
	if err := root.Decode(&c); err != nil { // checkConfig let through what Decode refuses
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

// secondDocument returns the line of the "---" or "..." that starts or
// ends a second document in data, or 0 when data holds one document (or
// none). A "---" before the first content is the first document's start.
func secondDocument(data []byte) int {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first, second yaml.Node
	if dec.Decode(&first) != nil {
		return 0
	}
	if err := dec.Decode(&second); err != nil {
		if errors.Is(err, io.EOF) {
			return 0
		}
	}
	// Find the separator: the first document marker after the first
	// document's content.
	after := 0
	if len(first.Content) > 0 {
		after = lastLine(first.Content[0])
	}
	for i, l := range strings.Split(string(data), "\n") {
		if i+1 > after && (l == "---" || strings.HasPrefix(l, "--- ") || l == "..." || strings.HasPrefix(l, "... ")) {
			return i + 1
		}
	}
	if second.Line > 0 {
		return second.Line
	}
	return 1
}

// lastLine returns the last line a node's content is on.
func lastLine(n *yaml.Node) int {
	line := n.Line
	for _, c := range n.Content {
		line = max(line, lastLine(c))
	}
	return line
}

// configProblem is one mistake in a configuration file.
type configProblem struct {
	line int
	msg  string
}

// checkConfig checks a configuration document against Config: every key
// known, no key twice, every value of the right shape and type. It returns
// the problems in file order.
func checkConfig(root *yaml.Node) []configProblem {
	c := &configChecker{all: keys(reflect.TypeFor[Config](), "")}
	if root.Kind != yaml.MappingNode && !isNull(root) {
		c.add(root, "the configuration must be keys and values (nodes:, web:, ...), not %s", describe(root))
		return c.problems
	}
	c.mapping(root, reflect.TypeFor[Config](), "")
	return c.problems
}

type configChecker struct {
	problems []configProblem
	all      []Key // every key of the schema, for suggestions
}

// Key is a key of the schema: its name and the section it is in ("" at the
// top level).
type Key struct{ Section, Name string }

// Keys returns every key of the schema, sections before their keys.
func Keys() []Key { return keys(reflect.TypeFor[Config](), "") }

func keys(t reflect.Type, section string) []Key {
	var out []Key
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		out = append(out, Key{section, name})
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			out = append(out, keys(ft, name)...)
		}
	}
	return out
}

func (c *configChecker) add(n *yaml.Node, format string, args ...any) {
	c.problems = append(c.problems, configProblem{n.Line, fmt.Sprintf(format, args...)})
}

// mapping checks a mapping against the struct type t. section is the key
// the mapping is the value of ("" for the document).
func (c *configChecker) mapping(n *yaml.Node, t reflect.Type, section string) {
	n = deref(n)
	if isNull(n) {
		return
	}
	under := ""
	if section != "" {
		under = " under " + section
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		key := k.Value
		if k.Kind != yaml.ScalarNode {
			c.add(k, "a key%s is %s; keys are names such as %q", under, describe(k), c.names(section)[0])
			continue
		}
		if line, dup := seen[key]; dup {
			c.add(k, "key %q%s is given twice (first at line %d)", key, under, line)
			continue
		}
		seen[key] = k.Line
		f, ok := fieldByKey(t, key)
		if !ok {
			c.add(k, "unknown key %q%s%s", key, under, c.suggest(key, section))
			continue
		}
		c.value(k, v, f, key, under)
	}
}

// value checks the value v of the known key k (field f).
func (c *configChecker) value(k, v *yaml.Node, f reflect.StructField, key, under string) {
	if isNull(v) {
		return // unset
	}
	ft := f.Type
	if ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	switch {
	case ft.Kind() == reflect.Struct:
		if v.Kind != yaml.MappingNode {
			c.add(k, "key %q%s holds keys (%s), not %s", key, under, strings.Join(c.names(key), ", "), describe(v))
			return
		}
		c.mapping(v, ft, key)
	case ft.Kind() == reflect.Slice:
		if v.Kind != yaml.SequenceNode {
			c.add(k, "key %q%s is a list (each item starting with \"- \"), not %s", key, under, describe(v))
			return
		}
		for _, item := range v.Content {
			item = deref(item)
			if item.Kind != yaml.MappingNode {
				c.add(item, "an item of %s holds keys (%s), not %s", key, strings.Join(c.names(key), ", "), describe(item))
				continue
			}
			before := len(c.problems)
			c.mapping(item, ft.Elem(), key)
			if len(c.problems) == before { // else a misspelt name or log would be named twice
				c.required(item, ft.Elem(), key)
			}
		}
	case v.Kind != yaml.ScalarNode:
		c.add(k, "key %q%s takes a single value, not %s", key, under, describe(v))
	case ft.Kind() == reflect.Bool:
		var b bool
		if v.Decode(&b) != nil {
			c.add(k, "key %q%s: %q is not true or false", key, under, v.Value)
		}
	default: // a string, and what its check tag asks
		switch check := f.Tag.Get("check"); {
		case strings.HasPrefix(check, "duration"):
			d, err := time.ParseDuration(v.Value)
			if err != nil {
				c.add(k, "key %q%s: %q is not a duration", key, under, v.Value)
			} else if op, bound, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(check, "duration")), " "); ok {
				b, _ := time.ParseDuration(bound)
				if op == ">" && d <= b || op == ">=" && d < b {
					c.add(k, "key %q%s: %q is not %s %s", key, under, v.Value, op, bound)
				}
			}
		case check == "line length":
			n, err := strconv.ParseInt(v.Value, 10, 64)
			if err != nil {
				c.add(k, "key %q%s: %q is not a whole number of bytes", key, under, v.Value)
			} else if msg := logfile.CheckMaxLine(n); msg != "" {
				c.add(k, "key %q%s: %s", key, under, msg)
			}
		case check == "log source":
			if _, err := os.Stat(v.Value); err != nil {
				if msg := CheckHostPort(v.Value); msg != "" {
					c.add(k, "key %q%s: %s", key, under, msg)
				}
			}
		case strings.HasPrefix(check, "one of "):
			allowed := strings.Split(strings.TrimPrefix(check, "one of "), ",")
			if !slices.Contains(allowed, v.Value) {
				c.add(k, "key %q%s: %q is not one of %s", key, under, v.Value, strings.Join(allowed, ", "))
			}
		}
	}
}

// required checks that an item of nodes names its node and its log.
func (c *configChecker) required(item *yaml.Node, t reflect.Type, section string) {
	if t != reflect.TypeFor[NodeConfig]() {
		return
	}
	values := map[string]string{}
	for i := 0; i+1 < len(item.Content); i += 2 {
		values[item.Content[i].Value] = deref(item.Content[i+1]).Value
	}
	switch {
	case values["name"] == "" && values["log"] == "":
		c.add(item, "a node under %s has no name and no log (both are required)", section)
	case values["name"] == "":
		c.add(item, "the node with log %q under %s has no name", values["log"], section)
	case values["log"] == "":
		c.add(item, "node %q under %s has no log (a file, host:port, or -)", values["name"], section)
	}
}

// names returns the keys of a section, in schema order.
func (c *configChecker) names(section string) []string {
	var names []string
	for _, k := range c.all {
		if k.Section == section {
			names = append(names, k.Name)
		}
	}
	return names
}

// suggest returns " (did you mean ...?)" for an unknown key: a section.key
// written as one key ("web.listen-address"), else the closest key of the
// same section (at most two edits away, or one starting with the other),
// else the same or a close key in another section; or "".
func (c *configChecker) suggest(key, section string) string {
	for _, k := range c.all {
		if k.Section != "" && key == k.Section+"."+k.Name {
			return fmt.Sprintf(" (did you mean %q under %s?)", k.Name, k.Section)
		}
	}
	best, bestD := Key{}, -1
	consider := func(k Key, d int) {
		if d >= 0 && (bestD < 0 || d < bestD) {
			best, bestD = k, d
		}
	}
	for _, k := range c.all {
		if k.Section == section {
			consider(k, closeness(key, k.Name))
		}
	}
	if bestD < 0 {
		for _, k := range c.all {
			if k.Section != section {
				consider(k, closeness(key, k.Name))
			}
		}
	}
	switch {
	case bestD < 0:
		return ""
	case best.Section == section:
		return fmt.Sprintf(" (did you mean %q?)", best.Name)
	case best.Section == "":
		return fmt.Sprintf(" (did you mean %q at the top level?)", best.Name)
	default:
		return fmt.Sprintf(" (did you mean %q under %s?)", best.Name, best.Section)
	}
}

// closeness is the edit distance between a typed key and a known one when
// they are close (one or two edits, fewer for short keys), 3 when one
// starts with the other (at least three characters in common), else -1.
func closeness(typed, known string) int {
	d := editDistance(typed, known)
	if d <= min(2, max(1, len(known)/3)) {
		return d
	}
	if min(len(typed), len(known)) >= 3 && (strings.HasPrefix(known, typed) || strings.HasPrefix(typed, known)) {
		return 3
	}
	return -1
}

// editDistance is the number of insertions, deletions, substitutions and
// swaps of neighbours that turn a into b (optimal string alignment, bytes):
// "lgo" is one edit from "log".
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// fieldByKey finds the field of t whose yaml tag is key.
func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// deref follows an alias to what it names.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node is, for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "keys and values"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("the value %q", n.Value)
	}
}

// yamlSyntaxLine matches yaml.v3's syntax errors: "yaml: line 3: msg" or
// "yaml: msg".
var yamlSyntaxLine = regexp.MustCompile(`^yaml: (?:line \d+: )?(.*)$`)

// yamlSyntaxError returns the line of a YAML syntax error and its message.
// yaml.v3's own line is that of the enclosing construct, counted from 0 for
// some errors and missing on the first line, so the line is found here: the
// first line at which the document cut after it fails with the same
// message (an unterminated quote or bracket is reported where it starts).
// line is 0 when none is found.
func yamlSyntaxError(data []byte, err error) (line int, msg string) {
	m := yamlSyntaxLine.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, strings.TrimPrefix(err.Error(), "yaml: ")
	}
	msg = m[1]
	end := 0
	for n := 1; end < len(data); n++ {
		if i := bytes.IndexByte(data[end:], '\n'); i >= 0 {
			end += i + 1
		} else {
			end = len(data)
		}
		var doc yaml.Node
		if perr := yaml.Unmarshal(data[:end], &doc); perr != nil {
			if pm := yamlSyntaxLine.FindStringSubmatch(perr.Error()); pm != nil && pm[1] == msg {
				return n, msg
			}
		}
	}
	return 0, msg
}

// CheckHostPort returns an error for a log source written as host:port
// whose port is missing or not a TCP port; "" when src is not of that form.
func CheckHostPort(src string) string {
	host, port, err := net.SplitHostPort(src)
	if err != nil || host == "" || strings.ContainsAny(src, `/\`) {
		return ""
	}
	if port == "" {
		return fmt.Sprintf("%q has no port after the colon (want host:port of a log stream, e.g. %s:9999)", src, host)
	}
	if n, err := strconv.Atoi(port); err == nil && (n < 1 || n > 65535) {
		return fmt.Sprintf("%q: port %s is not between 1 and 65535", src, port)
	}
	return ""
}
