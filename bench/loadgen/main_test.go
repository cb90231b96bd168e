package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSourceCycles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "src.log")
	if err := os.WriteFile(path, []byte("a\nbb\nccc"), 0o644); err != nil { // no final newline
		t.Fatal(err)
	}
	s, err := loadSource(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.numLines(); got != 3 {
		t.Fatalf("numLines = %d, want 3", got)
	}
	buf, wraps := s.appendLines(nil, 2)
	if got, want := string(buf), "a\nbb\n"; got != want || wraps != 0 {
		t.Fatalf("first 2 lines = %q (wraps %d), want %q (wraps 0)", got, wraps, want)
	}
	buf, wraps = s.appendLines(buf[:0], 5)
	if got, want := string(buf), "ccc\na\nbb\nccc\na\n"; got != want || wraps != 2 {
		t.Fatalf("next 5 lines = %q (wraps %d), want %q (wraps 2)", got, wraps, want)
	}
}

func TestCPUTicksOfSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if _, err := cpuTicks(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}
