//go:build !unix

package geo

// offHeap returns n bytes; outside Unix from the Go heap.
func offHeap(n int) ([]byte, error) { return make([]byte, n), nil }

func freeOffHeap([]byte) {}

func readOnly(b []byte) []byte { return b }
