package sink

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// Countries maps a peer address to an ISO 3166 alpha-2 code ("ZZ" when
// unknown); geo.Lookup implements it.
type Countries interface {
	Country(addr netip.Addr) string
}

// DefaultIngestBatch is how many events one transaction of an ingest
// commits when IngestOptions.BatchSize is 0. A batch's rows are held until
// it is written, up to three at a time (being filled, waiting, being
// written): 8,192 keep that near 5 MB. Commits cost little in WAL mode with
// synchronous=NORMAL (no fsync each), so larger batches are not faster.
const DefaultIngestBatch = 8192

// IngestOptions configure an Ingester.
type IngestOptions struct {
	Geo       Countries // nil: no country is stored
	BatchSize int       // events per transaction; 0: DefaultIngestBatch
	Workers   int       // parsing goroutines; 0: one per CPU (they take the CPU the writer leaves while SQLite writes)
	// Progress, when set, is called after every chunk of about 1 MiB, on
	// the goroutine running File.
	Progress func(Progress)

	// Lock, when set, owns the ranges of logs the Ingester reads: taken by
	// Acquire for the node (serve and ingest do). Without one, the ranges
	// have no owner.
	Lock *Lock
	// Follow makes File continue the ranges this reader holds and read a
	// log it does not know from its start, instead of filling every log
	// from its start (serve; see Start).
	Follow bool
	// MaxLine is the longest line read, in bytes without the newline; a
	// longer one is counted in FileResult.TooLong and not held. 0 means
	// logfile.DefaultMaxLine.
	MaxLine int

	chunkSize int // tests: smaller chunks
}

// Progress tells how far File is.
type Progress struct {
	Node, Path string
	// Read is how much of the file was read: bytes of the file on disk (of
	// the compressed data for a gzip file), out of Size.
	Read, Size    int64
	Lines, Events int64 // in this run so far
}

// FileResult is what File did.
type FileResult struct {
	Node, Path string
	Size       int64 // on disk
	Compressed bool
	// From and To are the content offsets this run started and ended at:
	// From > 0 when it resumed a file ingested before, in part or under
	// another name.
	From, To      int64
	Lines, Events int64 // read and written by this run
	// TooLong counts the lines (of Lines) longer than IngestOptions.MaxLine:
	// unparsed, with the reason too_long.
	TooLong int64
	// Skipped: the file had nothing new.
	Skipped bool
	// HeldBy names the live process that reads the rest of the log into the
	// sink (serve follows it): File stopped at To, where its range begins.
	HeldBy   string
	Duration time.Duration
}

// Ingester reads the log files of one node into the DB. Files must be given
// oldest first (node.log.3.gz, node.log.2, node.log.1, node.log), as the
// node wrote them: rule 5 and the pairing of started lines carry from one
// file to the next. An Ingester is not safe for concurrent use.
//
// Ingesting is idempotent and resumable: each file is recognized by its
// fingerprint (the hash of its first bytes, so a renamed, copied or
// compressed log is the same log), and read from the offset committed with
// its last batch, with the reader's state saved alongside. Killed at any
// point and run again, it ends with exactly the rows of an uninterrupted
// run. A last line without a newline is left for the next run in a plain
// file (it may be half written), and read in a compressed one.
type Ingester struct {
	db        *DB
	node      string
	opts      IngestOptions
	state     *readState
	positions []*Position // skipKnown's
	broken    error
	conflicts int // RangeErrors met (tests)
}

// NewIngester returns an Ingester of node's logs into db.
func (db *DB) NewIngester(node string, opts IngestOptions) *Ingester {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultIngestBatch
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.chunkSize <= 0 {
		opts.chunkSize = chunkSize
	}
	return &Ingester{db: db, node: node, opts: opts, state: newReadState()}
}

// Err returns the error of a failed write, after which the Ingester takes
// no more files: the database is at fault, not a file.
func (in *Ingester) Err() error { return in.broken }

// File ingests one log file, plain or gzip-compressed (told by its
// content), from where an earlier run stopped to its end. Errors of the
// file name it; errors of the database name that.
//
// The parts of the log that other readers hold (serve follows it) are not
// read again: File fills the ranges before them, and stops where a range
// another live process extends begins (FileResult.HeldBy). See ranges.go.
func (in *Ingester) File(ctx context.Context, path string) (res FileResult, err error) {
	start := time.Now()
	res = FileResult{Node: in.node, Path: path}
	if in.broken != nil {
		return res, fmt.Errorf("an earlier write failed: %w", in.broken)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	src, err := openLog(path)
	if err != nil {
		return res, err
	}
	defer src.f.Close()
	res.Size, res.Compressed = src.fi.Size(), src.compressed
	if len(src.prefix) == 0 {
		res.Skipped, res.Duration = true, time.Since(start)
		return res, nil
	}
	carried := in.state.encode() // the state of the file before: a new log goes on from it
	first := true
	defer func() { res.Duration = time.Since(start) }()
	for replans := 0; ; replans++ {
		if replans > 1000 {
			return res, fmt.Errorf("%s: the sink's positions of this log keep changing (another process?)", path)
		}
		pl, err := in.plan(ctx, src, in.planArgs(src, path, false))
		if err != nil {
			in.broken = err
			return res, err
		}
		if pl.heldBy != nil {
			res.HeldBy = pl.heldBy.String()
			if first {
				res.Skipped = true
			}
			return res, nil
		}
		pos := pl.pos
		st := pl.state
		if st == nil {
			st = carried
		}
		if in.state, err = decodeState(st); err != nil {
			in.broken = in.db.errf("read position of "+path+" in", err)
			return res, in.broken
		}
		from := pos.Offset
		if first {
			res.From, res.To = from, from
		}
		content, err := src.at(from)
		if err == io.EOF { // shorter than what was read of it: nothing new
			break
		} else if err != nil {
			return res, fmt.Errorf("%s: %w", path, readErr(err))
		}
		// a concatenation of logs read before: skip those
		if content, from, err = in.skipKnown(ctx, path, pos, content, from); err != nil {
			return res, err
		}
		if first {
			res.From, res.To = from, from
			first = false
		}
		if pl.limit >= 0 {
			content = io.LimitReader(content, max(pl.limit-from, 0))
		}
		p := &pipeline{in: in, path: path, pos: pos, size: src.fi.Size(), counted: src.counted, res: &res, free: make(chan []row, 2)}
		err = p.run(ctx, content, from, src.compressed)
		var rerr *RangeError
		if errors.As(err, &rerr) {
			in.conflicts++
			continue // another reader began a range of this log meanwhile
		}
		if err != nil {
			return res, err
		}
		if pl.limit < 0 || res.To < pl.limit {
			break
		}
		// At the next range: it goes on from here.
		_, heldBy, err := in.db.merge(ctx, in.lockID(), pos, pl.limitID)
		if err != nil {
			in.broken = err
			return res, err
		}
		if heldBy != nil {
			res.HeldBy = heldBy.String()
			break
		}
		// plan again: from the end of the range taken over
	}
	res.Skipped = res.To == res.From && res.Events == 0
	return res, nil
}

// Start prepares the following of a log (IngestOptions.Follow, serve): it
// claims the range of the log the sink holds, so that File continues it, or
// when the sink holds none, begins one at the log's last line end (at 0
// with fromBeginning), so that serve takes what the node writes from now
// on, as the metrics do, and an ingest of the log fills what is before.
// The reader's state at the end is warmed on the lines before it (up to
// warmWindow), so that the first lines read pair as they would have. A
// missing or empty file is fine: one that appears later is new, read from
// its start.
func (in *Ingester) Start(ctx context.Context, path string, fromBeginning bool) error {
	src, err := openLog(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer src.f.Close()
	if len(src.prefix) == 0 {
		return nil
	}
	a := in.planArgs(src, path, true)
	a.fromBeginning = fromBeginning
	_, err = in.plan(ctx, src, a)
	return err
}

func (in *Ingester) lockID() int64 {
	if in.opts.Lock == nil {
		return 0
	}
	return in.opts.Lock.ID()
}

func (in *Ingester) planArgs(src *logSource, path string, starting bool) planArgs {
	dev, inode := fileID(src.fi)
	mode := planIngest
	switch {
	case starting:
		mode = planStart
	case in.opts.Follow:
		mode = planFollow
	}
	return planArgs{node: in.node, lock: in.lockID(), mode: mode, prefix: src.prefix, path: path, dev: dev, inode: inode,
		atEnd: func() (int64, []byte, error) {
			if src.compressed {
				return 0, nil, nil
			}
			if src.warmth == nil {
				return 0, nil, errNeedWarmth
			}
			if err := src.warmth.extend(); err != nil {
				return 0, nil, err
			}
			return src.warmth.end, src.warmth.p.in.state.encode(), nil
		}}
}

// skipKnown skips, at the start of a range, what other logs hold: a
// concatenation of rotated files (zcat node.log.2.gz node.log.1 node.log >
// all.log), where one ends, goes on with the start of another read
// already.
func (in *Ingester) skipKnown(ctx context.Context, path string, pos *Position, content io.Reader, from int64) (io.Reader, int64, error) {
	ps, err := in.db.Positions(ctx, in.node)
	if err != nil {
		return nil, 0, err
	}
	in.positions = in.positions[:0]
	for i := range ps {
		if ps[i].ID != pos.ID && ps[i].Start == 0 {
			in.positions = append(in.positions, &ps[i])
		}
	}
	br := bufio.NewReaderSize(content, FingerprintSize)
	for skips := 0; skips < len(in.positions); skips++ {
		next, err := br.Peek(FingerprintSize)
		if err != nil && err != io.EOF {
			return nil, 0, fmt.Errorf("%s: %w", path, readErr(err))
		}
		q := in.match(next, nil)
		if q == nil || q.Offset == 0 {
			break
		}
		n, err := br.Discard(int(q.Offset))
		from += int64(n)
		if err != nil && err != io.EOF {
			return nil, 0, fmt.Errorf("%s: %w", path, readErr(err))
		}
		if q.State != nil {
			st, err := decodeState(q.State)
			if err != nil {
				return nil, 0, in.db.errf("read position of "+q.Path+" in", err)
			}
			in.state = st
		}
	}
	return br, from, nil
}

// logSource is an open log file: its identity (the first bytes of its
// content) and a reader of its content from any offset.
type logSource struct {
	path       string
	f          *os.File
	fi         os.FileInfo
	compressed bool
	prefix     []byte // the first FingerprintSize bytes of the content, or all of a shorter one
	counted    *countingReader
	warmth     *warmth // the state at its end, once needed (warm)
}

// errNeedWarmth asks for a plan again once the log's end state is read:
// outside the transaction, which holds the database's write lock.
var errNeedWarmth = errors.New("the state at the log's end is needed")

// plan plans the reading of a log, reading the state at its end first
// when the plan needs it.
func (in *Ingester) plan(ctx context.Context, src *logSource, a planArgs) (*plan, error) {
	pl, err := in.db.plan(ctx, a)
	if errors.Is(err, errNeedWarmth) {
		if src.warmth, err = src.warm(in.node); err != nil {
			return nil, fmt.Errorf("%s: %w", src.path, err)
		}
		pl, err = in.db.plan(ctx, a)
	}
	return pl, err
}

func openLog(path string) (*logSource, error) {
	f, err := logfile.Open(path)
	if err != nil {
		return nil, err
	}
	s := &logSource{path: path, f: f}
	ok := false
	defer func() {
		if !ok {
			f.Close()
		}
	}()
	if s.fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if s.fi.IsDir() {
		return nil, fmt.Errorf("%s: is a directory", path)
	}
	s.compressed = logfile.Compressed(f)
	content, err := s.at(0)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: %w", path, readErr(err))
	}
	s.prefix = make([]byte, FingerprintSize)
	n := 0
	if err == nil {
		n, err = logfile.Fill(content, s.prefix)
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s: %w", path, readErr(err))
		}
	}
	s.prefix = s.prefix[:n]
	ok = true
	return s, nil
}

// at returns a reader of the content from offset from; io.EOF when the
// content is shorter.
func (s *logSource) at(from int64) (io.Reader, error) {
	if !s.compressed {
		if from > 0 && from >= s.fi.Size() {
			return nil, io.EOF
		}
		if _, err := s.f.Seek(from, io.SeekStart); err != nil {
			return nil, err
		}
		s.counted = &countingReader{r: s.f, n: from}
		return s.counted, nil
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	s.counted = &countingReader{r: s.f}
	zr, err := gzip.NewReader(bufio.NewReaderSize(s.counted, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if from > 0 {
		if _, err := io.CopyN(io.Discard, zr, from); err != nil {
			return nil, err
		}
	}
	return zr, nil
}

// warmWindow is how much of a log before the point where serve starts
// reading it warms the reader's state: race-lost lines, started transfers
// and compactions whose follow-up comes after it (about two minutes of a
// busy node's log).
const warmWindow = 8 << 20

// warmth is a reader's state at the end of a plain log, from the lines of
// the warmWindow before it: what serve starts from in a log it has never
// seen.
type warmth struct {
	src *logSource
	end int64 // after the last line end read
	p   *pipeline
}

// warm reads the lines of the warmWindow before the last line end into a
// fresh state. A compressed file is taken from its start (nothing is
// appended to it): nil.
func (s *logSource) warm(node string) (*warmth, error) {
	if s.compressed {
		return nil, nil
	}
	fi, err := s.f.Stat()
	if err != nil {
		return nil, err
	}
	end, err := lastLineEnd(s.f, fi.Size())
	if err != nil {
		return nil, err
	}
	w := &warmth{src: s, p: &pipeline{in: &Ingester{node: node, state: newReadState()}, dry: true}}
	from := max(0, end-warmWindow)
	if from > 0 { // from the first whole line
		buf := make([]byte, 64<<10)
		for {
			n, err := s.f.ReadAt(buf[:min(int64(len(buf)), end-from)], from)
			if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
				from += int64(i + 1)
				break
			}
			from += int64(n)
			if err != nil || from >= end {
				w.end = end
				return w, nil
			}
		}
	}
	w.end = from
	return w, w.extend()
}

// extend applies the lines written since to the state: it runs inside the
// transaction that begins serve's range, so that the range begins at the
// log's end then, and is short.
func (w *warmth) extend() error {
	fi, err := w.src.f.Stat()
	if err != nil {
		return err
	}
	end, err := lastLineEnd(w.src.f, fi.Size())
	if err != nil || end <= w.end {
		return err
	}
	p := w.p
	r := io.NewSectionReader(w.src.f, w.end, end-w.end)
	var ps parser.Parser
	err = splitLines(r, w.end, false, chunkSize, p.in.opts.MaxLine, func(ch *chunk) bool {
		p.parse(ch, &ps)
		for i := range ch.items {
			p.apply(&ch.items[i])
		}
		items := ch.items[:0]
		itemPool.Put(&items)
		if b := ch.buf[:cap(ch.buf)]; cap(b) == chunkSize {
			chunkPool.Put(&b)
		}
		return true
	})
	if err != nil {
		return err
	}
	w.end = end
	return nil
}

// match finds the position of the log that starts with prefix, but for
// not: the one whose fingerprint covers most of it.
func (in *Ingester) match(prefix []byte, not *Position) *Position {
	var best *Position
	sums := map[int64][]byte{}
	for _, p := range in.positions {
		if p == not {
			continue
		}
		n := p.FingerprintLen
		if n <= 0 || n > int64(len(prefix)) || len(p.Fingerprint) == 0 {
			continue
		}
		sum, ok := sums[n]
		if !ok {
			_, sum = Fingerprint(prefix[:n])
			sums[n] = sum
		}
		if !bytes.Equal(sum, p.Fingerprint) {
			continue
		}
		if best == nil || n > best.FingerprintLen || n == best.FingerprintLen && p.Offset > best.Offset {
			best = p
		}
	}
	return best
}

func readErr(err error) error {
	if err == io.ErrUnexpectedEOF {
		return errors.New("unexpected end of compressed data (truncated file?)")
	}
	return err
}

type countingReader struct {
	r  io.Reader
	n  int64 // read by the pipeline's goroutine, written by the reader's
	mu sync.Mutex
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.mu.Lock()
	c.n += int64(n)
	c.mu.Unlock()
	return n, err
}

func (c *countingReader) count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// chunkSize is how much the reader hands a parsing worker at a time. About
// six chunks are in flight (read, queued, parsed, applied); 256 KiB keeps
// them near 1.5 MB. A longer line grows its chunk up to the maximum line
// length.
const chunkSize = 256 << 10

// chunk is a run of whole lines and what the workers found in them.
type chunk struct {
	start int64  // offset of buf[0] in the content
	end   int64  // offset after its last line
	buf   []byte // whole lines (the last one may lack its newline at the end of a compressed file); nil for a line too long
	lines int64
	// tooLong: the chunk is one line longer than the limit, cut and not parsed
	tooLong bool
	items   []item
	done    chan struct{}
}

// item is a line that adds something: an outcome, a started line, a
// rejection, a reputation or compaction line.
type item struct {
	end int64 // offset after the line
	// An outcome: the row to store, and what rule 5 and pairing need.
	row      row
	pieceID  string
	message  string
	result   parser.Result
	level    parser.Level
	raceLost bool
	outcome  bool
	// A started line: its time and action in row, and pieceID.
	started bool
	other   *parser.Event // the other kinds
}

var itemPool = sync.Pool{New: func() any { s := make([]item, 0, 1024); return &s }}

var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

type pipeline struct {
	in      *Ingester
	path    string
	pos     *Position // owned by the writer goroutine while it runs
	size    int64
	counted *countingReader
	res     *FileResult
	batch   Batch // being filled
	sent    int64 // events handed to the writer
	sentAny bool
	free    chan []row // row buffers the writer is done with
	dry     bool       // only the state: nothing is stored (warming a state up)
}

// run reads content from offset from to its end: a reader goroutine cuts
// it into chunks of lines, workers parse them in parallel, and this
// goroutine applies the rules that need line order and writes the batches.
func (p *pipeline) run(ctx context.Context, content io.Reader, from int64, compressed bool) error {
	in := p.in
	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *chunk, in.opts.Workers)
	order := make(chan *chunk, 2*in.opts.Workers)
	var wg sync.WaitGroup
	for range in.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ps parser.Parser
			for ch := range work {
				p.parse(ch, &ps)
				close(ch.done)
			}
		}()
	}
	var rerr atomic.Value
	go func() {
		defer close(order)
		defer close(work)
		err := splitLines(content, from, compressed, in.opts.chunkSize, in.opts.MaxLine, func(ch *chunk) bool {
			select {
			case order <- ch:
			case <-inner.Done():
				return false
			}
			select {
			case work <- ch:
				return true
			case <-inner.Done():
				close(ch.done) // never parsed: its items are empty
				return false
			}
		})
		if err != nil {
			rerr.Store(err)
		}
	}()
	// The writer: batches are written on a goroutine of their own, so that
	// parsing goes on while SQLite works.
	jobs := make(chan writeJob, 1)
	var failed atomic.Bool
	var werr error
	wdone := make(chan struct{})
	go func() {
		defer close(wdone)
		for j := range jobs {
			if werr != nil {
				continue
			}
			if werr = p.write(j); werr != nil {
				failed.Store(true)
			}
		}
	}()
	finish := func(end int64, final bool, errs ...error) error {
		if final {
			p.send(jobs, end)
		}
		close(jobs)
		<-wdone
		return errors.Join(append([]error{werr}, errs...)...)
	}
	drain := func() {
		cancel()
		for ch := range order {
			<-ch.done
		}
		wg.Wait()
	}

	end := from
	for ch := range order {
		<-ch.done
		if failed.Load() {
			drain()
			return finish(end, false)
		}
		if err := ctx.Err(); err != nil {
			// stopped: commit what was sequenced, then stop
			drain()
			return finish(end, true, err)
		}
		for i := range ch.items {
			it := &ch.items[i]
			p.apply(it)
			if len(p.batch.rows) >= in.opts.BatchSize {
				p.send(jobs, it.end)
			}
		}
		end = ch.end
		p.res.Lines += ch.lines
		if ch.tooLong {
			p.res.TooLong++
		}
		b := ch.buf[:cap(ch.buf)]
		if cap(b) == chunkSize {
			chunkPool.Put(&b)
		}
		items := ch.items[:0]
		itemPool.Put(&items)
		if in.opts.Progress != nil {
			in.opts.Progress(Progress{Node: in.node, Path: p.path, Read: p.counted.count(), Size: p.size,
				Lines: p.res.Lines, Events: p.sent + int64(len(p.batch.rows))})
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil { // the reader stopped early
		return finish(end, true, err)
	}
	if err, _ := rerr.Load().(error); err != nil {
		// what was read before the error is committed; a rerun retries
		return finish(end, true, fmt.Errorf("%s: %w", p.path, err))
	}
	nothingNew := end == from && !p.sentAny && p.batch.empty() && p.pos.ID != 0
	return finish(end, !nothingNew)
}

// writeJob is a batch for the writer, with the position and reader state
// it ends at.
type writeJob struct {
	batch Batch
	end   int64
	state []byte
}

// send hands the batch to the writer, to be committed with position end
// and the state after it.
func (p *pipeline) send(jobs chan<- writeJob, end int64) {
	p.sent += int64(len(p.batch.rows))
	p.sentAny = true
	jobs <- writeJob{batch: p.batch, end: end, state: p.in.state.encode()}
	var rows []row
	select {
	case rows = <-p.free:
	default:
	}
	p.batch = Batch{rows: rows}
}

// write commits a job; it runs on the writer goroutine, which owns p.pos
// and the result's To and Events meanwhile.
func (p *pipeline) write(j writeJob) error {
	pos := *p.pos
	pos.Offset, pos.State = j.end, j.state
	j.batch.Position = &pos
	// A batch is never interrupted: cancellation is checked between chunks.
	if err := p.in.db.Write(context.Background(), &j.batch); err != nil {
		var rerr *RangeError
		if !errors.As(err, &rerr) { // else the reader plans again
			p.in.broken = err
		}
		return err
	}
	*p.pos = pos
	p.res.Events += int64(len(j.batch.rows))
	p.res.To = j.end
	select {
	case p.free <- j.batch.rows[:0]:
	default:
	}
	return nil
}

func (b *Batch) empty() bool {
	return len(b.Events) == 0 && len(b.rows) == 0 && len(b.Rejections) == 0 && len(b.Reputation) == 0 &&
		len(b.Snapshots) == 0 && len(b.Compactions) == 0
}

// parse parses a chunk's lines and keeps those that add something.
func (p *pipeline) parse(ch *chunk, ps *parser.Parser) {
	geo := p.in.opts.Geo
	b := ch.buf
	ch.items = (*itemPool.Get().(*[]item))[:0]
	if ch.tooLong {
		ch.lines = 1
		return
	}
	off := ch.start
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		var line []byte
		if i < 0 {
			line, b = b, nil
			off += int64(len(line))
		} else {
			line, b = b[:i], b[i+1:]
			off += int64(i + 1)
		}
		ch.lines++
		ev, err := ps.Parse(line)
		if err != nil {
			continue
		}
		switch ev.Kind {
		case parser.KindTransferOutcome:
			country := ""
			if ev.Remote.IsValid() && geo != nil {
				country = geo.Country(ev.Remote.Addr())
			}
			e := EventFrom(p.in.node, &ev, ev.Result, country)
			ch.items = append(ch.items, item{end: off, row: e.row(), pieceID: ev.PieceID, message: ev.Message,
				result: ev.Result, level: ev.Level, raceLost: ev.RaceLost, outcome: true})
		case parser.KindTransferStarted: // what pairing needs, without a copy of the event
			ch.items = append(ch.items, item{end: off, row: row{time: ev.Time, action: int64(ev.Action)},
				pieceID: ev.PieceID, started: true})
		case parser.KindUploadRejected, parser.KindReputation, parser.KindCompaction:
			other := ev // a copy, so that ev does not escape for every line
			ch.items = append(ch.items, item{end: off, other: &other})
		}
	}
}

// apply counts one item in line order.
func (p *pipeline) apply(it *item) {
	s, node := p.in.state, p.in.node
	if it.outcome {
		ev := parser.Event{Kind: parser.KindTransferOutcome, Time: it.row.time, Level: it.level, Message: it.message,
			Action: parser.Action(it.row.action), Result: it.result, RaceLost: it.raceLost, PieceID: it.pieceID}
		o := s.outcome(&ev)
		if !o.Counted || p.dry {
			return
		}
		if p.batch.rows == nil {
			p.batch.rows = make([]row, 0, p.in.opts.BatchSize)
		}
		p.batch.rows = append(p.batch.rows, it.row)
		r := &p.batch.rows[len(p.batch.rows)-1]
		r.status = int64(o.Result)
		r.timed, r.durationMS = o.Timed, o.Duration.Milliseconds()
		return
	}
	if it.started {
		ev := parser.Event{Kind: parser.KindTransferStarted, Time: it.row.time, Action: parser.Action(it.row.action),
			PieceID: it.pieceID}
		s.see(ev.Time)
		s.start(&ev)
		return
	}
	ev := it.other
	s.see(ev.Time)
	switch ev.Kind {
	case parser.KindTransferStarted:
		s.start(ev)
	case parser.KindCompaction:
		if c, ok := s.compaction(node, ev); ok && !p.dry {
			p.batch.Compactions = append(p.batch.Compactions, c)
		}
	}
	if p.dry {
		return
	}
	switch ev.Kind {
	case parser.KindUploadRejected:
		p.batch.Rejections = append(p.batch.Rejections, Rejection{Time: ev.Time, Node: node})
	case parser.KindReputation:
		if ev.Satellite != "" && ev.Reputation != nil {
			p.batch.Reputation = append(p.batch.Reputation, ReputationFrom(node, ev))
		}
	}
}

// splitLines reads r into chunks of whole lines and hands each to emit,
// until r ends or emit returns false. A last line without a newline is
// emitted only with keepTail. A line longer than a chunk (and not than
// maxLine) makes its chunk grow to hold it; a line longer than maxLine is a
// chunk of its own, marked tooLong, without its bytes.
func splitLines(r io.Reader, start int64, keepTail bool, size, maxLine int, emit func(*chunk) bool) error {
	get := func() []byte {
		if size != chunkSize {
			return make([]byte, size)
		}
		return *chunkPool.Get().(*[]byte)
	}
	opts := logfile.ChunkOptions{Get: get, Start: start, MaxLine: maxLine, KeepTail: keepTail}
	err := logfile.SplitChunks(r, opts, func(c logfile.Chunk) bool {
		ch := &chunk{start: c.Start, end: c.End, buf: c.Buf, tooLong: c.TooLong, done: make(chan struct{})}
		if c.TooLong {
			ch.buf = nil
		}
		return emit(ch)
	})
	if err != nil {
		return readErr(err)
	}
	return nil
}
