//go:build !unix

package sink

import "os"

// processAlive cannot tell here: a writer that stopped without releasing
// its lock is known by its heartbeat alone.
func processAlive(int) (alive, known bool) { return false, false }

// pidSpace names the space in which a pid names a process: the host.
func pidSpace() string {
	host, _ := os.Hostname()
	return "host:" + host
}
