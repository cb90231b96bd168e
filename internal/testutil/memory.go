package testutil

import (
	"io"
	"runtime"
)

// Allocated returns how many bytes the process allocated while f ran (a
// test that measures it must not run in parallel with others).
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Hole returns n NUL bytes without a newline (a crash's hole in a log),
// made as they are read so that the test holds none of them.
func Hole(n int64) io.Reader { return &hole{n} }

type hole struct{ n int64 }

func (h *hole) Read(p []byte) (int, error) {
	if h.n == 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), h.n)
	clear(p[:k])
	h.n -= k
	return int(k), nil
}
