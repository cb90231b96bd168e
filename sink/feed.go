package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/pairing"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
	"github.com/storagenode-exporter/storagenode-exporter/tail"
)

// A Feed writes a followed log file into the sink from the lines serve
// counts, so that the file is read and parsed once for the metrics and the
// sink, and paired once: the outcomes are the counting path's (package
// pairing), and the state committed with each batch is its Pairing's.
//
// The counting goroutine hands each line's outcome and history rows to the
// Feed (Outcome, Event) and then where the line ends (Advance), under the
// Feed's lock (Lock, Unlock), so that the writer (Run) can take what came
// since its last batch, with the pairing's state at that point, between
// two lines. When the writer falls behind (a slow disk: more than
// MaxPending rows wait), the Feed drops what waits instead of slowing the
// metrics, and the writer catches up by reading the file itself from the
// position committed last, as ingest does; it also does so at start, for
// the lines written while serve was down. Either way nothing is lost, and
// once it is current the file is read once again.
type Feed struct {
	db   *DB
	node string
	path string
	opts FeedOptions
	in   *Ingester // the catch-up reader (Follow)

	mu      sync.Mutex
	state   *readState   // the counting path's pairing, the compactions in progress
	cur     feedBatch    // since the last take
	sealed  []*feedBatch // of files left since the last take (rotation)
	file    *feedFile    // the file of the last line
	dropped bool         // rows were dropped since the last take: catch up
	notify  chan struct{}

	pos      *Position // committed (writer)
	posFile  *feedFile // the file pos is of, when known (writer)
	failing  bool
	caughtUp int64 // lines read by catching up (tests)
}

// FeedOptions configure a Feed.
type FeedOptions struct {
	Lock *Lock // the node's serve lock: it owns the ranges the Feed writes

	// BatchRows is how many rows make the writer take a batch before its
	// interval (default 4096); MaxPending how many may wait before they
	// are dropped and caught up from the file (default 4 batches).
	BatchRows, MaxPending int
	// CatchUp, when set, is held while a Feed catches up: one file is read
	// at a time.
	CatchUp *sync.Mutex
	// OnCommit, when set, is told after each write the bytes of the
	// followed file not in the sink yet, and the error of a failed write.
	OnCommit func(lagBytes int64, err error)
	// MaxLine is the longest line a catch-up reads, as the follower's
	// limit (0: logfile.DefaultMaxLine).
	MaxLine int
}

// feedFile is a file the counting path read lines from.
type feedFile struct {
	epoch        uint64
	prefix       []byte // its first FingerprintSize bytes when its first line was counted
	dev, inode   uint64
	fingerprintN int64
	fingerprint  []byte
}

// feedBatch is what came from the lines of one file since the last take.
type feedBatch struct {
	file      *feedFile
	from, end int64 // the lines' range in the file
	rows      []row
	hist      Batch
	// where the line of each row ends, by kind: rows, rejections,
	// reputation, compactions
	ends    [4][]int64
	state   []byte // the reader's state at end
	dropped bool   // rows before from were dropped
}

func (b *feedBatch) empty() bool { return b.file == nil || b.end == b.from }

// NewFeed returns the Feed of a node's log file at path.
func (db *DB) NewFeed(node, path string, opts FeedOptions) *Feed {
	if opts.BatchRows <= 0 {
		opts.BatchRows = 4096
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = 4 * opts.BatchRows
	}
	f := &Feed{db: db, node: node, path: path, opts: opts, notify: make(chan struct{}, 1),
		state: &readState{pair: pairing.New(pairing.Options{}), comp: map[compKey]compAcc{}}}
	f.in = db.NewIngester(node, IngestOptions{Workers: 1, BatchSize: opts.BatchRows, Lock: opts.Lock, Follow: true, MaxLine: opts.MaxLine})
	return f
}

// UsePairing makes the Feed commit the state of the counting path's
// Pairing, whose outcomes it takes: before the first line.
func (f *Feed) UsePairing(p *pairing.Pairing) {
	f.mu.Lock()
	f.state.pair = p
	f.mu.Unlock()
}

// Start claims the range of the log the sink holds, or begins one at its
// end (at its start with fromBeginning): see Ingester.Start. It returns the
// pairing part of the reader's state at the range's end, to restore the
// counting path's Pairing from before the log is followed (nil: none).
func (f *Feed) Start(ctx context.Context, fromBeginning bool) ([]byte, error) {
	if err := f.in.Start(ctx, f.path, fromBeginning); err != nil {
		return nil, err
	}
	ps, err := f.db.Positions(ctx, f.node)
	if err != nil {
		return nil, err
	}
	for i := range ps {
		p := &ps[i]
		if f.opts.Lock != nil && p.Owner == f.opts.Lock.ID() && (f.pos == nil || p.Updated.After(f.pos.Updated)) {
			f.pos = p
		}
	}
	if f.pos == nil || len(f.pos.State) == 0 || fromBeginning {
		return nil, nil
	}
	st, err := decodeState(f.pos.State)
	if err != nil {
		return nil, nil // a state of another version: start afresh
	}
	f.mu.Lock()
	f.state.comp = st.comp
	f.mu.Unlock()
	return st.pair.AppendState(nil), nil
}

// Lock is taken by the counting goroutine around a line: Outcome and
// Event, then Advance.
func (f *Feed) Lock()   { f.mu.Lock() }
func (f *Feed) Unlock() { f.mu.Unlock() }

// Outcome takes a counted transfer outcome of the line being counted.
func (f *Feed) Outcome(e Event) {
	if e.Time.IsZero() { // a log without times: when it was read
		e.Time = time.Now()
	}
	f.cur.rows = append(f.cur.rows, e.row())
	f.cur.ends[0] = append(f.cur.ends[0], -1)
}

// Event takes a history line of the line being counted: a rejection, a
// reputation or a compaction line.
func (f *Feed) Event(ev *parser.Event) {
	b, n, ends := &f.cur.hist, f.node, &f.cur.ends
	switch ev.Kind {
	case parser.KindUploadRejected:
		b.Rejections = append(b.Rejections, Rejection{Time: ev.Time, Node: n})
		ends[1] = append(ends[1], -1)
	case parser.KindReputation:
		if ev.Satellite != "" && ev.Reputation != nil {
			b.Reputation = append(b.Reputation, ReputationFrom(n, ev))
			ends[2] = append(ends[2], -1)
		}
	case parser.KindCompaction:
		if c, ok := f.state.compaction(n, ev); ok {
			b.Compactions = append(b.Compactions, c)
			ends[3] = append(ends[3], -1)
		}
	}
}

// Advance records where the line just counted ends: its rows are the
// file's up to there.
func (f *Feed) Advance(pos tail.Pos) {
	if f.file == nil || pos.Epoch != f.file.epoch {
		f.newFile(pos)
	}
	for k := range f.cur.ends {
		e := f.cur.ends[k]
		for i := len(e) - 1; i >= 0 && e[i] < 0; i-- {
			e[i] = pos.End
		}
	}
	if f.cur.file == nil {
		f.cur.file, f.cur.from = f.file, pos.Start
	}
	f.cur.end = pos.End
	switch n := len(f.cur.rows); {
	case n >= f.opts.MaxPending: // the writer is behind: it catches up from the file
		f.cur = feedBatch{file: f.file, from: pos.End, end: pos.End, rows: f.cur.rows[:0]}
		f.dropped = true
	case n >= f.opts.BatchRows:
		select {
		case f.notify <- struct{}{}:
		default:
		}
	}
}

// newFile starts the rows of another file (rotation, truncation): what
// came from the one before waits as a batch of its own.
func (f *Feed) newFile(pos tail.Pos) {
	nf := &feedFile{epoch: pos.Epoch}
	if pos.File != nil {
		nf.prefix = make([]byte, FingerprintSize)
		n, _ := pos.File.ReadAt(nf.prefix, 0)
		nf.prefix = nf.prefix[:n]
	}
	if pos.Info != nil {
		nf.dev, nf.inode = fileID(pos.Info)
	}
	// the rows of the line being counted are the new file's
	old, cur := f.cur, feedBatch{}
	n := 0
	for i := len(old.ends[0]) - 1; i >= 0 && old.ends[0][i] < 0; i-- {
		n++
	}
	cur.rows, old.rows = append(cur.rows, old.rows[len(old.rows)-n:]...), old.rows[:len(old.rows)-n]
	cur.hist.Rejections, old.hist.Rejections = splitTail(old.hist.Rejections, old.ends[1])
	cur.hist.Reputation, old.hist.Reputation = splitTail(old.hist.Reputation, old.ends[2])
	cur.hist.Compactions, old.hist.Compactions = splitTail(old.hist.Compactions, old.ends[3])
	for k := range old.ends {
		e := old.ends[k]
		i := len(e)
		for i > 0 && e[i-1] < 0 {
			i--
		}
		cur.ends[k], old.ends[k] = append([]int64(nil), e[i:]...), e[:i]
	}
	if !old.empty() {
		// the old file's last lines: a batch of their own (the state
		// holds the first line of the new file too; nothing follows in
		// the old one)
		old.state, old.dropped = f.state.encode(), f.dropped
		f.sealed = append(f.sealed, &old)
		f.dropped = false
	}
	f.cur = cur
	f.file = nf
}

// take seals what came since the last take, with the reader's state:
// the batches of the files left, then the current one.
func (f *Feed) take() []*feedBatch {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.sealed
	f.sealed = nil
	b := f.cur
	b.dropped = f.dropped
	if b.empty() && !b.dropped {
		return out
	}
	b.state = f.state.encode()
	f.cur = feedBatch{file: b.file, from: b.end, end: b.end}
	f.dropped = false
	return append(out, &b)
}

// Run writes what the Feed takes until ctx is done, then what it holds.
// interval is how often a batch is taken at most (a second); geo gives the
// countries of the rows it reads itself when it catches up.
func (f *Feed) Run(ctx context.Context, interval time.Duration, geo Countries) {
	f.in.opts.Geo = geo
	tick := time.NewTicker(interval)
	defer tick.Stop()
	// the lines written while serve was down
	f.report(f.catchUp(ctx, nil))
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			f.write(final)
			cancel()
			return
		case <-tick.C:
		case <-f.notify:
		}
		f.write(ctx)
	}
}

// write commits what the Feed took since the last write, catching up from
// the file first when rows were dropped or the sink holds less than where
// they begin.
func (f *Feed) write(ctx context.Context) {
	bs := f.take()
	var err error
	if len(bs) == 0 && f.failing {
		err = f.catchUp(ctx, nil)
	}
	for _, b := range bs {
		err = f.commit(ctx, b)
		var rerr *RangeError
		if errors.As(err, &rerr) {
			f.pos = nil // another reader began a range: plan again and catch up
			err = f.catchUp(ctx, b.file)
		}
	}
	f.report(err)
}

func (f *Feed) report(err error) {
	f.failing = err != nil
	if f.opts.OnCommit == nil {
		return
	}
	lag := int64(0)
	if fi, serr := os.Stat(f.path); serr == nil {
		lag = fi.Size()
		if dev, inode := fileID(fi); f.pos != nil && (dev != 0 || inode != 0) && dev == f.pos.Dev && inode == f.pos.Inode {
			lag = max(fi.Size()-f.pos.Offset, 0)
		}
	}
	f.opts.OnCommit(lag, err)
}

func sameFile(fi fs.FileInfo, ff *feedFile) bool {
	dev, inode := fileID(fi)
	return (dev != 0 || inode != 0) && dev == ff.dev && inode == ff.inode
}

// commit writes a batch: the rows of its lines the sink does not hold yet,
// and the position at its end.
func (f *Feed) commit(ctx context.Context, b *feedBatch) error {
	if f.pos == nil || f.posFile != b.file {
		if err := f.plan(ctx, b.file); err != nil {
			return err
		}
	}
	if b.dropped || b.from > f.pos.Offset {
		return f.catchUp(ctx, b.file)
	}
	if b.end <= f.pos.Offset {
		return nil // held already (serve started from the beginning)
	}
	out := Batch{Position: f.position(b.end, b.state)}
	out.rows = held(b.rows, b.ends[0], f.pos.Offset)
	out.Rejections = held(b.hist.Rejections, b.ends[1], f.pos.Offset)
	out.Reputation = held(b.hist.Reputation, b.ends[2], f.pos.Offset)
	out.Compactions = held(b.hist.Compactions, b.ends[3], f.pos.Offset)
	if err := f.db.Write(ctx, &out); err != nil {
		return err
	}
	f.pos = out.Position
	return nil
}

// splitTail returns the items of the line being counted (ends -1) and the
// others.
func splitTail[T any](items []T, ends []int64) (tail, rest []T) {
	i := len(ends)
	for i > 0 && ends[i-1] < 0 {
		i--
	}
	return append([]T(nil), items[i:]...), items[:i]
}

// held returns the items whose line ends after from: those the sink does
// not hold yet.
func held[T any](items []T, ends []int64, from int64) []T {
	i := 0
	for i < len(ends) && ends[i] <= from {
		i++
	}
	return items[i:]
}

func (f *Feed) position(end int64, state []byte) *Position {
	p := *f.pos
	p.Offset, p.State = end, state
	p.FingerprintLen, p.Fingerprint = f.posFile.fingerprintN, f.posFile.fingerprint
	if p.FingerprintLen < int64(len(f.posFile.prefix)) {
		p.FingerprintLen, p.Fingerprint = Fingerprint(f.posFile.prefix)
	}
	return &p
}

// plan finds the range of the sink that a file's lines continue: the one
// this process holds of it, else a new one (planFollow).
func (f *Feed) plan(ctx context.Context, ff *feedFile) error {
	if len(ff.prefix) == 0 {
		return errors.New("the followed file's start could not be read")
	}
	a := planArgs{node: f.node, lock: f.in.lockID(), mode: planFollow, prefix: ff.prefix, path: f.path, dev: ff.dev, inode: ff.inode,
		atEnd: func() (int64, []byte, error) { return 0, nil, errNeedWarmth }}
	pl, err := f.db.plan(ctx, a)
	if errors.Is(err, errNeedWarmth) {
		// rows of the file are held by another live process (an ingest):
		// the catch-up reader begins a range of its own at its end
		return f.catchUp(ctx, ff)
	}
	if err != nil {
		return err
	}
	f.pos, f.posFile = pl.pos, ff
	ff.fingerprintN, ff.fingerprint = pl.pos.FingerprintLen, pl.pos.Fingerprint
	return nil
}

// catchUp reads the file of ff (nil: the file of the range held) from the
// position the sink holds to its end, as ingest does, and takes the range
// it ends with: the counting path's next rows continue it.
func (f *Feed) catchUp(ctx context.Context, ff *feedFile) error {
	if f.opts.CatchUp != nil {
		f.opts.CatchUp.Lock()
		defer f.opts.CatchUp.Unlock()
	}
	if ff == nil {
		ff = f.posFile
	}
	path := f.path
	if ff != nil {
		if p, ok := f.locate(ff); ok {
			path = p
			if len(ff.prefix) < FingerprintSize { // a short file when first seen: its identity now
				if src, err := openLog(p); err == nil {
					ff.prefix = src.prefix
					src.f.Close()
				}
			}
		}
	}
	if f.in.Err() != nil { // a failed write: start over from what is committed
		f.in = f.db.NewIngester(f.node, f.in.opts)
	}
	res, err := f.in.File(ctx, path)
	f.caughtUp += res.Lines
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	// the range that holds the file now
	ps, err := f.db.Positions(ctx, f.node)
	if err != nil {
		return err
	}
	f.pos = nil
	for i := range ps {
		p := &ps[i]
		if p.Offset != res.To || p.Owner != f.in.lockID() {
			continue
		}
		if ff != nil && identityRows([]Position{*p}, ff.prefix) == nil {
			continue
		}
		if f.pos == nil || p.ID > f.pos.ID {
			f.pos = p
		}
	}
	if ff == nil {
		return nil
	}
	if f.pos == nil {
		return fmt.Errorf("%s: no range holds it after catching up", path)
	}
	f.posFile = ff
	ff.fingerprintN, ff.fingerprint = f.pos.FingerprintLen, f.pos.Fingerprint
	return nil
}

// locate finds the file of ff: at the path, or renamed to path.1 by a
// rotation.
func (f *Feed) locate(ff *feedFile) (string, bool) {
	for _, p := range []string{f.path, f.path + ".1"} {
		if fi, err := os.Stat(p); err == nil && sameFile(fi, ff) {
			return p, true
		}
	}
	return "", false
}

var _ io.ReaderAt = (*os.File)(nil)
