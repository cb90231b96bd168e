package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/alecthomas/kong"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/geo"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
	"github.com/storagenode-exporter/storagenode-exporter/source"
)

// DefaultListenAddress is the exporter's default port. The Prometheus
// default-port list has used up 9100-9999 and continues just above 10000;
// 29651 is outside both, and below Linux's ephemeral port range.
const DefaultListenAddress = ":29651"

// DefaultMemoryLimit is the Go runtime's soft memory limit for serve.
const DefaultMemoryLimit = 40 << 20

// DiscoverAPI is where a local node's API is looked for when none is named.
const DiscoverAPI = "http://localhost:14002"

// ServeCmd follows node logs and serves /metrics. It is the default command.
type ServeCmd struct {
	Config        string        `help:"YAML configuration file with the same settings as the flags (flags override it)." type:"path" placeholder:"FILE"`
	Node          []string      `sep:"none" help:"A node to follow, as NAME:SOURCE[:API]. SOURCE is a log file, host:port of a log stream (storagenode-exporter forward), or - for standard input; API is the node API URL (http://host:14002). Repeat for more nodes." placeholder:"NAME:SOURCE[:API]"`
	FromBeginning bool          `help:"Read existing log files from their start instead of their end."`
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

// node is one followed node at run time.
type node struct {
	spec NodeSpec
	src  source.Source
	logs *exporter.NodeLogs
}

// Run serves until ctx is canceled, then shuts down in order: stop taking
// scrapes, stop the sources at a line boundary.
func (c *ServeCmd) Run(ctx context.Context, env *Env, kctx *kong.Context) error {
	var specs []NodeSpec
	var demoNode *demoNode
	var err error
	if c.Demo {
		if demoNode, err = c.startDemo(kctx, env.Config); err != nil {
			return err
		}
		defer demoNode.api.Close()
		specs = []NodeSpec{demoNode.spec}
	} else if specs, err = c.nodes(env.Config); err != nil {
		return err
	}
	logger := env.Logger
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit: the garbage collector works harder as the heap
		// nears it, so a Raspberry Pi keeps its memory; GOMEMLIMIT overrides.
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector("storj_exporter"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)

	lookup, err := geo.Open(geo.Options{Path: c.GeoIP.Database})
	if err != nil {
		return fmt.Errorf("geoip: %w", err)
	}
	defer lookup.Close()
	logger.Info("GeoIP database", "source", lookup.Source())
	for _, skipped := range lookup.Skipped() {
		logger.Warn("GeoIP database skipped", "err", skipped)
	}

	metrics := exporter.NewLogMetrics(reg)
	scores := exporter.NewScoreBoard()
	var live *liveSink
	// the demo leaves no database behind unless one is named
	dbLoc, sinkOn, err := chooseDB(kctx, c.DB, env.Config, c.Config, !c.Demo)
	if err != nil {
		return err
	}
	if sinkOn {
		db, err := dbLoc.open(ctx, sink.Options{}, `--db "" turns the sink off`)
		if err != nil {
			return err
		}
		defer db.Close()
		live = newLiveSink(db, c.DBRetention, reg, logger)
		logger.Info("raw-event sink", "db", dbLoc.Path, "from", dbLoc.From, "retention", c.DBRetention)
	}
	var nodes []*node
	for _, s := range specs {
		opts := exporter.NodeOptions{Geo: lookup, Scores: scores}
		if live != nil && s.Kind != SourceFile { // files are read again by the sink itself
			opts.OnOutcome = live.forNode(s.Name)
			opts.OnEvent = live.onEvent(s.Name)
		}
		n := &node{spec: s, logs: metrics.ForNode(s.Name, opts)}
		nlog := logger.With("node", s.Name, "source", s.Source)
		switch {
		case demoNode != nil:
			n.src = demoNode.log
		case s.Kind == SourceStdin:
			n.src = source.NewReader("stdin", env.Stdin)
		case s.Kind == SourceTCP:
			n.src = source.NewTCP(s.Source, nlog)
		default:
			n.src = source.NewFile(s.Source, c.FromBeginning, nlog)
		}
		nodes = append(nodes, n)
	}
	sources := make([]exporter.NodeSource, len(nodes))
	for i, n := range nodes {
		sources[i] = exporter.NodeSource{Node: n.spec.Name, Source: n.src}
	}
	reg.MustRegister(exporter.NewSourceCollector(sources))

	var pollers []*nodeapi.Poller
	var logOnly []string
	for _, s := range specs {
		api, discovered := s.API, false
		if api == "" && s.Kind == SourceFile && c.NodeAPI.Discover {
			api, discovered = c.NodeAPI.DiscoverURL, true
		}
		if api == "" {
			logOnly = append(logOnly, s.Name)
			continue
		}
		client, err := nodeapi.NewClient(api, c.NodeAPI.Timeout, nil)
		if err != nil {
			return fmt.Errorf("node %s: %w", s.Name, err)
		}
		opts := nodeapi.PollerOptions{Interval: c.NodeAPI.PollInterval, Logger: logger.With("api", api)}
		if discovered {
			opts.DownMessage = "no node API answers at " + api + "; enhanced metrics (reputation, disk, payout) disabled until it does"
		}
		pollers = append(pollers, nodeapi.NewPoller(s.Name, client, opts))
	}
	if live != nil {
		live.pollers = pollers // set before the sink's goroutine starts
	}
	reg.MustRegister(exporter.NewNodeAPICollector(pollers, exporter.NodeAPIOptions{
		ExposeWallet: c.NodeAPI.ExposeWallet, LogScores: scores, LogOnlyNodes: logOnly,
		// data is stale when polls stop succeeding, not when one poll is slow
		MaxAge: 3*c.NodeAPI.PollInterval + 2*c.NodeAPI.Timeout,
	}))

	mux := http.NewServeMux()
	mux.Handle(c.Web.TelemetryPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
		EnableOpenMetrics: true,
	}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	if c.Web.TelemetryPath != "/" {
		landing, err := newLandingPage(c.Web.TelemetryPath, lookup.Source(), nodes)
		if err != nil {
			return err
		}
		mux.Handle("/", landing)
	}

	ln, err := net.Listen("tcp", c.Web.ListenAddress)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	flags := &web.FlagConfig{
		WebListenAddresses: &[]string{c.Web.ListenAddress},
		WebSystemdSocket:   new(bool),
		WebConfigFile:      &c.Web.ConfigFile,
	}
	if c.Web.ConfigFile != "" {
		if err := web.Validate(c.Web.ConfigFile); err != nil {
			ln.Close()
			return fmt.Errorf("web config %s: %w", c.Web.ConfigFile, err)
		}
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.Serve(ln, srv, flags, logger) }()
	logger.Info("serving", "address", ln.Addr().String(), "path", c.Web.TelemetryPath, "nodes", len(nodes))
	if demoNode != nil {
		demoNode.announce(env.Stderr, ln.Addr(), c.Web.TelemetryPath)
	}
	if env.Listening != nil {
		env.Listening <- ln.Addr()
	}

	srcCtx, stopSources := context.WithCancel(context.WithoutCancel(ctx))
	sinkCtx, stopSink := context.WithCancel(context.WithoutCancel(ctx))
	sinkDone := make(chan struct{})
	if live != nil {
		var followers sync.WaitGroup
		for _, n := range nodes {
			if n.spec.Kind == SourceFile {
				followers.Add(1)
				go func() {
					defer followers.Done()
					live.followFile(sinkCtx, n.spec.Name, n.spec.Source, c.FromBeginning, lookup)
				}()
			}
		}
		go func() { defer close(sinkDone); live.run(sinkCtx); followers.Wait() }()
	} else {
		close(sinkDone)
	}
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.follow(srcCtx, logger.With("node", n.spec.Name))
		}()
	}

	for _, p := range pollers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = p.Run(srcCtx)
		}()
	}

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("http: %w", err)
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx) // 1. stop taking scrapes
	stopSources()                 // 2. sources stop at a line boundary, pollers between requests
	wg.Wait()
	stopSink() // 3. the sink commits what it holds, then the database closes
	<-sinkDone
	logger.Info("stopped")
	return runErr
}

// follow runs a node's source until ctx is done, counting every line.
func (n *node) follow(ctx context.Context, logger *slog.Logger) {
	err := n.src.Run(ctx, func(l source.Line) error {
		n.logs.Line(l.Data)
		return nil
	})
	switch {
	case ctx.Err() != nil:
	case err != nil:
		logger.Error("log source stopped", "err", err)
	default:
		logger.Info("log source ended")
	}
}

// nodes returns the nodes to follow: from --node flags, else from the
// configuration file.
func (c *ServeCmd) nodes(cfg *Config) ([]NodeSpec, error) {
	var specs []NodeSpec
	if len(c.Node) > 0 {
		for _, s := range c.Node {
			spec, err := parseNodeSpec(s)
			if err != nil {
				return nil, err
			}
			specs = append(specs, spec)
		}
	} else if cfg != nil {
		for _, n := range cfg.Nodes {
			specs = append(specs, NodeSpec{Name: n.Name, Source: n.Log, Kind: classifySource(n.Log), API: n.API})
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
		if s.Kind == SourceStdin {
			stdin++
		}
	}
	if stdin > 1 {
		return nil, errors.New("only one node can read standard input")
	}
	return specs, nil
}
