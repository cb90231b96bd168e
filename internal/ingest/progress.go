package ingest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

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

func newProgress(mode string, w io.Writer, files []File) *progress {
	if mode == "auto" || mode == "" {
		mode = "lines"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	p := &progress{mode: mode, w: w}
	if mode == "bar" {
		var total int64
		for _, f := range files {
			total += f.Size
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

func (p *progress) start(f File) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.mode {
	case "bar":
		p.bar.Describe(fmt.Sprintf("%s %s", f.Node, filepath.Base(f.Path)))
	case "lines":
		fmt.Fprintf(p.w, "ingest: %s %s (%s)\n", f.Node, f.Path, HumanBytes(f.Size))
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

func (p *progress) done(f File) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.base += f.Size
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

// WriteSummary prints what each file gave and the totals: a table, then
// "N events from M lines of K files in D (R events/s) into DB, SIZE". db
// is the database file, whose size is shown.
func WriteSummary(w io.Writer, db string, results []sink.FileResult, took time.Duration) error {
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
		if r.TooLong > 0 {
			note += fmt.Sprintf(", %d lines longer than --max-line-length (counted, not stored)", r.TooLong)
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
	if st, err := os.Stat(db); err == nil {
		size = ", " + HumanBytes(st.Size())
	}
	_, err := fmt.Fprintf(w, "%d events from %d lines of %d files in %s%s into %s%s\n",
		events, lines, len(results), took.Round(time.Millisecond), rate, db, size)
	return err
}

// HumanBytes writes a size in IEC units (1.5 MiB).
func HumanBytes(n int64) string {
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
