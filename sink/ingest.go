package sink

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"github.com/storagenode-exporter/storagenode-exporter/internal/linechunk"
	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
	"io"
	"net/netip"
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
// commits when IngestOptions.BatchSize is 0.
const DefaultIngestBatch = 50_000

// IngestOptions configure an Ingester.
type IngestOptions struct {
	Geo       Countries // nil: no country is stored
	BatchSize int       // events per transaction; 0: DefaultIngestBatch
	Workers   int       // parsing goroutines; 0: one per CPU but one (the writer's)
	// Progress, when set, is called after every chunk of about 1 MiB, on
	// the goroutine running File.
	Progress func(Progress)

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
	// Skipped: the file had nothing new.
	Skipped  bool
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
	positions []*Position
	loaded    bool
	broken    error
}

// NewIngester returns an Ingester of node's logs into db.
func (db *DB) NewIngester(node string, opts IngestOptions) *Ingester {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultIngestBatch
	}
	if opts.Workers <= 0 {
		opts.Workers = max(1, runtime.GOMAXPROCS(0)-1)
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
func (in *Ingester) File(ctx context.Context, path string) (FileResult, error) {
	start := time.Now()
	res := FileResult{Node: in.node, Path: path}
	if in.broken != nil {
		return res, fmt.Errorf("an earlier write failed: %w", in.broken)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if !in.loaded {
		ps, err := in.db.Positions(ctx, in.node)
		if err != nil {
			return res, err
		}
		for i := range ps {
			in.positions = append(in.positions, &ps[i])
		}
		in.loaded = true
	}
	f, err := logfile.Open(path)
	if err != nil {
		return res, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return res, err
	}
	if fi.IsDir() {
		return res, fmt.Errorf("%s: is a directory", path)
	}
	res.Size = fi.Size()
	res.Compressed = logfile.Compressed(f)

	counted := &countingReader{r: f}
	var content io.Reader = counted
	var zr *gzip.Reader
	if res.Compressed {
		if zr, err = gzip.NewReader(bufio.NewReaderSize(counted, 1<<16)); err != nil {
			return res, fmt.Errorf("%s: gzip: %w", path, err)
		}
		content = zr
	}
	prefix := make([]byte, FingerprintSize)
	n, err := linechunk.Fill(content, prefix)
	prefix = prefix[:n]
	if err != nil && err != io.EOF {
		return res, fmt.Errorf("%s: %w", path, readErr(err))
	}
	if n == 0 {
		res.Skipped, res.Duration = true, time.Since(start)
		return res, nil
	}
	pos := in.match(prefix, nil)
	if pos == nil {
		pos = &Position{Node: in.node}
		in.positions = append(in.positions, pos)
	} else if pos.State != nil {
		st, err := decodeState(pos.State)
		if err != nil {
			return res, in.db.errf("read position of "+path+" in", err)
		}
		in.state = st
	}
	from := pos.Offset

	// Position the reader at from.
	if res.Compressed {
		content = io.MultiReader(bytes.NewReader(prefix), zr)
		if from > 0 {
			if _, err := io.CopyN(io.Discard, content, from); err == io.EOF {
				res.From, res.To = from, from
				res.Skipped, res.Duration = true, time.Since(start)
				return res, nil // shorter than what was ingested: nothing new
			} else if err != nil {
				return res, fmt.Errorf("%s: %w", path, readErr(err))
			}
		}
	} else {
		if from >= fi.Size() {
			res.From, res.To = from, from
			res.Skipped, res.Duration = true, time.Since(start)
			return res, nil
		}
		if _, err := f.Seek(from, io.SeekStart); err != nil {
			return res, err
		}
		counted.n = from
		content = counted
	}
	// Skip what other logs hold: a concatenation of rotated files (zcat
	// node.log.2.gz node.log.1 node.log > all.log), where one ends, goes on
	// with the start of another ingested already.
	br := bufio.NewReaderSize(content, FingerprintSize)
	for skips := 0; skips < len(in.positions); skips++ {
		next, err := br.Peek(FingerprintSize)
		if err != nil && err != io.EOF {
			return res, fmt.Errorf("%s: %w", path, readErr(err))
		}
		q := in.match(next, pos)
		if q == nil || q.Offset == 0 {
			break
		}
		n, err := br.Discard(int(q.Offset))
		from += int64(n)
		if err != nil && err != io.EOF {
			return res, fmt.Errorf("%s: %w", path, readErr(err))
		}
		if q.State != nil {
			st, err := decodeState(q.State)
			if err != nil {
				return res, in.db.errf("read position of "+q.Path+" in", err)
			}
			in.state = st
		}
	}
	content = br
	res.From, res.To = from, from
	dev, inode := fileID(fi)
	pos.Path, pos.Dev, pos.Inode = path, dev, inode
	if int64(len(prefix)) >= pos.FingerprintLen {
		pos.FingerprintLen, pos.Fingerprint = Fingerprint(prefix)
	}

	p := &pipeline{in: in, path: path, pos: pos, size: fi.Size(), counted: counted, res: &res, free: make(chan []row, 2)}
	err = p.run(ctx, content, from, res.Compressed)
	res.Skipped = res.To == res.From && res.Events == 0
	res.Duration = time.Since(start)
	return res, err
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

// chunkSize is how much the reader hands a parsing worker at a time.
const chunkSize = 1 << 20

// chunk is a run of whole lines and what the workers found in them.
type chunk struct {
	start int64  // offset of buf[0] in the content
	buf   []byte // whole lines (the last one may lack its newline at the end of a compressed file)
	lines int64
	items []item
	done  chan struct{}
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
	other    *parser.Event // the other kinds
}

var itemPool = sync.Pool{New: func() any { s := make([]item, 0, 4096); return &s }}

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
			for ch := range work {
				p.parse(ch)
				close(ch.done)
			}
		}()
	}
	var rerr atomic.Value
	go func() {
		defer close(order)
		defer close(work)
		err := splitLines(content, from, compressed, in.opts.chunkSize, func(ch *chunk) bool {
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
		end = ch.start + int64(len(ch.buf))
		p.res.Lines += ch.lines
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
		p.in.broken = err
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
func (p *pipeline) parse(ch *chunk) {
	geo := p.in.opts.Geo
	b := ch.buf
	ch.items = (*itemPool.Get().(*[]item))[:0]
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
		ev, err := parser.Parse(line)
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
		case parser.KindTransferStarted, parser.KindUploadRejected, parser.KindReputation, parser.KindCompaction:
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
		s.see(ev.Time)
		res, counted := s.count(&ev)
		if !counted {
			return
		}
		if p.batch.rows == nil {
			p.batch.rows = make([]row, 0, p.in.opts.BatchSize)
		}
		p.batch.rows = append(p.batch.rows, it.row)
		r := &p.batch.rows[len(p.batch.rows)-1]
		r.status = int64(res)
		var d time.Duration
		d, r.timed = s.finish(&ev)
		r.durationMS = d.Milliseconds()
		return
	}
	ev := it.other
	s.see(ev.Time)
	switch ev.Kind {
	case parser.KindTransferStarted:
		s.start(ev)
	case parser.KindUploadRejected:
		p.batch.Rejections = append(p.batch.Rejections, Rejection{Time: ev.Time, Node: node})
	case parser.KindReputation:
		if ev.Satellite != "" && ev.Reputation != nil {
			p.batch.Reputation = append(p.batch.Reputation, ReputationFrom(node, ev))
		}
	case parser.KindCompaction:
		if c, ok := s.compaction(node, ev); ok {
			p.batch.Compactions = append(p.batch.Compactions, c)
		}
	}
}

// splitLines reads r into chunks of whole lines and hands each to emit,
// until r ends or emit returns false. A last line without a newline is
// emitted only with keepTail. A line longer than a chunk makes its chunk
// grow to hold it.
func splitLines(r io.Reader, start int64, keepTail bool, size int, emit func(*chunk) bool) error {
	get := func() []byte {
		if size != chunkSize {
			return make([]byte, size)
		}
		return *chunkPool.Get().(*[]byte)
	}
	err := linechunk.Split(r, linechunk.Options{Get: get, Start: start, KeepTail: keepTail}, func(buf []byte, start int64) bool {
		return emit(&chunk{start: start, buf: buf, done: make(chan struct{})})
	})
	if err != nil {
		return readErr(err)
	}
	return nil
}
