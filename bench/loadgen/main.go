// Command loadgen appends log lines to a file at a steady rate, the way a
// busy storage node writes its log, for bench/serve.sh.
//
// It reads the -src file into memory first (so reading it costs nothing
// during the run), then every -batch interval appends, in one write(2), the
// lines that are due: rate × elapsed time, minus what was already written.
// The lines of -src are cycled through in order, wrapping to the first line
// after the last, so any rate and duration can be fed from a small file. The
// file is opened with O_APPEND, and only whole lines are written.
//
// With -rate 0 it writes the -src lines once (or -lines of them), all in a
// single write(2): a burst, as after a node restart.
//
// On exit it prints one JSON object to stdout: lines and bytes written, the
// writing window (Unix seconds of the first and the last write), the
// achieved rate, how many batches were late, and its own CPU time. With -pid
// it also reads the utime+stime of that process from /proc/PID/stat right
// before the first write and right after the last one, so the caller gets
// that process's CPU use over exactly the writing window, without the
// loadgen's own CPU and without the time spent loading -src.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// result is what loadgen prints.
type result struct {
	Lines       int64   `json:"lines"`
	Bytes       int64   `json:"bytes"`
	Writes      int64   `json:"writes"`
	Start       float64 `json:"start_unix"` // first write began
	End         float64 `json:"end_unix"`   // last write returned
	Seconds     float64 `json:"seconds"`    // End - Start
	Rate        float64 `json:"rate"`       // lines per second over the window (0 for a burst)
	TargetRate  float64 `json:"target_rate"`
	LateBatches int64   `json:"late_batches"` // batches that started more than 2 intervals after the previous one
	MaxBatch    int64   `json:"max_batch_lines"`
	Wraps       int64   `json:"wraps"` // times the source was restarted from its first line
	SelfCPU     float64 `json:"self_cpu_seconds"`

	// Set with -pid: CPU seconds (user+system) of that process over the
	// writing window, and as a percentage of one core.
	PID        int      `json:"pid,omitempty"`
	PIDCPU     *float64 `json:"pid_cpu_seconds,omitempty"`
	PIDPercent *float64 `json:"pid_cpu_percent,omitempty"`
}

// source holds the lines to cycle through: data and the offset where each
// line starts (offs has one more entry, len(data), at the end).
type source struct {
	data []byte
	offs []int
	next int // index of the next line to write
}

func loadSource(path string) (*source, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	if data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	s := &source{data: data, offs: make([]int, 0, bytes.Count(data, []byte{'\n'})+1)}
	s.offs = append(s.offs, 0)
	for i, c := range data {
		if c == '\n' {
			s.offs = append(s.offs, i+1)
		}
	}
	return s, nil
}

func (s *source) numLines() int { return len(s.offs) - 1 }

// appendLines appends the next n lines to buf, wrapping around, and reports
// how many times it wrapped.
func (s *source) appendLines(buf []byte, n int64) ([]byte, int64) {
	var wraps int64
	for n > 0 {
		k := min(int64(s.numLines()-s.next), n)
		buf = append(buf, s.data[s.offs[s.next]:s.offs[s.next+int(k)]]...)
		s.next += int(k)
		n -= k
		if s.next == s.numLines() {
			s.next = 0
			wraps++
		}
	}
	return buf, wraps
}

// cpuTicks returns utime+stime of pid in clock ticks, from /proc/PID/stat.
func cpuTicks(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// the fields after the last ')' start with field 3 (state).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	// utime and stime are fields 14 and 15, i.e. f[11] and f[12].
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return ut + st, nil
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func main() {
	out := flag.String("o", "", "file to append to (created if missing)")
	src := flag.String("src", "", "file whose lines are written, cycled through in order")
	rate := flag.Float64("rate", 50000, "lines per second; 0 writes the -src lines once in a single write")
	duration := flag.Duration("duration", 10*time.Second, "how long to write (with -rate > 0)")
	batch := flag.Duration("batch", 10*time.Millisecond, "interval between writes (with -rate > 0)")
	lines := flag.Int64("lines", 0, "with -rate 0: write this many lines (cycling) instead of the -src file once")
	pid := flag.Int("pid", 0, "report the CPU use of this process over the writing window")
	hz := flag.Int("hz", 100, "clock ticks per second of /proc/PID/stat (getconf CLK_TCK)")
	flag.Parse()

	if *out == "" || *src == "" {
		fail(errors.New("-o and -src are required"))
	}
	if *rate < 0 || *batch <= 0 || *duration < 0 || *lines < 0 || *hz <= 0 {
		fail(errors.New("-rate, -duration and -lines must not be negative; -batch and -hz must be positive"))
	}
	s, err := loadSource(*src)
	if err != nil {
		fail(err)
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fail(err)
	}

	res := result{TargetRate: *rate, PID: *pid}
	var ticks0 uint64
	if *pid > 0 {
		if ticks0, err = cpuTicks(*pid); err != nil {
			fail(fmt.Errorf("-pid: %w", err))
		}
	}

	var buf []byte
	write := func(n int64) {
		if n <= 0 {
			return
		}
		var w int64
		buf, w = s.appendLines(buf[:0], n)
		if _, err := f.Write(buf); err != nil {
			fail(err)
		}
		res.Wraps += w
		res.Lines += n
		res.Bytes += int64(len(buf))
		res.Writes++
		res.MaxBatch = max(res.MaxBatch, n)
	}

	start := time.Now()
	if *rate == 0 {
		n := *lines
		if n == 0 {
			n = int64(s.numLines())
		}
		write(n)
	} else {
		total := int64(math.Round(*rate * duration.Seconds()))
		ticker := time.NewTicker(*batch)
		last := start
		for res.Lines < total {
			now := <-ticker.C
			if now.Sub(last) > 2**batch {
				res.LateBatches++
			}
			last = now
			due := total
			if el := time.Since(start); el < *duration {
				due = min(total, int64(*rate*el.Seconds()))
			}
			write(due - res.Lines)
		}
		ticker.Stop()
	}
	end := time.Now()
	if *pid > 0 {
		ticks1, err := cpuTicks(*pid)
		if err != nil {
			fail(fmt.Errorf("-pid: %w", err))
		}
		cpu := float64(ticks1-ticks0) / float64(*hz)
		pct := 100 * cpu / end.Sub(start).Seconds()
		res.PIDCPU, res.PIDPercent = &cpu, &pct
	}
	if err := f.Close(); err != nil {
		fail(err)
	}

	res.Start, res.End = unix(start), unix(end)
	res.Seconds = end.Sub(start).Seconds()
	if *rate > 0 && res.Seconds > 0 {
		res.Rate = float64(res.Lines) / res.Seconds
	}
	res.SelfCPU = selfCPU()
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(&res); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}
