package sink

import (
	"context"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/report"
)

// storedSummary is the tests' view of what the sink holds: report's
// summary of the stored events, counted from the query API with report's
// rules as report --db (package report/dbreport, whose Analyze is the real
// one) counts them. dbreport imports sink, so sink's own tests cannot use
// it.
type stored struct {
	Events  int64
	Summary report.Summary
}

func storedSummary(ctx context.Context, db *DB) (*stored, error) {
	sel, err := db.Select(ctx, "", time.Time{})
	if err != nil {
		return nil, err
	}
	a := &stored{}
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
