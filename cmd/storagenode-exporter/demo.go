package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/alecthomas/kong"

	"github.com/storagenode-exporter/storagenode-exporter/demo"
	"github.com/storagenode-exporter/storagenode-exporter/internal/config"
	"github.com/storagenode-exporter/storagenode-exporter/internal/pipeline"
)

// Defaults that --demo changes, unless the flag (or the config file) sets
// them: a demo listens on loopback only, leaves no database file behind
// (Run takes no default database with --demo) and polls its node API often
// enough that its gauges come at once.
const (
	DemoListenAddress = "127.0.0.1:29651"
	DemoPollInterval  = 10 * time.Second
)

// demoNode is the sample node of serve --demo.
type demoNode struct {
	spec pipeline.NodeSpec
	api  *demo.API
}

// startDemo applies the demo's defaults and starts the sample node API.
// The caller closes the API.
func (c *ServeCmd) startDemo(kctx *kong.Context, cfg *config.Config) (*demoNode, error) {
	if len(c.Node) > 0 || cfg != nil && len(cfg.Nodes) > 0 {
		return nil, errors.New("--demo serves a built-in sample node alone: drop --node (and the config file's nodes), or drop --demo")
	}
	if !given(kctx, "web.listen-address") && (cfg == nil || cfg.Web.ListenAddress == nil) {
		c.Web.ListenAddress = DemoListenAddress
	}
	if !given(kctx, "nodeapi.poll-interval") && (cfg == nil || cfg.NodeAPI.PollInterval == nil) {
		c.NodeAPI.PollInterval = DemoPollInterval
	}
	api, err := demo.StartAPI()
	if err != nil {
		return nil, err
	}
	return &demoNode{
		// not a file: the sink takes its outcomes from the counting path
		spec: pipeline.NodeSpec{Name: demo.NodeName, Source: "demo", Kind: pipeline.SourceTCP, API: api.URL(), Log: demo.NewLog(demo.LogOptions{})},
		api:  api,
	}, nil
}

// given tells whether a flag was on the command line (not set by the
// configuration file's resolver).
func given(kctx *kong.Context, name string) bool {
	if kctx == nil {
		return false
	}
	for _, p := range kctx.Path {
		if p.Flag != nil && p.Flag.Name == name && !p.Resolved {
			return true
		}
	}
	return false
}

// announce prints the one line that tells where to look.
func (d *demoNode) announce(w io.Writer, addr net.Addr, telemetryPath string) {
	host := addr.String()
	if a, ok := addr.(*net.TCPAddr); ok && a.IP.IsUnspecified() {
		host = net.JoinHostPort("127.0.0.1", fmt.Sprint(a.Port))
	}
	base := "http://" + host
	if telemetryPath == "/" {
		fmt.Fprintf(w, "demo: metrics at %s/ (sample node %q, no real node)\n", base, demo.NodeName)
		return
	}
	fmt.Fprintf(w, "demo: open %s/ — metrics at %s%s (sample node %q, no real node)\n", base, base, telemetryPath, demo.NodeName)
}
