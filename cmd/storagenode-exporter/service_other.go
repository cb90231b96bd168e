//go:build !windows

package main

// runAsService does nothing where there is no Windows service manager:
// main runs args as a command.
func runAsService(args []string) (code int, ok bool) { return 0, false }
