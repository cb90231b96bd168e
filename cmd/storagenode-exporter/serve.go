package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"time"

	"github.com/alecthomas/kong"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/storagenode-exporter/storagenode-exporter/internal/config"
	"github.com/storagenode-exporter/storagenode-exporter/internal/pipeline"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

// DefaultListenAddress is the exporter's default port. The Prometheus
// default-port list has used up 9100-9999 and continues just above 10000;
// 29651 is outside both, and below Linux's ephemeral port range.
const DefaultListenAddress = ":29651"

// DefaultMemoryLimit is the Go runtime's soft memory limit for serve with
// one node (the embedded GeoIP database, 8 MB, is off the heap and not in
// it); NodeMemory is added for each further node (a node's series,
// follower, pairing and buffers take about 150 KB: with a fixed limit, a
// thousand idle nodes kept the collector running, a quarter of a core).
const (
	DefaultMemoryLimit = 32 << 20
	NodeMemory         = 256 << 10
)

// DiscoverAPI is where a local node's API is looked for when none is named.
const DiscoverAPI = "http://localhost:14002"

// ServeCmd follows node logs and serves /metrics. It is the default command.
type ServeCmd struct {
	Config        string        `help:"YAML configuration file with the same settings as the flags (flags override it)." type:"path" placeholder:"FILE"`
	Node          []string      `sep:"none" help:"A node to follow, as NAME:SOURCE[:API]. SOURCE is a log file, host:port of a log stream (storagenode-exporter forward), or - for standard input; API is the node API URL (http://host:14002). Repeat for more nodes." placeholder:"NAME:SOURCE[:API]"`
	FromBeginning bool          `help:"Read existing log files from their start instead of their end."`
	Lines         lineLimit     `embed:""`
	Demo          bool          `help:"Serve a built-in sample node (a log generated live and a sample node API), no node needed. Listens on 127.0.0.1:29651 and keeps no database unless --web.listen-address or --db is given."`
	DB            string        `name:"db" help:"SQLite database of the raw-event sink (every transfer outcome, for report and ingest); \"\" turns it off. Default: ${db_rule}; here: ${db_default}." placeholder:"PATH"`
	DBRetention   time.Duration `name:"db.retention" default:"168h" help:"How long the sink keeps events (pruned in the background); 0 keeps them all."`

	Web struct {
		ListenAddress string `default:"${listen_address}" help:"Address to listen on for /metrics."`
		TelemetryPath string `default:"/metrics" help:"Path under which to expose metrics."`
		ConfigFile    string `name:"config.file" help:"Configuration file for TLS and/or basic authentication (exporter-toolkit web config)." placeholder:"FILE"`
	} `embed:"" prefix:"web."`

	NodeAPI struct {
		Timeout      time.Duration `default:"30s" help:"Timeout of one request to a node API (the payout estimate can take ~28 s on big nodes)."`
		PollInterval time.Duration `default:"1m" help:"How often each node API is polled (the payout estimate at most every 5m). Scrapes never call the node."`
		Discover     bool          `default:"true" negatable:"" help:"For a node whose log is a local file and that names no API, try http://localhost:14002."`
		ExposeWallet bool          `help:"Add the operator's wallet address to storj_node_info."`
		DiscoverURL  string        `default:"${discover_api}" hidden:"" help:"Where discovery looks for a local node's API."`
	} `embed:"" prefix:"nodeapi."`

	GeoIP struct {
		Database string `help:"GeoIP2/GeoLite2/DB-IP City or Country mmdb. Default: look in /usr/share/GeoIP, /var/lib/GeoIP and the working directory, else the embedded country database." placeholder:"FILE"`
	} `embed:"" prefix:"geoip."`
}

// Run serves until ctx is canceled (package pipeline assembles and runs
// what it serves).
func (c *ServeCmd) Run(ctx context.Context, env *Env, kctx *kong.Context) error {
	var specs []pipeline.NodeSpec
	var demoNode *demoNode
	var err error
	if c.Demo {
		if demoNode, err = c.startDemo(kctx, env.Config); err != nil {
			return err
		}
		defer demoNode.api.Close()
		specs = []pipeline.NodeSpec{demoNode.spec}
	} else if specs, err = c.nodes(env.Config); err != nil {
		return err
	}
	logger := env.Logger
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit: the garbage collector works harder as the heap
		// nears it, so a Raspberry Pi keeps its memory; GOMEMLIMIT overrides.
		debug.SetMemoryLimit(DefaultMemoryLimit + int64(max(len(specs)-1, 0))*NodeMemory)
	}
	reg := prometheus.NewRegistry()
	opts := pipeline.Options{
		Nodes: specs, FromBeginning: c.FromBeginning, MaxLine: c.Lines.MaxLineLength, Stdin: env.Stdin, GeoIPDatabase: c.GeoIP.Database,
		NodeAPI: pipeline.NodeAPIOptions{Timeout: c.NodeAPI.Timeout, PollInterval: c.NodeAPI.PollInterval,
			Discover: c.NodeAPI.Discover, DiscoverURL: c.NodeAPI.DiscoverURL, ExposeWallet: c.NodeAPI.ExposeWallet},
		Web:    pipeline.WebOptions{ListenAddress: c.Web.ListenAddress, TelemetryPath: c.Web.TelemetryPath, ConfigFile: c.Web.ConfigFile},
		Logger: logger, Registry: reg,
		OnListen: func(addr net.Addr) {
			if demoNode != nil {
				demoNode.announce(env.Stderr, addr, c.Web.TelemetryPath)
			}
			if env.Listening != nil {
				env.Listening <- addr
			}
		},
	}
	// the demo leaves no database behind unless one is named
	dbLoc, sinkOn, err := chooseDB(kctx, c.DB, env.Config, c.Config, !c.Demo)
	if err != nil {
		return err
	}
	if sinkOn {
		db, err := dbLoc.Open(ctx, sink.Options{}, `--db "" turns the sink off`)
		if err != nil {
			return err
		}
		defer db.Close() // after pipeline.Run: the sink has committed what it held
		// One writer of each node's logs into the database: a second
		// serve of the same node is refused, naming the first.
		dbSink, err := pipeline.NewDBSink(ctx, db, specs, pipeline.DBSinkOptions{Retention: c.DBRetention,
			FromBeginning: c.FromBeginning, MaxLine: c.Lines.MaxLineLength, Registry: reg, Logger: logger})
		if err != nil {
			return err
		}
		opts.Sink = dbSink
		logger.Info("raw-event sink", "db", dbLoc.Path, "from", dbLoc.From, "retention", c.DBRetention)
	}
	return pipeline.Run(ctx, opts)
}

// nodes returns the nodes to follow: from --node flags, else from the
// configuration file.
func (c *ServeCmd) nodes(cfg *config.Config) ([]pipeline.NodeSpec, error) {
	var specs []pipeline.NodeSpec
	if len(c.Node) > 0 {
		for _, s := range c.Node {
			spec, err := pipeline.ParseNodeSpec(s)
			if err != nil {
				return nil, err
			}
			specs = append(specs, spec)
		}
	} else if cfg != nil {
		for _, n := range cfg.Nodes {
			specs = append(specs, pipeline.NodeSpec{Name: n.Name, Source: n.Log, Kind: pipeline.ClassifySource(n.Log), API: n.API})
		}
	}
	if len(specs) == 0 {
		return nil, errors.New("no node to follow: give --node NAME:SOURCE[:API] or a --config file with nodes")
	}
	seen := map[string]bool{}
	stdin := 0
	for _, s := range specs {
		if seen[s.Name] {
			return nil, fmt.Errorf("node %q is named twice", s.Name)
		}
		seen[s.Name] = true
		if s.Kind == pipeline.SourceStdin {
			stdin++
		}
	}
	if stdin > 1 {
		return nil, errors.New("only one node can read standard input")
	}
	return specs, nil
}
