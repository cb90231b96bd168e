package report

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"sync"

	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// Counter counts log lines into a Summary under the outcome rules. Lines
// must come in the order the node wrote them: rule 5 (a DEBUG follow-up of a
// race-lost cancel is not counted again) depends on it. A Counter is not safe
// for concurrent use.
type Counter struct {
	Summary
	// MaxLine is the longest line Read holds, in bytes without the newline;
	// 0 means logfile.DefaultMaxLine.
	MaxLine int
	tracker *parser.Tracker
	parser  parser.Parser // for Line
}

// NewCounter returns an empty Counter.
func NewCounter() *Counter {
	return &Counter{tracker: parser.NewTracker(0), parser: newParser()}
}

// TooLong counts a line its reader cut for being longer than its limit:
// unparsed with the reason too_long, never parsed.
func (s *Summary) TooLong() {
	s.Lines++
	s.Unparsed++
	s.UnparsedBy[parser.ReasonTooLong]++
}

// Line counts one line (its trailing newline may be present).
func (c *Counter) Line(line []byte) {
	ev, ok := c.Summary.line(line, &c.parser)
	if !ok {
		return
	}
	if res, counted := c.tracker.Count(&ev); counted {
		c.addOutcome(&ev, res)
	}
}

// line counts a line's non-outcome facts and returns the event when it is
// a transfer outcome still to be counted.
func (s *Summary) line(line []byte, p *parser.Parser) (parser.Event, bool) {
	s.Lines++
	ev, err := p.Parse(line)
	if err != nil {
		var se *parser.SyntaxError
		switch {
		case errors.Is(err, parser.ErrBlank):
			s.Blank++
		case errors.As(err, &se):
			s.Unparsed++
			if int(se.Reason) < len(s.UnparsedBy) {
				s.UnparsedBy[se.Reason]++
			}
		}
		return parser.Event{}, false
	}
	s.addEvent(&ev)
	return ev, ev.Kind == parser.KindTransferOutcome
}

// newParser returns the parser of a report, which only counts outcomes.
func newParser() parser.Parser { return parser.Parser{CountOnly: true} }

// needsOrder tells whether rule 5 may change how an outcome counts, so that
// it must go through the Tracker in line order.
func needsOrder(ev *parser.Event) bool {
	return ev.RaceLost || ev.Level == parser.Debug &&
		(ev.Message == "download canceled" || ev.Message == "upload failed")
}

// chunkSize is how much a worker parses at a time. A line longer than that
// (and not than the limit) makes its chunk grow to hold it whole.
const chunkSize = 1 << 20

type chunk struct {
	buf  []byte // the whole lines of this chunk (nil for a line cut as too long)
	part Summary
	// outcomes whose count depends on the lines before (rule 5), in order
	ordered []parser.Event
	done    chan struct{}
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// Read counts every line of r into c, using up to workers goroutines for
// parsing (0: one per CPU). Counts are exactly those of calling c.Line on
// each line in order, but that a line longer than c.MaxLine is counted as
// c.TooLong does, and not held: chunks
// are parsed in parallel, but the outcomes whose count depends on earlier
// lines are replayed through c's Tracker in order.
func (c *Counter) Read(r io.Reader, workers int) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	work := make(chan *chunk, workers)
	order := make(chan *chunk, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := newParser()
			for ch := range work {
				ch.parse(&p)
				close(ch.done)
			}
		}()
	}
	mergeDone := make(chan struct{})
	go func() {
		defer close(mergeDone)
		for ch := range order {
			<-ch.done
			c.Merge(&ch.part)
			for i := range ch.ordered {
				if res, counted := c.tracker.Count(&ch.ordered[i]); counted {
					c.addOutcome(&ch.ordered[i], res)
				}
			}
			if b := ch.buf[:cap(ch.buf)]; cap(b) == chunkSize {
				bufPool.Put(&b)
			}
		}
	}()
	err := split(r, c.MaxLine, func(buf []byte, tooLong bool) {
		ch := &chunk{buf: buf, part: Summary{part: true}, done: make(chan struct{})}
		if tooLong {
			ch.buf = nil
			ch.part.TooLong()
		}
		order <- ch
		work <- ch
	})
	close(work)
	close(order)
	wg.Wait()
	<-mergeDone
	return err
}

func (ch *chunk) parse(p *parser.Parser) {
	b := ch.buf
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		var line []byte
		if i < 0 {
			line, b = b, nil
		} else {
			line, b = b[:i], b[i+1:]
		}
		ev, ok := ch.part.line(line, p)
		if !ok {
			continue
		}
		if needsOrder(&ev) {
			ch.ordered = append(ch.ordered, ev)
		} else {
			ch.part.addOutcome(&ev, ev.Result)
		}
	}
}

// split reads r into chunks of whole lines, or a line longer than maxLine,
// and hands each to emit. The last line may lack its newline; on a read
// error what was read still counts.
func split(r io.Reader, maxLine int, emit func(buf []byte, tooLong bool)) error {
	get := func() []byte { return *bufPool.Get().(*[]byte) }
	opts := logfile.ChunkOptions{Get: get, MaxLine: maxLine, KeepTail: true, TailOnError: true}
	return logfile.SplitChunks(r, opts, func(c logfile.Chunk) bool {
		emit(c.Buf, c.TooLong)
		return true
	})
}
