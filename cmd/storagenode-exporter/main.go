// Command storagenode-exporter is a Prometheus exporter for Storj storage
// nodes: it reads node logs and reports on them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/storagenode-exporter/storagenode-exporter/internal/config"
	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
	"github.com/storagenode-exporter/storagenode-exporter/internal/service"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

// CLI is the command line. Each command has a file of its own.
type CLI struct {
	Log         LogFlags         `embed:"" prefix:"log."`
	VersionFlag kong.VersionFlag `name:"version" help:"Print the version (as the version command does) and exit."`

	Serve   ServeCmd   `cmd:"" default:"withargs" help:"Follow node logs and serve Prometheus metrics (the default command)."`
	Ingest  IngestCmd  `cmd:"" help:"Load log files from start to end into the sink (SQLite), then exit."`
	Report  ReportCmd  `cmd:"" help:"Success rates, per-satellite figures and top errors from log files or the sink."`
	Forward ForwardCmd `cmd:"" help:"Stream a local log to a remote serve over TCP."`
	Version VersionCmd `cmd:"" help:"Print build information."`
}

// LogFlags are the exporter's own logging flags, named as promslog names them.
type LogFlags struct {
	Level  string `default:"info" enum:"debug,info,warn,error" help:"Only log messages with the given severity or above (${enum})."`
	Format string `default:"logfmt" enum:"logfmt,json" help:"Output format of log messages (${enum})."`
}

// New builds the logger the flags describe.
func (f LogFlags) New(w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(f.Level)))
	opts := &slog.HandlerOptions{Level: level}
	if f.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func main() {
	if code, ok := service.RunIfService(os.Args[1:], func(args []string) service.Serve { // started by the Windows service manager
		return func(ctx context.Context, listening chan<- net.Addr) int {
			return runWith(args, os.Stdin, os.Stdout, os.Stderr, listening, ctx)
		}
	}); ok {
		os.Exit(code)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run parses args and runs the command; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runWith(args, stdin, stdout, stderr, nil, context.Background())
}

// cliVars are the variables the CLI's tags use.
func cliVars() kong.Vars {
	return kong.Vars{"listen_address": DefaultListenAddress, "discover_api": DiscoverAPI, "version": versionLine(),
		"max_line_length": strconv.Itoa(logfile.DefaultMaxLine), "ingest_batch": strconv.Itoa(sink.DefaultIngestBatch),
		"db_rule": config.DBDefaultRule, "db_default": config.DefaultDBHere()}
}

// runWith is run with a channel told the listen address once serve listens,
// and a parent context, for tests.
func runWith(args []string, stdin io.Reader, stdout, stderr io.Writer, listening chan<- net.Addr, parent context.Context) int {
	var cli CLI
	var cfg *config.Config
	exited := -1 // set when kong asks to exit (--help): nothing runs then
	opts := []kong.Option{
		kong.Name("storagenode-exporter"),
		kong.Description("Prometheus exporter and log reports for Storj storage nodes."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exited = code }),
		cliVars(),
	}
	if path := configPath(args); path != "" {
		var err error
		if cfg, err = config.Load(path); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") { // one problem a line
				fmt.Fprintln(stderr, "storagenode-exporter:", line)
			}
			return 2
		}
		opts = append(opts, kong.Resolvers(configResolver(cfg)))
	}
	parser, err := kong.New(&cli, opts...)
	if err != nil {
		fmt.Fprintln(stderr, "storagenode-exporter:", err)
		return 2
	}
	kctx, err := parser.Parse(args)
	if exited >= 0 {
		return exited
	}
	if err != nil {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			return 0
		}
		fmt.Fprintln(stderr, "storagenode-exporter:", err)
		return 2
	}
	if kctx == nil || kctx.Command() == "" {
		return 0
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Logger: cli.Log.New(stderr), Config: cfg, Listening: listening}
	kctx.BindTo(ctx, (*context.Context)(nil))
	kctx.Bind(env)
	if err := kctx.Run(); err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintln(stderr, "storagenode-exporter:", err)
		}
		return 1
	}
	return 0
}

// errReported is returned by a command that has named its problems on
// stderr already: the exit status is 1 and nothing more is printed.
var errReported = errors.New("failed (reported above)")

// Env is what every command gets besides its flags: the standard streams
// and the logger, so that tests can run commands in-process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Logger *slog.Logger
	// Config is the --config file, if one was given.
	Config *config.Config
	// Listening, when set, is told serve's address once it listens.
	Listening chan<- net.Addr
}
