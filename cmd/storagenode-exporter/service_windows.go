//go:build windows

package main

import (
	"context"
	"net"
	"os"
	"time"

	"golang.org/x/sys/windows/svc"
)

// runAsService runs args as a Windows service when the service manager
// started the process (ok is true), and returns the exit status; otherwise
// it does nothing (ok is false) and main runs args as a command.
func runAsService(args []string) (code int, ok bool) {
	if is, err := svc.IsWindowsService(); err != nil || !is {
		return 0, false
	}
	h := &windowsService{args: args}
	// The name is not looked at for a service in a process of its own.
	if err := svc.Run("storagenode-exporter", h); err != nil {
		return 1, true
	}
	return h.code, true
}

// windowsService is the svc.Handler: it translates between svc and
// runService (service.go).
type windowsService struct {
	args []string
	code int
}

// Execute runs the service's command line, followed by the start
// parameters (sc.exe start storagenode-exporter --log.level debug), if
// any. A non-zero exit status is reported as a service-specific error.
func (s *windowsService) Execute(startArgs []string, r <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	args := s.args
	if len(startArgs) > 1 { // startArgs[0] is the service's name
		args = append(append([]string(nil), args...), startArgs[1:]...)
	}
	m := &windowsManager{status: status, requests: make(chan serviceCmd), done: make(chan struct{})}
	defer close(m.done)
	go m.translate(r)
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	s.code = runService(m, ticker.C, func(ctx context.Context, listening chan<- net.Addr) int {
		return runWith(args, os.Stdin, os.Stdout, os.Stderr, listening, ctx)
	})
	return s.code != 0, uint32(s.code)
}

// windowsManager is the serviceManager of svc's channels.
type windowsManager struct {
	status   chan<- svc.Status
	requests chan serviceCmd
	done     chan struct{}
}

func (m *windowsManager) Requests() <-chan serviceCmd { return m.requests }

func (m *windowsManager) Report(st serviceStatus) {
	s := svc.Status{CheckPoint: st.CheckPoint, WaitHint: uint32(st.WaitHint / time.Millisecond)}
	switch st.State {
	case serviceStartPending:
		s.State = svc.StartPending
	case serviceRunning:
		s.State, s.Accepts = svc.Running, svc.AcceptStop|svc.AcceptShutdown
	case serviceStopPending:
		s.State = svc.StopPending
	}
	m.status <- s
}

// translate passes the change requests on as serviceCmds until Execute
// returns.
func (m *windowsManager) translate(r <-chan svc.ChangeRequest) {
	for c := range r {
		var cmd serviceCmd
		switch c.Cmd {
		case svc.Interrogate:
			cmd = serviceInterrogate
		case svc.Stop:
			cmd = serviceStop
		case svc.Shutdown:
			cmd = serviceShutdown
		default:
			continue
		}
		select {
		case m.requests <- cmd:
		case <-m.done:
			return
		}
	}
}
