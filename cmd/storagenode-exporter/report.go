package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/storagenode-exporter/storagenode-exporter/report"
)

// ReportCmd prints the success-rate report of log files.
type ReportCmd struct {
	Format  string   `default:"text" enum:"text,json" help:"Output format (${enum})."`
	Workers int      `default:"0" help:"Parsing goroutines (0: one per CPU)."`
	Files   []string `arg:"" name:"file" help:"Log files, plain or gzip-compressed; - for standard input." type:"string"`
}

// Run reads every file into one summary and prints it. A file that cannot be
// read is named on stderr and the others are still reported; the exit
// status is then 1.
func (c *ReportCmd) Run(env *Env) error {
	counter := report.NewCounter()
	failed := 0
	for _, path := range c.Files {
		if err := c.read(env, counter, path); err != nil {
			fmt.Fprintf(env.Stderr, "storagenode-exporter: report: %s: %v\n", path, err)
			failed++
		}
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
		return fmt.Errorf("%d of %d files could not be read", failed, len(c.Files))
	}
	return nil
}

func (c *ReportCmd) read(env *Env, counter *report.Counter, path string) error {
	var r io.ReadCloser
	var err error
	if path == "-" && env.Stdin != nil {
		r, err = report.OpenReader(env.Stdin)
	} else {
		r, err = report.Open(path)
	}
	if err != nil {
		return unwrapPath(err)
	}
	defer r.Close()
	return unwrapPath(counter.Read(r, c.Workers))
}

// unwrapPath drops the path an *os.PathError repeats, since the caller
// names the file already.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
