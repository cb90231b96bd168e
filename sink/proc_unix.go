//go:build unix

package sink

import (
	"errors"
	"os"
	"strings"
	"syscall"
)

// processAlive reports whether a process with this pid runs (in this
// process's PID space); known is false when it cannot tell.
func processAlive(pid int) (alive, known bool) {
	if pid <= 0 {
		return false, true
	}
	err := syscall.Kill(pid, 0)
	switch {
	case err == nil, errors.Is(err, syscall.EPERM):
		return true, true
	case errors.Is(err, syscall.ESRCH):
		return false, true
	}
	return false, false
}

// pidSpace names the space in which a pid names a process: on Linux the
// boot and the PID namespace (a container has its own), elsewhere the
// host.
func pidSpace() string {
	host, _ := os.Hostname()
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "host:" + host
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return "host:" + host
	}
	return "boot:" + strings.TrimSpace(string(boot)) + " " + ns
}
