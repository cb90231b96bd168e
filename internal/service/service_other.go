//go:build !windows

package service

// RunIfService does nothing where there is no Windows service manager
// (ok is false): the caller runs args as a command.
func RunIfService(args []string, run func(args []string) Serve) (code int, ok bool) { return 0, false }
