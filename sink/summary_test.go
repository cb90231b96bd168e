package sink

import (
	"context"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/report"
)

// AnalyzeOptions and Analyze are the tests' view of what the sink holds:
// report's summary of the stored events, counted from the query API with
// report's rules as report --db (package report/dbreport) counts them.
// dbreport imports sink, so sink's own tests cannot use it.
type AnalyzeOptions struct{}

type analysis struct {
	Events  int64
	Summary report.Summary
}

func Analyze(ctx context.Context, db *DB, _ AnalyzeOptions) (*analysis, error) {
	sel, err := db.Select(ctx, "", time.Time{})
	if err != nil {
		return nil, err
	}
	a := &analysis{}
	s := &a.Summary
	transfers, err := sel.Transfers(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range transfers {
		a.Events += c.Count
		s.AddOutcomes(c.Satellite, c.Action, c.Result, c.Count, c.SuccessBytes)
	}
	failures, err := sel.Failures(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range failures {
		s.AddFailures(f.Action, f.Error, f.Count)
	}
	if s.UploadsRejected, err = sel.UploadsRejected(ctx); err != nil {
		return nil, err
	}
	if s.First, s.Last, err = sel.Span(ctx); err != nil {
		return nil, err
	}
	return a, nil
}
