//go:build !windows

package logfile

import "os"

// Open opens the named file for reading, as os.Open does.
func Open(name string) (*os.File, error) { return os.Open(name) }
