// Package pipeline assembles what serve runs, as mtail's internal/mtail
// assembles its tailer, runtime and exporter: for each node a log source
// (tail/, source/, or a given one such as the demo's) feeding the node's
// counting path (exporter.NodeLogs: parser, pairing, metrics), the node-API
// pollers (nodeapi/), the collectors of exporter/, the raw-event sink when
// there is one, and the HTTP server with /metrics, /healthz and the landing
// page. The command (cmd/storagenode-exporter) only parses flags and the
// configuration file and hands the result to Run.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/geo"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
	"github.com/storagenode-exporter/storagenode-exporter/source"
	"github.com/storagenode-exporter/storagenode-exporter/tail"
)

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
	Source string // a file path, host:port of a log stream, or - for standard input
	Kind   SourceKind
	API    string // "" when none was given
	// Log, when set, is the node's log source instead of one made from
	// Source and Kind (the demo's generated log).
	Log source.Source
}

// NodeAPIOptions are how the node APIs are polled.
type NodeAPIOptions struct {
	Timeout      time.Duration // of one request
	PollInterval time.Duration
	// Discover polls DiscoverURL for a node whose log is a local file and
	// that names no API.
	Discover     bool
	DiscoverURL  string
	ExposeWallet bool // add the wallet address to storj_node_info
}

// WebOptions are where and how /metrics is served.
type WebOptions struct {
	ListenAddress string
	TelemetryPath string
	ConfigFile    string // exporter-toolkit web configuration (TLS, basic auth); "" for none
}

// Sink is the raw-event sink that serve feeds (serve --db); DBSink is
// one. The pipeline asks it for each node's hooks before the
// sources start, and runs it beside them.
type Sink interface {
	// Hooks returns what the node's counting path hands the sink: its
	// counted outcomes and its other events (nil for none).
	Hooks(node NodeSpec) (onOutcome func(exporter.Outcome), onEvent func(*parser.Event))
	// Run writes until ctx is done, then commits what it holds and
	// returns. nodes are all the nodes, pollers the node-API pollers, geo
	// gives peer countries.
	Run(ctx context.Context, nodes []NodeSpec, pollers []*nodeapi.Poller, geo sink.Countries)
}

// PaystubKeeper is a Sink that keeps the node API's paystubs (serve --db):
// the earnings sums count the kept months a node no longer returns
// (exporter.NodeAPIOptions.PaystubHistory).
type PaystubKeeper interface {
	PaystubHistory(node, nodeID string) []nodeapi.Paystub
}

// FileSink is a Sink that takes a followed file's lines as the node's
// counting path counts them, so that the file is read and parsed once
// (DBSink).
type FileSink interface {
	Sink
	// Follow is called for each node whose log is a file, before its
	// source starts, with its counting path. It returns what counts a line
	// read at pos: logs.Line (for a line cut as too long, pos.TooLong,
	// logs.Parsed with parser.ErrTooLong), and the sink's taking it. nil:
	// the lines are counted alone.
	Follow(ctx context.Context, node NodeSpec, logs *exporter.NodeLogs) func(line []byte, pos tail.Pos)
}

// Options are what Run assembles.
type Options struct {
	Nodes         []NodeSpec
	FromBeginning bool      // read existing files from their start
	MaxLine       int       // longest line a source holds, in bytes (a longer one is unparsed, too_long); 0: logfile.DefaultMaxLine
	Stdin         io.Reader // the input of a SourceStdin node
	GeoIPDatabase string    // "": look in the usual places, else the embedded database
	NodeAPI       NodeAPIOptions
	Web           WebOptions
	Logger        *slog.Logger
	// Registry gets every collector; nil: a new one. The sink's
	// families are registered on it by whoever makes the sink.
	Registry *prometheus.Registry
	// Sink, when set, is run beside the sources.
	Sink Sink
	// OnListen, when set, is called with the address once it listens.
	OnListen func(net.Addr)
}

// node is one followed node at run time.
type node struct {
	spec NodeSpec
	src  source.Source
	logs *exporter.NodeLogs
	line func([]byte, tail.Pos) // FileSink.Follow's, or nil
}

// Run assembles the pipeline and serves until ctx is canceled, then shuts
// down in order: stop taking scrapes, stop the sources at a line boundary
// and the pollers between requests, then let the sink commit what it holds.
func Run(ctx context.Context, opts Options) error {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	reg := opts.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	reg.MustRegister(
		versioncollector.NewCollector("storj_exporter"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)

	lookup, err := geo.Open(geo.Options{Path: opts.GeoIPDatabase})
	if err != nil {
		return fmt.Errorf("geoip: %w", err)
	}
	defer lookup.Close()
	logger.Info("GeoIP database", "source", lookup.Source())
	for _, skipped := range lookup.Skipped() {
		logger.Warn("GeoIP database skipped", "err", skipped)
	}

	scores := exporter.NewScoreBoard()
	nodes := newNodes(opts, reg, lookup, scores, logger)
	if fs, ok := opts.Sink.(FileSink); ok {
		for _, n := range nodes {
			if n.spec.Kind == SourceFile && n.spec.Log == nil {
				n.line = fs.Follow(ctx, n.spec, n.logs)
			}
		}
	}
	pollers, err := newPollers(opts, reg, scores, logger)
	if err != nil {
		return err
	}
	srv, ln, serveErr, err := listen(opts, reg, lookup.Source(), nodes, logger)
	if err != nil {
		return err
	}
	if opts.OnListen != nil {
		opts.OnListen(ln.Addr())
	}

	srcCtx, stopSources := context.WithCancel(context.WithoutCancel(ctx))
	sinkCtx, stopSink := context.WithCancel(context.WithoutCancel(ctx))
	sinkDone := make(chan struct{})
	if opts.Sink != nil {
		specs := make([]NodeSpec, len(nodes))
		for i, n := range nodes {
			specs[i] = n.spec
		}
		go func() { defer close(sinkDone); opts.Sink.Run(sinkCtx, specs, pollers, lookup) }()
	} else {
		close(sinkDone)
	}
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Go(func() { n.follow(srcCtx, logger.With("node", n.spec.Name)) })
	}
	for _, p := range pollers {
		wg.Go(func() { _ = p.Run(srcCtx) })
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
	stopSink() // 3. the sink commits what it holds
	<-sinkDone
	logger.Info("stopped")
	return runErr
}

// newNodes makes each node's source and counting path, and registers the
// log and source collectors.
func newNodes(opts Options, reg prometheus.Registerer, lookup *geo.Lookup, scores *exporter.ScoreBoard, logger *slog.Logger) []*node {
	metrics := exporter.NewLogMetrics(reg)
	var nodes []*node
	sources := make([]exporter.NodeSource, 0, len(opts.Nodes))
	for _, s := range opts.Nodes {
		nopts := exporter.NodeOptions{Geo: lookup, Scores: scores}
		if opts.Sink != nil {
			nopts.OnOutcome, nopts.OnEvent = opts.Sink.Hooks(s)
		}
		n := &node{spec: s, logs: metrics.ForNode(s.Name, nopts)}
		nlog := logger.With("node", s.Name, "source", s.Source)
		switch {
		case s.Log != nil:
			n.src = s.Log
		case s.Kind == SourceStdin:
			r := source.NewReader("stdin", opts.Stdin)
			r.MaxLine = opts.MaxLine
			n.src = r
		case s.Kind == SourceTCP:
			t := source.NewTCP(s.Source, nlog)
			t.MaxLine = opts.MaxLine
			n.src = t
		default:
			n.src = source.NewFileConfig(tail.Config{Path: s.Source, FromBeginning: opts.FromBeginning, MaxLine: opts.MaxLine, Logger: nlog})
		}
		nodes = append(nodes, n)
		sources = append(sources, exporter.NodeSource{Node: s.Name, Source: n.src})
	}
	reg.MustRegister(exporter.NewSourceCollector(sources))
	return nodes
}

// newPollers makes a poller for each node with an API (given, or found by
// discovery) and registers the node-API collector.
func newPollers(opts Options, reg prometheus.Registerer, scores *exporter.ScoreBoard, logger *slog.Logger) ([]*nodeapi.Poller, error) {
	api := opts.NodeAPI
	var pollers []*nodeapi.Poller
	var logOnly []string
	for _, s := range opts.Nodes {
		url, discovered := s.API, false
		if url == "" && s.Kind == SourceFile && api.Discover {
			url, discovered = api.DiscoverURL, true
		}
		if url == "" {
			logOnly = append(logOnly, s.Name)
			continue
		}
		client, err := nodeapi.NewClient(url, api.Timeout, nil)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", s.Name, err)
		}
		popts := nodeapi.PollerOptions{Interval: api.PollInterval, Logger: logger.With("api", url)}
		if discovered {
			popts.DownMessage = "no node API answers at " + url + "; enhanced metrics (reputation, disk, payout) disabled until it does"
		}
		pollers = append(pollers, nodeapi.NewPoller(s.Name, client, popts))
	}
	copts := exporter.NodeAPIOptions{
		ExposeWallet: api.ExposeWallet, LogScores: scores, LogOnlyNodes: logOnly,
		// data is stale when polls stop succeeding, not when one poll is slow
		MaxAge: 3*api.PollInterval + 2*api.Timeout,
	}
	if k, ok := opts.Sink.(PaystubKeeper); ok {
		copts.PaystubHistory = k.PaystubHistory
	}
	reg.MustRegister(exporter.NewNodeAPICollector(pollers, copts))
	return pollers, nil
}

// listen serves /metrics, /healthz and the landing page on the listen
// address; web.Serve's result comes on the channel.
func listen(opts Options, reg *prometheus.Registry, geoSource string, nodes []*node, logger *slog.Logger) (*http.Server, net.Listener, <-chan error, error) {
	w := opts.Web
	mux := http.NewServeMux()
	mux.Handle(w.TelemetryPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
		EnableOpenMetrics: true,
	}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	if w.TelemetryPath != "/" {
		landing, err := newLandingPage(w.TelemetryPath, geoSource, nodes)
		if err != nil {
			return nil, nil, nil, err
		}
		mux.Handle("/", landing)
	}

	ln, err := net.Listen("tcp", w.ListenAddress)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	flags := &web.FlagConfig{
		WebListenAddresses: &[]string{w.ListenAddress},
		WebSystemdSocket:   new(bool),
		WebConfigFile:      &w.ConfigFile,
	}
	if w.ConfigFile != "" {
		if err := web.Validate(w.ConfigFile); err != nil {
			ln.Close()
			return nil, nil, nil, fmt.Errorf("web config %s: %w", w.ConfigFile, err)
		}
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.Serve(ln, srv, flags, logger) }()
	logger.Info("serving", "address", ln.Addr().String(), "path", w.TelemetryPath, "nodes", len(nodes))
	return srv, ln, serveErr, nil
}

// follow runs a node's source until ctx is done, counting every line.
func (n *node) follow(ctx context.Context, logger *slog.Logger) {
	err := n.src.Run(ctx, func(l source.Line) error {
		switch {
		case n.line != nil: // a file's: Pos.TooLong tells a cut line
			n.line(l.Data, l.Pos)
		case l.TooLong:
			n.logs.Parsed(&parser.Event{}, parser.ErrTooLong)
		default:
			n.logs.Line(l.Data)
		}
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
