// Package backfill writes the log-derived metrics of past log lines as
// OpenMetrics text with timestamps, for
// `promtool tsdb create-blocks-from openmetrics OUT DATA_DIR`.
//
// Lines are counted exactly as `serve` counts them (the same families and
// labels, from exporter.LogMetrics), and every series is sampled once per
// Step of log time: at the end of each step in which the node logged
// anything. OpenMetrics forbids interleaving families, so each family is
// written to a spool file of its own while the logs are read, and the spool
// files are joined into the output at Close. Memory stays flat whatever the
// length of the history.
package backfill

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// DefaultStep is the sampling interval of the written series.
const DefaultStep = time.Minute

// Writer turns log lines of one or more nodes into an OpenMetrics file.
type Writer struct {
	out   string
	dir   string // spool directory
	step  time.Duration
	geo   exporter.Countries
	spool map[string]*spoolFile // by family name
	nodes map[string]*Node
	err   error
}

type spoolFile struct {
	f      *os.File
	w      *bufio.Writer
	header []byte // the family's # HELP and # TYPE lines
}

// Node counts one node's lines. Lines must come in log order.
type Node struct {
	w      *Writer
	reg    *prometheus.Registry
	logs   *exporter.NodeLogs
	next   time.Time // end of the current step; zero before the first line
	dirty  bool      // lines were counted since the last sample
	last   time.Time
	Series int // series written at the last sample
}

// New starts a Writer of the file out. step 0 means DefaultStep. geo may be
// nil (every country is ZZ).
func New(out string, step time.Duration, geo exporter.Countries) (*Writer, error) {
	if step <= 0 {
		step = DefaultStep
	}
	dir, err := os.MkdirTemp(filepath.Dir(out), ".openmetrics-spool-")
	if err != nil {
		return nil, fmt.Errorf("openmetrics: %w", err)
	}
	return &Writer{out: out, dir: dir, step: step, geo: geo, spool: map[string]*spoolFile{}, nodes: map[string]*Node{}}, nil
}

// Node returns the counter of a node's lines, creating it on first use.
func (w *Writer) Node(name string) *Node {
	if n, ok := w.nodes[name]; ok {
		return n
	}
	reg := prometheus.NewRegistry()
	m := exporter.NewLogMetrics(reg)
	// The clock is never "live" for old lines: durations come only from
	// lines with milliseconds, as for a log read after the fact.
	n := &Node{w: w, reg: reg, logs: m.ForNode(name, exporter.NodeOptions{Geo: w.geo, Now: func() time.Time { return time.Time{} }})}
	w.nodes[name] = n
	return n
}

// Line counts one line, first sampling the series if the line's time has
// left the current step.
func (n *Node) Line(line []byte) error {
	if n.w.err != nil {
		return n.w.err
	}
	ev, err := parser.Parse(line)
	if err == nil && !ev.Time.IsZero() {
		if n.next.IsZero() {
			n.next = ev.Time.Truncate(n.w.step).Add(n.w.step)
		}
		if !ev.Time.Before(n.next) {
			if n.dirty {
				if err := n.sample(n.next); err != nil {
					return err
				}
			}
			n.next = ev.Time.Truncate(n.w.step).Add(n.w.step)
		}
	}
	n.logs.Parsed(&ev, err)
	n.dirty = true
	return nil
}

// TooLong counts a line its reader cut for being longer than its limit:
// unparsed, reason too_long, as serve counts it (it has no time of its own:
// the next sample holds it).
func (n *Node) TooLong() error {
	if n.w.err != nil {
		return n.w.err
	}
	n.logs.Parsed(&parser.Event{}, parser.ErrTooLong)
	n.dirty = true
	return nil
}

// Flush samples what was counted since the last sample.
func (n *Node) Flush() error {
	if !n.dirty || n.next.IsZero() {
		return n.w.err
	}
	return n.sample(n.next)
}

// sample writes every series of the node at time t.
func (n *Node) sample(t time.Time) error {
	n.dirty = false
	if !t.After(n.last) {
		return nil // never go back in time within a series
	}
	n.last = t
	mfs, err := n.reg.Gather()
	if err != nil {
		return n.w.fail(fmt.Errorf("openmetrics: gather: %w", err))
	}
	ms := t.UnixMilli()
	n.Series = 0
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			m.TimestampMs = &ms
			n.Series++
		}
		if err := n.w.write(mf); err != nil {
			return err
		}
	}
	return nil
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// write appends a family's samples to its spool file.
func (w *Writer) write(mf *dto.MetricFamily) error {
	var buf bytes.Buffer
	if _, err := expfmt.MetricFamilyToOpenMetrics(&buf, mf); err != nil {
		return w.fail(fmt.Errorf("openmetrics: encode %s: %w", mf.GetName(), err))
	}
	sf, ok := w.spool[mf.GetName()]
	if !ok {
		f, err := os.CreateTemp(w.dir, "family-")
		if err != nil {
			return w.fail(fmt.Errorf("openmetrics: %w", err))
		}
		sf = &spoolFile{f: f, w: bufio.NewWriterSize(f, 64<<10)}
		w.spool[mf.GetName()] = sf
	}
	for _, line := range bytes.SplitAfter(buf.Bytes(), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if line[0] == '#' {
			if !ok {
				sf.header = append(sf.header, line...)
			}
			continue
		}
		if _, err := sf.w.Write(line); err != nil {
			return w.fail(fmt.Errorf("openmetrics: spool: %w", err))
		}
	}
	return nil
}

// Close samples every node once more, joins the families into the output
// file (ending with # EOF) and removes the spool.
func (w *Writer) Close() error {
	defer os.RemoveAll(w.dir)
	for _, n := range w.nodes {
		if err := n.Flush(); err != nil {
			return err
		}
	}
	if w.err != nil {
		return w.err
	}
	tmp := w.out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("openmetrics: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	names := make([]string, 0, len(w.spool))
	for name := range w.spool {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sf := w.spool[name]
		err := errors.Join(sf.w.Flush(), func() error { _, err := sf.f.Seek(0, io.SeekStart); return err }())
		if err == nil {
			_, err = bw.Write(sf.header)
		}
		if err == nil {
			_, err = io.Copy(bw, sf.f)
		}
		sf.f.Close()
		if err != nil {
			f.Close()
			os.Remove(tmp)
			return fmt.Errorf("openmetrics: %s: %w", name, err)
		}
	}
	if _, err := bw.WriteString("# EOF\n"); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("openmetrics: %w", err)
	}
	if err := errors.Join(bw.Flush(), f.Close()); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("openmetrics: %w", err)
	}
	if err := os.Rename(tmp, w.out); err != nil {
		return fmt.Errorf("openmetrics: %w", err)
	}
	return nil
}
