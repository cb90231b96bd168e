//go:build !unix

package main

import (
	"errors"
	"os/exec"
)

// canLimitFileSize: there is no RLIMIT_FSIZE here.
const canLimitFileSize = false

func limitFileSize(uint64) error { return errors.New("no file size limit on this platform") }

// runAsNobody is never reached here: os.Geteuid is -1, not root.
func runAsNobody(*exec.Cmd) {}
