package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/alecthomas/kong"

	"github.com/storagenode-exporter/storagenode-exporter/internal/ingest"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

// IngestMemoryLimit is the Go runtime's soft memory limit for ingest.
const IngestMemoryLimit = 28 << 20

// IngestCmd loads log files into the sink from their start to their end,
// then exits.
type IngestCmd struct {
	DB        string        `help:"SQLite database file of the sink (created if missing). Default, where serve writes: ${db_rule}; here: ${db_default}." placeholder:"PATH"`
	DBBusy    time.Duration `name:"db.busy-timeout" default:"5s" help:"How long to wait for a lock another process holds on the database."`
	IngestLog []string      `name:"ingest-log" sep:"none" help:"A log file as NAME:FILE, like the arguments (the predecessor's flag). Repeat for more." placeholder:"NAME:FILE"`
	NoGeoIP   bool          `name:"no-geoip" help:"Store no countries (skips the GeoIP lookups)."`
	GeoIP     struct {
		Database string `help:"GeoIP2/GeoLite2/DB-IP City or Country mmdb. Default: look in /usr/share/GeoIP, /var/lib/GeoIP and the working directory, else the embedded country database." placeholder:"FILE"`
	} `embed:"" prefix:"geoip."`
	BatchSize   int       `default:"${ingest_batch}" help:"Events committed per transaction."`
	Lines       lineLimit `embed:""`
	Progress    string    `default:"auto" enum:"auto,bar,lines,none" help:"Progress on stderr: a bar (auto: when stderr is a terminal), plain lines, or none."`
	OpenMetrics string    `name:"openmetrics" help:"Also write the log-derived counters (the names serve exposes, one sample a minute) as OpenMetrics to this file, for promtool tsdb create-blocks-from openmetrics." placeholder:"OUT"`
	Files       []string  `arg:"" optional:"" name:"NAME:FILE" help:"Log files, plain or gzip-compressed, as NAME:FILE where NAME is the node. A rotated set (node.log.3.gz node.log.2 node.log.1 node.log, or a shell glob of it) is read oldest first whatever the order given."`
}

// Validate checks the flags before anything runs (exit status 2).
func (c *IngestCmd) Validate() error {
	if c.BatchSize < 1 {
		return fmt.Errorf("--batch-size %d: want at least 1 event per transaction (default %d)", c.BatchSize, sink.DefaultIngestBatch)
	}
	if c.DBBusy < 0 {
		return fmt.Errorf("--db.busy-timeout %v: want a positive duration such as 5s", c.DBBusy)
	}
	return nil
}

// Run ingests every file into the sink (package ingest does the work).
func (c *IngestCmd) Run(ctx context.Context, env *Env, kctx *kong.Context) error {
	loc, on, err := chooseDB(kctx, c.DB, nil, "", true)
	if err != nil {
		return err
	}
	if !on {
		return errors.New("ingest: --db: no database file given")
	}
	plan, err := ingest.NewPlan(append(append([]string(nil), c.IngestLog...), c.Files...))
	if err != nil {
		return err
	}
	db, err := loc.Open(ctx, sink.Options{BusyTimeout: c.DBBusy}, "")
	if err != nil {
		return err
	}
	env.Logger.Info("raw-event sink", "db", loc.Path, "from", loc.From)
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit: an ingest holds about 10 MB of heap (batches,
		// chunks, the GeoIP cache; the embedded GeoIP database is off the
		// heap), and the collector would let the heap grow to twice that
		// and more; GOMEMLIMIT overrides.
		debug.SetMemoryLimit(IngestMemoryLimit)
	}
	return ingest.Run(ctx, db, plan, ingest.Options{GeoIPDatabase: c.GeoIP.Database, NoGeoIP: c.NoGeoIP, BatchSize: c.BatchSize,
		MaxLine: c.Lines.MaxLineLength, Progress: c.Progress, OpenMetrics: c.OpenMetrics, Stdout: env.Stdout, Stderr: env.Stderr, Logger: env.Logger})
}
