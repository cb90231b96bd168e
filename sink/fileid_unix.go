//go:build unix

package sink

import (
	"os"
	"syscall"
)

// fileID returns the device and inode of a file.
func fileID(fi os.FileInfo) (dev, inode uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino)
	}
	return 0, 0
}
