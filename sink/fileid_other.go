//go:build !unix

package sink

import "os"

// fileID returns zeros where the platform has no device and inode numbers:
// ingest recognizes files by their fingerprint alone.
func fileID(os.FileInfo) (dev, inode uint64) { return 0, 0 }
