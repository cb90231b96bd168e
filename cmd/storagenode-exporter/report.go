package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/config"
	"github.com/storagenode-exporter/storagenode-exporter/report"
	"github.com/storagenode-exporter/storagenode-exporter/report/dbreport"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

// ReportCmd prints the success-rate report of log files.
type ReportCmd struct {
	Format  string        `default:"text" enum:"text,json" help:"Output format (${enum})."`
	Workers int           `default:"0" help:"Parsing goroutines (0: one per CPU)."`
	Lines   lineLimit     `embed:""`
	DB      string        `name:"db" help:"Answer from the sink's database instead of log files: the report plus the most-downloaded pieces, top errors by satellite and action, sizes and hourly success rates. Without log files and without --db, serve's default database is read: ${db_rule}; here: ${db_default}." placeholder:"PATH"`
	Node    string        `help:"With --db: only this node."`
	Since   time.Duration `help:"With --db: only the events of this last span (e.g. 24h); 0 for all."`
	Files   []string      `arg:"" optional:"" name:"file" help:"Log files, plain or gzip-compressed; - for standard input." type:"string"`
}

// Validate checks the flags before anything runs (exit status 2).
func (c *ReportCmd) Validate() error {
	if c.Workers < 0 {
		return fmt.Errorf("--workers %d: want 0 (one per CPU) or more", c.Workers)
	}
	if c.Since < 0 {
		return fmt.Errorf("--since %v: want 0 (every event) or a positive duration such as 24h", c.Since)
	}
	if len(c.Files) > 0 && (c.Node != "" || c.Since != 0) {
		return errors.New("--node and --since choose from the sink's database: give them with --db (or no log files), not with log files")
	}
	return nil
}

// Run reads every file into one summary and prints it. A file that cannot be
// read, or that holds lines but no storagenode log line, is named on stderr
// and the others are still reported; the exit status is then 1. When no
// file could be read, no report is printed.
func (c *ReportCmd) Run(ctx context.Context, env *Env) error {
	path := c.DB
	if path == "" && len(c.Files) == 0 {
		loc, err := config.DefaultDB(os.Getenv, runtime.GOOS)
		if err != nil {
			return fmt.Errorf("report: no log file given, and %v (give --db PATH)", err)
		}
		if _, err := os.Stat(loc.Path); err != nil {
			return fmt.Errorf("report: no log file given, and no database at %s (the sink's default, from %s): give log files or --db PATH", loc.Path, loc.From)
		}
		path = loc.Path
	}
	if path != "" {
		if len(c.Files) > 0 {
			return errors.New("report: give log files or --db, not both")
		}
		db, err := sink.Open(ctx, path, sink.Options{ReadOnly: true})
		if err != nil {
			return err
		}
		defer db.Close()
		a, err := dbreport.Analyze(ctx, db, dbreport.Options{Node: c.Node, Since: c.Since})
		if err != nil {
			return err
		}
		if c.Format == "json" {
			return dbreport.WriteJSON(env.Stdout, a)
		}
		return dbreport.WriteText(env.Stdout, a)
	}
	counter := report.NewCounter()
	counter.MaxLine = c.Lines.MaxLineLength
	failed := counter.ReadFiles(c.Files, env.Stdin, c.Workers, func(path string, err error) {
		fmt.Fprintf(env.Stderr, "storagenode-exporter: report: %s: %v\n", path, err)
	})
	if failed == len(c.Files) {
		// Nothing was read: a report of zeros would only hide the errors.
		if failed == 1 {
			return errReported
		}
		return fmt.Errorf("report: none of the %d files could be read as a storagenode log", failed)
	}
	var err error
	if c.Format == "json" {
		err = report.WriteJSON(env.Stdout, &counter.Summary)
	} else {
		err = report.WriteText(env.Stdout, &counter.Summary)
	}
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files could not be read as storagenode logs", failed, len(c.Files))
	}
	return nil
}
