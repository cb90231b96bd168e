package main

import (
	"strings"

	"github.com/alecthomas/kong"

	"github.com/storagenode-exporter/storagenode-exporter/internal/config"
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
	set("max-line-length", c.MaxLineLength)
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
