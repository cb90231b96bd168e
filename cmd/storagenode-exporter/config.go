package main

import (
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/storagenode-exporter/storagenode-exporter/internal/config"
	"github.com/storagenode-exporter/storagenode-exporter/internal/pipeline"
)

// configResolver gives kong the file's values for the flags the command line
// leaves unset.
func configResolver(c *config.Config) kong.Resolver {
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

// parseNodeSpec reads NAME:SOURCE[:API], the predecessor's syntax. SOURCE
// is a file path (Windows paths such as C:\logs\node.log included), a
// host:port log stream, or - for standard input; API is an http(s) URL.
func parseNodeSpec(s string) (pipeline.NodeSpec, error) {
	name, rest, ok := strings.Cut(s, ":")
	if !ok || name == "" || rest == "" {
		return pipeline.NodeSpec{}, fmt.Errorf("--node %q: want NAME:SOURCE[:API]", s)
	}
	spec := pipeline.NodeSpec{Name: name}
	for _, scheme := range []string{":http://", ":https://"} {
		if i := strings.Index(rest, scheme); i >= 0 {
			spec.API = rest[i+1:]
			rest = rest[:i]
			break
		}
	}
	if rest == "" {
		return pipeline.NodeSpec{}, fmt.Errorf("--node %q: no log source", s)
	}
	if _, err := os.Stat(rest); err != nil { // a file named like host:port wins
		if msg := config.CheckHostPort(rest); msg != "" {
			return pipeline.NodeSpec{}, fmt.Errorf("--node %q: %s", s, msg)
		}
	}
	spec.Source, spec.Kind = rest, classifySource(rest)
	return spec, nil
}

func classifySource(src string) pipeline.SourceKind {
	if src == "-" {
		return pipeline.SourceStdin
	}
	if len(src) >= 3 && src[1] == ':' && (src[2] == '\\' || src[2] == '/') &&
		('a' <= src[0]|0x20 && src[0]|0x20 <= 'z') {
		return pipeline.SourceFile // C:\... or C:/...
	}
	if strings.ContainsAny(src, `/\`) {
		return pipeline.SourceFile
	}
	if host, port, err := net.SplitHostPort(src); err == nil && host != "" && isDigits(port) {
		if _, err := os.Stat(src); err != nil { // a file named like host:port wins
			return pipeline.SourceTCP
		}
	}
	return pipeline.SourceFile
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
