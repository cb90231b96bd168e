package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kong"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/storagenode-exporter/storagenode-exporter/backfill"
	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/geo"
	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

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
	BatchSize   int      `default:"50000" help:"Events committed per transaction."`
	Progress    string   `default:"auto" enum:"auto,bar,lines,none" help:"Progress on stderr: a bar (auto: when stderr is a terminal), plain lines, or none."`
	OpenMetrics string   `name:"openmetrics" help:"Also write the log-derived counters (the names serve exposes, one sample a minute) as OpenMetrics to this file, for promtool tsdb create-blocks-from openmetrics." placeholder:"OUT"`
	Files       []string `arg:"" optional:"" name:"NAME:FILE" help:"Log files, plain or gzip-compressed, as NAME:FILE where NAME is the node. A rotated set (node.log.3.gz node.log.2 node.log.1 node.log, or a shell glob of it) is read oldest first whatever the order given."`
}

// ingestFile is one file to ingest.
type ingestFile struct {
	node, path string
	size       int64
}

// Run ingests every file into the sink. Ingesting is idempotent (a file, or
// part of one, that is in the sink already, even under another name or
// compressed, adds nothing) and resumable (interrupted, killed or failed,
// a rerun ends with the rows of an uninterrupted run). A file that cannot
// be read is named on stderr and the others are still ingested; a
// database error stops the run. Either makes the exit status 1.
func (c *IngestCmd) Run(ctx context.Context, env *Env, kctx *kong.Context) error {
	loc, on, err := chooseDB(kctx, c.DB, nil, "", true)
	if err != nil {
		return err
	}
	if !on {
		return errors.New("ingest: --db: no database file given")
	}
	nodes, files, err := c.files()
	if err != nil {
		return err
	}
	db, err := loc.open(ctx, sink.Options{BusyTimeout: c.DBBusy}, "")
	if err != nil {
		return err
	}
	env.Logger.Info("raw-event sink", "db", loc.Path, "from", loc.From)
	defer db.Close()
	var countries sink.Countries
	if !c.NoGeoIP {
		// No cache: a country lookup in the database costs about what a
		// cache hit does, and a log's addresses rarely repeat soon.
		lookup, err := geo.Open(geo.Options{Path: c.GeoIP.Database, CacheSize: -1})
		if err != nil {
			return fmt.Errorf("geoip: %w", err)
		}
		defer lookup.Close()
		env.Logger.Debug("GeoIP database", "source", lookup.Source())
		countries = lookup
	}

	prog := c.newProgress(env.Stderr, files)
	start := time.Now()
	var results []sink.FileResult
	var failed []error
	var fatal error
	for _, node := range nodes {
		// One ingest of a node at a time; a serve following the node's log
		// meanwhile keeps what it holds (ingest stops where it begins).
		lock, err := db.Acquire(ctx, node, sink.RoleIngest)
		if err != nil {
			fatal = fmt.Errorf("ingest: %w", err)
			break
		}
		in := db.NewIngester(node, sink.IngestOptions{Geo: countries, BatchSize: c.BatchSize, Progress: prog.update, Lock: lock})
		for _, f := range files {
			if f.node != node {
				continue
			}
			prog.start(f)
			res, err := in.File(ctx, f.path)
			prog.done(f, res)
			if err == nil {
				results = append(results, res)
				continue
			}
			switch {
			case ctx.Err() != nil:
				results = append(results, res)
				fatal = fmt.Errorf("ingest: interrupted in %s (what was read is committed: run it again to resume)", f.path)
			case in.Err() != nil:
				fatal = fmt.Errorf("ingest: %w", in.Err())
			default:
				fmt.Fprintf(env.Stderr, "storagenode-exporter: ingest: %s\n", fileError(f.path, err))
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
	if c.OpenMetrics != "" && fatal == nil {
		if err := writeOpenMetrics(c.OpenMetrics, nodes, files, countries); err != nil {
			fatal = err
		} else {
			fmt.Fprintf(env.Stderr, "storagenode-exporter: ingest: wrote %s\n", c.OpenMetrics)
		}
	}
	took := time.Since(start)
	if err := db.Close(); err != nil && fatal == nil { // checkpoints: the summary shows the file's size
		fatal = fmt.Errorf("ingest: %w", err)
	}
	if err := writeSummary(env.Stdout, db, results, took); err != nil {
		return err
	}
	if fatal != nil {
		return fatal
	}
	if len(failed) > 0 {
		return fmt.Errorf("ingest: %d of %d files could not be read", len(failed), len(files))
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

// files reads the NAME:FILE arguments: the nodes in the order they first
// appear, and the files of each node oldest first.
func (c *IngestCmd) files() ([]string, []ingestFile, error) {
	specs := append(append([]string(nil), c.IngestLog...), c.Files...)
	if len(specs) == 0 {
		return nil, nil, errors.New("ingest: no log files: give NAME:FILE arguments (or --ingest-log NAME:FILE)")
	}
	var nodes []string
	byNode := map[string][]string{}
	seen := map[[2]string]bool{}
	for _, s := range specs {
		name, path, ok := strings.Cut(s, ":")
		if !ok || name == "" || path == "" {
			return nil, nil, fmt.Errorf("ingest: %q: want NAME:FILE", s)
		}
		if path == "-" {
			return nil, nil, fmt.Errorf("ingest: %q: standard input cannot be resumed or recognized again: save it to a file first", s)
		}
		if _, ok := byNode[name]; !ok {
			nodes = append(nodes, name)
		}
		if k := [2]string{name, filepath.Clean(path)}; !seen[k] {
			seen[k] = true
			byNode[name] = append(byNode[name], path)
		}
	}
	var files []ingestFile
	for _, n := range nodes {
		for _, p := range logfile.SortRotated(byNode[n]) {
			f := ingestFile{node: n, path: p}
			if st, err := os.Stat(p); err == nil {
				f.size = st.Size()
			}
			files = append(files, f)
		}
	}
	return nodes, files, nil
}

// progress shows how far the ingest is: a bar over the bytes of all files
// on a terminal, else a line per file and one every ten seconds.
type progress struct {
	mode string // bar, lines or none
	w    io.Writer
	bar  *progressbar.ProgressBar

	mu        sync.Mutex
	base      int64 // bytes of the files done
	lastLine  time.Time
	lastBytes int64
}

func (c *IngestCmd) newProgress(w io.Writer, files []ingestFile) *progress {
	mode := c.Progress
	if mode == "auto" {
		mode = "lines"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	p := &progress{mode: mode, w: w}
	if mode == "bar" {
		var total int64
		for _, f := range files {
			total += f.size
		}
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("ingest"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionFullWidth(),
			progressbar.OptionUseIECUnits(true),
		)
	}
	return p
}

func (p *progress) start(f ingestFile) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.mode {
	case "bar":
		p.bar.Describe(fmt.Sprintf("%s %s", f.node, filepath.Base(f.path)))
	case "lines":
		fmt.Fprintf(p.w, "ingest: %s %s (%s)\n", f.node, f.path, humanBytes(f.size))
		p.lastLine, p.lastBytes = time.Now(), 0
	}
}

func (p *progress) update(pr sink.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.mode {
	case "bar":
		p.bar.Set64(p.base + pr.Read)
	case "lines":
		if time.Since(p.lastLine) < 10*time.Second {
			return
		}
		pct := 100.0
		if pr.Size > 0 {
			pct = 100 * float64(pr.Read) / float64(pr.Size)
		}
		fmt.Fprintf(p.w, "ingest: %s %s: %.0f%%, %d lines, %d events\n", pr.Node, pr.Path, pct, pr.Lines, pr.Events)
		p.lastLine = time.Now()
	}
}

func (p *progress) done(f ingestFile, res sink.FileResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.base += f.size
	if p.mode == "bar" {
		p.bar.Set64(p.base)
	}
}

func (p *progress) finish() {
	if p.mode == "bar" {
		p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}

// writeSummary prints what each file gave and the totals.
func writeSummary(w io.Writer, db *sink.DB, results []sink.FileResult, took time.Duration) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "node\tfile\tlines\tevents\t")
	var lines, events int64
	for _, r := range results {
		note := "new"
		switch {
		case r.Skipped && r.HeldBy != "":
			note = "followed by " + r.HeldBy + ", which holds it"
		case r.Skipped:
			note = "already ingested"
		case r.From > 0:
			note = fmt.Sprintf("resumed at byte %d", r.From)
		}
		if r.HeldBy != "" && !r.Skipped {
			note += fmt.Sprintf(", to byte %d: %s follows it from there", r.To, r.HeldBy)
		}
		if r.Compressed {
			note += ", gzip"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", r.Node, r.Path, r.Lines, r.Events, note)
		lines += r.Lines
		events += r.Events
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	rate := ""
	if s := took.Seconds(); s > 0 && events > 0 {
		rate = fmt.Sprintf(" (%.0f events/s)", float64(events)/s)
	}
	size := ""
	if st, err := os.Stat(db.Path()); err == nil {
		size = ", " + humanBytes(st.Size())
	}
	_, err := fmt.Fprintf(w, "%d events from %d lines of %d files in %s%s into %s%s\n",
		events, lines, len(results), took.Round(time.Millisecond), rate, db.Path(), size)
	return err
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// writeOpenMetrics reads the files again, oldest first per node, and writes
// their log-derived counters with timestamps. A file that cannot be read was
// reported by the ingest already and is skipped here too.
func writeOpenMetrics(out string, nodes []string, files []ingestFile, countries sink.Countries) error {
	var geo exporter.Countries
	if countries != nil {
		geo = countries
	}
	w, err := backfill.New(out, backfill.DefaultStep, geo)
	if err != nil {
		return err
	}
	for _, node := range nodes {
		n := w.Node(node)
		for _, f := range files {
			if f.node != node {
				continue
			}
			r, err := logfile.OpenContent(f.path)
			if err != nil {
				continue
			}
			br := bufio.NewReaderSize(r, 1<<20)
			for {
				line, rerr := br.ReadSlice('\n')
				if rerr == bufio.ErrBufferFull { // a line longer than the buffer
					whole := append([]byte(nil), line...)
					for rerr == bufio.ErrBufferFull {
						line, rerr = br.ReadSlice('\n')
						whole = append(whole, line...)
					}
					line = whole
				}
				if len(line) > 0 {
					if err := n.Line(bytes.TrimSuffix(line, []byte("\n"))); err != nil {
						r.Close()
						return err
					}
				}
				if rerr != nil {
					break
				}
			}
			r.Close()
		}
	}
	return w.Close()
}
