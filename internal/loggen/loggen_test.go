package loggen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

var start = time.Date(2026, 9, 5, 14, 20, 31, 0, time.UTC)

// The batch log is pinned: bench/report.sh and sink/bench_test.go cache
// logs by their flags, and a change of bytes must be deliberate.
func TestWriteLogPinned(t *testing.T) {
	for _, tc := range []struct {
		f     *Format
		seed  uint64
		start time.Time
		want  string
	}{
		{Current, 1, start, "90d519c330e6fb724ab7ac5b80daf92e5c5e57c27503cdcd198835f1121a20fd"},
		{V142, 3, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), "f3b72f5cbb212186c1aee24d9948df600bea7e70af5aee865ac3a159b0e95d77"},
	} {
		var buf bytes.Buffer
		g := New(tc.f, tc.seed, tc.start)
		if err := g.WriteLog(&buf, 20000); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(buf.Bytes())
		if got := hex.EncodeToString(sum[:]); got != tc.want {
			t.Errorf("seed %d: sha256 %s, want %s (the generator's output changed)", tc.seed, got, tc.want)
		}
		if n := int64(bytes.Count(buf.Bytes(), []byte("\n"))); n != 20000 || g.Expectation().Lines != n {
			t.Errorf("seed %d: %d lines, expectation says %d", tc.seed, n, g.Expectation().Lines)
		}
	}
}

// describe parses every line and names what it is, failing on a line the
// parser does not take.
func describe(t *testing.T, out []byte) []string {
	t.Helper()
	var got []string
	for line := range bytes.Lines(out) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		ev, err := parser.Parse(line)
		if err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		d := ev.Kind.String()
		switch ev.Kind {
		case parser.KindTransferStarted:
			d += " " + ev.Action.String()
		case parser.KindTransferOutcome:
			d += " " + ev.Action.String() + " " + ev.Result.String()
		case parser.KindCompaction:
			if ev.Message == "finished compaction" {
				d += fmt.Sprintf(" finished stats=%v", ev.Compaction.HasStats)
			}
		case parser.KindRetain:
			d += fmt.Sprintf(" phase=%d deleted=%v", ev.Retain.Phase, ev.Retain.Deleted > 0)
		case parser.KindFilewalker:
			w := ev.Walker
			d += fmt.Sprintf(" %s phase=%d bytes=%v trashed=%v", w.Name, w.Phase, w.TotalBytes > 0, w.Trashed > 0)
		case parser.KindTrash:
			d += fmt.Sprintf(" phase=%d", ev.Trash.Phase)
		case parser.KindExpired:
			d += fmt.Sprintf(" phase=%d", ev.Expired.Phase)
		case parser.KindReputation:
			d += fmt.Sprintf(" scores=%v", ev.Reputation.OnlineScore > 0)
		}
		if ev.Kind != parser.KindGeneric && ev.Satellite == "" && ev.Kind != parser.KindUploadRejected && ev.Kind != parser.KindExpired {
			t.Errorf("no satellite: %s", line)
		}
		got = append(got, d)
	}
	return got
}

// Every Event writes lines the parser reads as that event, in both formats.
func TestEventKinds(t *testing.T) {
	fin := fmt.Sprintf("phase=%d", parser.Finished)
	want := map[Event]string{
		Rejected:      "upload_rejected",
		InternalError: "generic",
		Ping:          "ping_failed",
		Orders:        "generic",
		Hashstore:     "compaction finished stats=true",
		Reputation:    "reputation scores=true",
		Updater:       "generic",
		Collector:     "expired " + fin,
		Retain:        "retain " + fin + " deleted=true",
		Trash:         "trash " + fin,
		Bandwidth:     "generic",
		UsedSpaceWalk: "filewalker used-space " + fin + " bytes=true",
		GCWalk:        "filewalker gc " + fin + " bytes=false trashed=true",
		TrashWalk:     "filewalker trash-cleanup " + fin,
	}
	if len(want) != int(NumEvents) {
		t.Fatalf("test covers %d events of %d", len(want), NumEvents)
	}
	for _, f := range []*Format{Current, V142} {
		g := New(f, 1, start)
		g.SetClock(start)
		for ev := range NumEvents {
			g.Event(ev)
			got := describe(t, g.Take())
			found := false
			for _, d := range got {
				found = found || strings.HasPrefix(d, want[ev])
			}
			if !found {
				t.Errorf("format %v, event %d: want a %q line, got %q", f.version, ev, want[ev], got)
			}
		}
	}
}

// Live transfers: a DEBUG started line, then the outcome, with the clock's
// time; every action ends with every result.
func TestTransfers(t *testing.T) {
	g := New(Current, 7, start)
	seen := map[string]int{}
	now := start
	for i := range 20000 {
		now = now.Add(time.Duration(i%3) * time.Second)
		g.SetClock(now)
		tr := g.NewTransfer()
		if tr.Duration <= 0 || tr.Duration > 45*time.Second {
			t.Fatalf("duration %v", tr.Duration)
		}
		g.Start(tr)
		started := describe(t, g.Take())
		if len(started) != 1 || started[0] != "transfer_started "+tr.Action() {
			t.Fatalf("started lines %q for %s", started, tr.Action())
		}
		g.Finish(tr)
		out := g.Take()
		if !bytes.HasPrefix(out, []byte(now.Format(time.RFC3339)+"\t")) {
			t.Fatalf("outcome not at the clock's time %v: %s", now, out)
		}
		for _, d := range describe(t, out) {
			if strings.HasPrefix(d, "transfer_outcome") {
				if want := "transfer_outcome " + tr.Action() + " " + tr.Result(); d != want {
					t.Fatalf("outcome %q, want %q", d, want)
				}
				seen[d]++
			}
		}
	}
	for _, a := range actionNames {
		for _, r := range []string{"success", "canceled", "failed"} {
			if seen["transfer_outcome "+a+" "+r] == 0 {
				t.Errorf("no %s %s in 20000 transfers", a, r)
			}
		}
	}
}

// With StartedShare, WriteLog writes that share of transfers' started line a
// few transfers before their outcome: the outcome share of the lines falls
// to about 1/(1+share), every started transfer but the last few open ones
// ends, and the expectation counts the outcomes written.
func TestStartedShare(t *testing.T) {
	var buf bytes.Buffer
	g := New(Current, 5, start)
	g.StartedShare = 0.7
	if err := g.WriteLog(&buf, 20000); err != nil {
		t.Fatal(err)
	}
	open := map[string]int{}
	outcomes, started, paired := 0, 0, 0
	for line := range bytes.Lines(buf.Bytes()) {
		ev, err := parser.Parse(line)
		if err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		switch ev.Kind {
		case parser.KindTransferStarted:
			if ev.Level != parser.Debug {
				t.Fatalf("started line not at DEBUG: %s", line)
			}
			started++
			open[ev.PieceID]++
		case parser.KindTransferOutcome:
			outcomes++
			if open[ev.PieceID] > 0 {
				open[ev.PieceID]--
				paired++
			}
		}
	}
	if share := float64(outcomes) / 20000; share < 0.55 || share > 0.62 {
		t.Errorf("outcome share %.3f, want about 1/1.7", share)
	}
	if started-paired > inflightMax || paired == 0 {
		t.Errorf("%d started lines, %d paired with their outcome", started, paired)
	}
	var want int64
	for _, o := range g.Expectation().Transfers {
		want += o.Success + o.Canceled + o.Failed
	}
	if int64(outcomes) != want {
		t.Errorf("%d outcome lines, expectation says %d", outcomes, want)
	}
}
