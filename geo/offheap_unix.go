//go:build unix

package geo

import "syscall"

// offHeap returns n bytes of anonymous memory outside the Go heap.
func offHeap(n int) ([]byte, error) {
	if n == 0 {
		return []byte{}, nil
	}
	return syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
}

// freeOffHeap returns what offHeap gave.
func freeOffHeap(b []byte) {
	if len(b) > 0 {
		_ = syscall.Munmap(b)
	}
}

// readOnly makes b, filled, read-only: a stray write faults instead of
// changing the database under its readers.
func readOnly(b []byte) []byte {
	if len(b) > 0 {
		_ = syscall.Mprotect(b, syscall.PROT_READ)
	}
	return b
}
