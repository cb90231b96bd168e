//go:build !windows

package tail

import (
	"os"
	"syscall"
)

// openNoBlock opens the named file for reading without blocking: with
// O_NONBLOCK, a FIFO without a writer opens at once instead of waiting for
// one (the follower then refuses it, as anything but a regular file). On a
// regular file the flag changes nothing.
func openNoBlock(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
