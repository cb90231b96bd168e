//go:build unix

package main

import (
	"os/exec"
	"os/signal"
	"syscall"
)

// canLimitFileSize: RLIMIT_FSIZE exists here.
const canLimitFileSize = true

// limitFileSize limits the size of the files this process writes (a full
// disk for the ingest child).
func limitFileSize(limit uint64) error {
	signal.Ignore(syscall.SIGXFSZ) // writes beyond the limit fail with EFBIG instead
	var rl syscall.Rlimit
	setLimit(&rl.Cur, limit) // uint64 on Linux, int64 on the BSDs
	setLimit(&rl.Max, limit)
	return syscall.Setrlimit(syscall.RLIMIT_FSIZE, &rl)
}

func setLimit[T int64 | uint64](p *T, v uint64) { *p = T(v) }

// runAsNobody makes cmd run as uid and gid 65534 (root may do that).
func runAsNobody(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
}
