package sink

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
	"github.com/storagenode-exporter/storagenode-exporter/pairing"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
	"github.com/storagenode-exporter/storagenode-exporter/tail"
)

// counting is a node's counting path as serve runs it (parse, pair, hand
// the outcomes over), without the metrics.
type counting struct {
	f     *Feed
	pair  *pairing.Pairing
	lines int
}

func (c *counting) line(line []byte, pos tail.Pos) {
	c.f.Lock()
	defer c.f.Unlock()
	c.lines++
	ev, err := parser.Parse(line)
	if err == nil {
		switch ev.Kind {
		case parser.KindTransferStarted:
			c.pair.Start(&ev)
		case parser.KindTransferOutcome:
			if o := c.pair.Outcome(&ev); o.Counted {
				e := EventFrom("n1", &ev, o.Result, "")
				e.Duration, e.Timed = o.Duration, o.Timed
				c.f.Outcome(e)
			}
		default:
			c.pair.See(ev.Time)
		}
		c.f.Event(&ev)
	}
	c.f.Advance(pos)
}

// follow runs a tail follower of path into c, stepped by the test.
func follow(t *testing.T, path string, c *counting) (step func()) {
	p := testutil.NewStepPoller()
	fl := tail.New(tail.Config{Path: path, Poller: p})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		fl.RunPos(ctx, func(line []byte, pos tail.Pos) error { c.line(line, pos); return nil })
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	<-p.Parked()
	return func() {
		p.Wake() <- struct{}{}
		<-p.Parked()
	}
}

// A followed file reaches the sink through the counting path: read once
// while the writer keeps up, caught up from the file when it fell behind
// (rows dropped) or after a rotation, and an ingest of the logs afterwards
// completes them: the rows are those of one ingest of the logs.
func TestFeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	log := filepath.Join(dir, "node.log")
	head, rest := splitLog(t, scaled(16000), 11, scaled(4000))
	appendFile(t, log, head)
	db := openTest(t, filepath.Join(dir, "s.db"))
	f := db.NewFeed("n1", log, FeedOptions{Lock: acquire(t, db, "n1", RoleServe), BatchRows: 100, MaxPending: scaled(1000)})
	state, err := f.Start(ctx, false)
	if err != nil || state == nil {
		t.Fatalf("start: %v, state %v", err, state)
	}
	c := &counting{f: f, pair: pairing.New(pairing.Options{})}
	if err := c.pair.Load(state); err != nil { // warmed on the lines before the end
		t.Fatal(err)
	}
	f.UsePairing(c.pair)
	step := follow(t, log, c)
	f.in.opts.Geo = nil

	// steady: a few hundred lines at a time, each written at once
	lines := splitAfter(rest)
	chunk := scaled(300)
	i := 0
	for ; i < len(lines)/2; i += chunk {
		appendFile(t, log, join(lines[i:min(i+chunk, len(lines))]))
		step()
		f.write(ctx)
		if f.failing {
			t.Fatal("write failed")
		}
	}
	if f.caughtUp != 0 {
		t.Errorf("the sink read %d lines itself while current", f.caughtUp)
	}
	// a slow disk: the rows of many lines wait, more than MaxPending
	appendFile(t, log, join(lines[i:]))
	step()
	f.write(ctx)
	if f.caughtUp == 0 {
		t.Error("nothing was caught up after rows were dropped")
	}
	want, wantN := wantContents(t, log)
	// serve held the file from its end: an ingest adds the start
	in := db.NewIngester("n1", IngestOptions{Lock: acquire(t, db, "n1", RoleIngest)})
	if res, err := in.File(ctx, log); err != nil || res.To != int64(len(head)) || res.HeldBy == "" {
		t.Fatalf("ingest: %+v %v", res, err)
	}
	if got, n := contents(t, db); got != want || n != wantN {
		t.Errorf("%d events, want %d, or other rows", n, wantN)
		w := openTest(t, filepath.Join(t.TempDir(), "w.db"))
		ingest(t, w, "n1", IngestOptions{}, log)
		dumpDiff(t, db, w)
	}

	// rotation: the old file's last lines, then the new file from its start
	before := f.caughtUp
	appendFile(t, log, []byte("2026-09-05T15:00:00.000Z\tINFO\tpiecestore\tuploaded\t{\"piece_id\": \"AAAA\", \"action\": \"PUT\", \"size\": 1}\n"))
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, []byte("2026-09-05T15:00:01.000Z\tINFO\tpiecestore\tdownloaded\t{\"piece_id\": \"BBBB\", \"action\": \"GET\", \"size\": 1}\n"))
	step()
	f.write(ctx)
	if f.caughtUp != before {
		t.Errorf("a rotation was caught up from the files (%d lines)", f.caughtUp-before)
	}
	var n int
	db.SQL().QueryRow("SELECT count(*) FROM events WHERE piece_id IN ('AAAA', 'BBBB')").Scan(&n)
	if n != 2 {
		t.Errorf("%d of the lines around the rotation", n)
	}
	ps, _ := db.Positions(ctx, "n1")
	if len(ps) != 2 {
		t.Errorf("%d ranges, want the two files'", len(ps))
	}
}

func splitAfter(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		out = append(out, b[:min(i+1, len(b))])
		b = b[min(i+1, len(b)):]
	}
	return out
}

func join(ls [][]byte) []byte {
	var out []byte
	for _, l := range ls {
		out = append(out, l...)
	}
	return out
}
