package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/alecthomas/kong"
	"gopkg.in/yaml.v3"
)

// Config is the YAML configuration file (--config). It holds the same
// settings as the flags; a flag given on the command line overrides it.
// Unknown keys are an error that names them.
type Config struct {
	Nodes         []NodeConfig `yaml:"nodes"`
	FromBeginning *bool        `yaml:"from-beginning"`
	DB            *string      `yaml:"db"`
	DBRetention   *string      `yaml:"db-retention"`
	Web           struct {
		ListenAddress *string `yaml:"listen-address"`
		TelemetryPath *string `yaml:"telemetry-path"`
		ConfigFile    *string `yaml:"config-file"`
	} `yaml:"web"`
	Log struct {
		Level  *string `yaml:"level"`
		Format *string `yaml:"format"`
	} `yaml:"log"`
	GeoIP struct {
		Database *string `yaml:"database"`
	} `yaml:"geoip"`
	NodeAPI struct {
		Timeout      *string `yaml:"timeout"`
		PollInterval *string `yaml:"poll-interval"`
		Discover     *bool   `yaml:"discover"`
		ExposeWallet *bool   `yaml:"expose-wallet"`
	} `yaml:"nodeapi"`
}

// NodeConfig is one node of the configuration file.
type NodeConfig struct {
	Name string `yaml:"name"`
	Log  string `yaml:"log"` // a file path, host:port of a log stream, or - for stdin
	API  string `yaml:"api"` // the node API's URL, e.g. http://localhost:14002
}

// loadConfig reads and checks a configuration file.
func loadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	for i, n := range c.Nodes {
		if n.Name == "" || n.Log == "" {
			return nil, fmt.Errorf("config %s: nodes[%d]: name and log are required", path, i)
		}
	}
	return &c, nil
}

// resolver gives kong the file's values for the flags the command line
// leaves unset.
func (c *Config) resolver() kong.Resolver {
	values := map[string]any{}
	set := func(name string, v *string) {
		if v != nil {
			values[name] = *v
		}
	}
	set("web.listen-address", c.Web.ListenAddress)
	set("web.telemetry-path", c.Web.TelemetryPath)
	set("web.config.file", c.Web.ConfigFile)
	set("log.level", c.Log.Level)
	set("log.format", c.Log.Format)
	set("geoip.database", c.GeoIP.Database)
	set("db", c.DB)
	set("db.retention", c.DBRetention)
	set("nodeapi.timeout", c.NodeAPI.Timeout)
	set("nodeapi.poll-interval", c.NodeAPI.PollInterval)
	for name, v := range map[string]*bool{"from-beginning": c.FromBeginning,
		"nodeapi.discover": c.NodeAPI.Discover, "nodeapi.expose-wallet": c.NodeAPI.ExposeWallet} {
		if v != nil {
			values[name] = *v
		}
	}
	return kong.ResolverFunc(func(_ *kong.Context, _ *kong.Path, flag *kong.Flag) (any, error) {
		return values[flag.Name], nil
	})
}

// configPath finds --config in args before kong parses them, since the
// file supplies defaults for the other flags.
func configPath(args []string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--config="); ok {
			return v
		}
		if a == "--config" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// SourceKind says where a node's log comes from.
type SourceKind int

// Source kinds.
const (
	SourceFile SourceKind = iota
	SourceTCP
	SourceStdin
)

func (k SourceKind) String() string {
	return [...]string{"file", "tcp", "stdin"}[k]
}

// NodeSpec is one node to follow.
type NodeSpec struct {
	Name   string
	Source string
	Kind   SourceKind
	API    string // "" when none was given
}

// parseNodeSpec reads NAME:SOURCE[:API], the predecessor's syntax. SOURCE
// is a file path (Windows paths such as C:\logs\node.log included), a
// host:port log stream, or - for standard input; API is an http(s) URL.
func parseNodeSpec(s string) (NodeSpec, error) {
	name, rest, ok := strings.Cut(s, ":")
	if !ok || name == "" || rest == "" {
		return NodeSpec{}, fmt.Errorf("--node %q: want NAME:SOURCE[:API]", s)
	}
	spec := NodeSpec{Name: name}
	for _, scheme := range []string{":http://", ":https://"} {
		if i := strings.Index(rest, scheme); i >= 0 {
			spec.API = rest[i+1:]
			rest = rest[:i]
			break
		}
	}
	if rest == "" {
		return NodeSpec{}, fmt.Errorf("--node %q: no log source", s)
	}
	spec.Source, spec.Kind = rest, classifySource(rest)
	return spec, nil
}

func classifySource(src string) SourceKind {
	if src == "-" {
		return SourceStdin
	}
	if len(src) >= 3 && src[1] == ':' && (src[2] == '\\' || src[2] == '/') &&
		('a' <= src[0]|0x20 && src[0]|0x20 <= 'z') {
		return SourceFile // C:\... or C:/...
	}
	if strings.ContainsAny(src, `/\`) {
		return SourceFile
	}
	if host, port, err := net.SplitHostPort(src); err == nil && host != "" && isDigits(port) {
		if _, err := os.Stat(src); err != nil { // a file named like host:port wins
			return SourceTCP
		}
	}
	return SourceFile
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
