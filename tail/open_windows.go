package tail

import (
	"os"

	"github.com/storagenode-exporter/storagenode-exporter/internal/logfile"
)

// openNoBlock opens the named file for reading sharing reading, writing and
// deleting (logfile.Open). Opening a path on Windows does not wait for a
// writer as a Unix FIFO does.
func openNoBlock(name string) (*os.File, error) { return logfile.Open(name) }
