// Package ingest is the ingest command's work: it plans the files of each
// node (NAME:FILE arguments, a rotated set oldest first), reads them into
// the sink with one sink.Ingester per node under the node's ingest lock,
// shows the progress, prints the summary ("N events from M lines of K files
// ...") and, on request, writes the log-derived counters as OpenMetrics
// (package backfill). The command line (cmd/storagenode-exporter) only
// turns flags into Options.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/geo"
	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

// File is one log file of a node.
type File struct {
	Node, Path string
	Size       int64 // when the plan was made; 0 if it could not be read
}

// Plan is what to ingest: the nodes in the order they first appear, and
// each node's files oldest first.
type Plan struct {
	Nodes []string
	Files []File
}

// NewPlan reads NAME:FILE arguments. A file given twice for a node is read
// once; standard input ("-") is refused, as it cannot be resumed or
// recognized again.
func NewPlan(specs []string) (*Plan, error) {
	if len(specs) == 0 {
		return nil, errors.New("ingest: no log files: give NAME:FILE arguments (or --ingest-log NAME:FILE)")
	}
	p := &Plan{}
	byNode := map[string][]string{}
	seen := map[[2]string]bool{}
	for _, s := range specs {
		name, path, ok := strings.Cut(s, ":")
		if !ok || name == "" || path == "" {
			return nil, fmt.Errorf("ingest: %q: want NAME:FILE", s)
		}
		if path == "-" {
			return nil, fmt.Errorf("ingest: %q: standard input cannot be resumed or recognized again: save it to a file first", s)
		}
		if _, ok := byNode[name]; !ok {
			p.Nodes = append(p.Nodes, name)
		}
		if k := [2]string{name, filepath.Clean(path)}; !seen[k] {
			seen[k] = true
			byNode[name] = append(byNode[name], path)
		}
	}
	for _, n := range p.Nodes {
		for _, path := range logfile.SortRotated(byNode[n]) {
			f := File{Node: n, Path: path}
			if st, err := os.Stat(path); err == nil {
				f.Size = st.Size()
			}
			p.Files = append(p.Files, f)
		}
	}
	return p, nil
}

// Options configure Run.
type Options struct {
	// GeoIPDatabase is the mmdb of the peers' countries ("": the usual
	// places, else the embedded database); NoGeoIP stores no country.
	GeoIPDatabase string
	NoGeoIP       bool
	BatchSize     int    // events per transaction; 0: sink.DefaultIngestBatch
	MaxLine       int    // the longest line read, in bytes; 0: logfile.DefaultMaxLine
	Progress      string // "bar", "lines", "none", or "auto" (""): a bar when Stderr is a terminal
	// OpenMetrics, when set, is a file to write the log-derived counters
	// of every file to (package backfill).
	OpenMetrics    string
	Stdout, Stderr io.Writer // the summary; progress and problems
	Logger         *slog.Logger
}

// Run ingests the plan's files into db and closes db. Ingesting is
// idempotent (a file, or part of one, that is in the sink already, even
// under another name or compressed, adds nothing) and resumable
// (interrupted, killed or failed, a rerun ends with the rows of an
// uninterrupted run). A file that cannot be read is named on Stderr and
// the others are still ingested; a database error stops the run. Either is
// an error. The summary is printed on Stdout in any case.
func Run(ctx context.Context, db *sink.DB, plan *Plan, opts Options) error {
	defer db.Close()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var countries sink.Countries
	if !opts.NoGeoIP {
		// No cache: a country lookup in the database costs about what a
		// cache hit does, and a log's addresses rarely repeat soon.
		lookup, err := geo.Open(geo.Options{Path: opts.GeoIPDatabase, CacheSize: -1})
		if err != nil {
			return fmt.Errorf("geoip: %w", err)
		}
		defer lookup.Close()
		logger.Debug("GeoIP database", "source", lookup.Source())
		countries = lookup
	}

	prog := newProgress(opts.Progress, opts.Stderr, plan.Files)
	start := time.Now()
	var results []sink.FileResult
	var failed []error
	var fatal error
	for _, node := range plan.Nodes {
		// One ingest of a node at a time; a serve following the node's log
		// meanwhile keeps what it holds (ingest stops where it begins).
		lock, err := db.Acquire(ctx, node, sink.RoleIngest)
		if err != nil {
			fatal = fmt.Errorf("ingest: %w", err)
			break
		}
		in := db.NewIngester(node, sink.IngestOptions{Geo: countries, BatchSize: opts.BatchSize, MaxLine: opts.MaxLine,
			Progress: prog.update, Lock: lock})
		for _, f := range plan.Files {
			if f.Node != node {
				continue
			}
			prog.start(f)
			res, err := in.File(ctx, f.Path)
			prog.done(f)
			if err == nil {
				results = append(results, res)
				continue
			}
			switch {
			case ctx.Err() != nil:
				results = append(results, res)
				fatal = fmt.Errorf("ingest: interrupted in %s (what was read is committed: run it again to resume)", f.Path)
			case in.Err() != nil:
				fatal = fmt.Errorf("ingest: %w", in.Err())
			default:
				fmt.Fprintf(opts.Stderr, "storagenode-exporter: ingest: %s\n", fileError(f.Path, err))
				failed = append(failed, err)
				continue
			}
			break
		}
		if fatal != nil {
			break
		}
	}
	prog.finish()
	if opts.OpenMetrics != "" && fatal == nil {
		if err := WriteOpenMetrics(opts.OpenMetrics, plan, countries, opts.MaxLine); err != nil {
			fatal = err
		} else {
			fmt.Fprintf(opts.Stderr, "storagenode-exporter: ingest: wrote %s\n", opts.OpenMetrics)
		}
	}
	took := time.Since(start)
	if err := db.Close(); err != nil && fatal == nil { // checkpoints: the summary shows the file's size
		fatal = fmt.Errorf("ingest: %w", err)
	}
	if err := WriteSummary(opts.Stdout, db.Path(), results, took); err != nil {
		return err
	}
	if fatal != nil {
		return fatal
	}
	if len(failed) > 0 {
		return fmt.Errorf("ingest: %d of %d files could not be read", len(failed), len(plan.Files))
	}
	return nil
}

// fileError names the file once.
func fileError(path string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return fmt.Errorf("%s: %s: %w", path, pe.Op, pe.Err)
	}
	if strings.Contains(err.Error(), path) {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}
