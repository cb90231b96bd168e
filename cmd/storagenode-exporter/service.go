package main

import (
	"context"
	"net"
	"time"
)

// The Windows service: when the service manager starts the binary
// (service_windows.go), the command line of the service (sc.exe create
// ... binPath= "...storagenode-exporter.exe --config ...") runs under
// runService, which tells the manager how it is doing. The logic is here,
// free of Windows types, so that it is tested everywhere; service_windows.go
// only translates to and from golang.org/x/sys/windows/svc.

// serviceState is the state reported to the service manager (svc.State).
type serviceState int

const (
	serviceStartPending serviceState = iota + 1
	serviceRunning
	serviceStopPending
)

func (s serviceState) String() string {
	switch s {
	case serviceStartPending:
		return "StartPending"
	case serviceRunning:
		return "Running"
	case serviceStopPending:
		return "StopPending"
	}
	return "unknown"
}

// serviceStatus is one report to the service manager (svc.Status). While a
// state is pending, CheckPoint grows with every report, which tells the
// manager that the service is still making progress, and WaitHint is how
// long until the next report or the end of the pending state.
type serviceStatus struct {
	State      serviceState
	CheckPoint uint32
	WaitHint   time.Duration
}

// serviceCmd is a change request of the service manager (svc.Cmd); the
// other commands are not accepted and never come.
type serviceCmd int

const (
	serviceInterrogate serviceCmd = iota + 1
	serviceStop
	serviceShutdown
)

// serviceManager is the service manager as runService sees it.
type serviceManager interface {
	// Requests are the change requests.
	Requests() <-chan serviceCmd
	// Report tells the manager the service's status.
	Report(serviceStatus)
}

// serviceWaitHint is the WaitHint of pending reports; they are repeated
// (with a new CheckPoint) at every tick of runService's ticker, which must
// tick more often than this.
const serviceWaitHint = 10 * time.Second

// runService runs serve as a service of m and returns serve's exit status.
//
// It reports StartPending, starts serve, and reports Running once serve
// listens. On Stop or Shutdown (while starting or running) it cancels
// serve's context and reports StopPending until serve has returned;
// Interrogate repeats the current status. While a state is pending, every
// tick repeats it with the next CheckPoint. When serve returns, whether
// asked to or on its own (a bad configuration, a port in use), runService
// returns its exit status without reporting more: the caller reports
// Stopped with it (svc.Run does so when Execute returns).
func runService(m serviceManager, tick <-chan time.Time, serve func(ctx context.Context, listening chan<- net.Addr) int) int {
	status := serviceStatus{State: serviceStartPending, CheckPoint: 1, WaitHint: serviceWaitHint}
	m.Report(status)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	listening := make(chan net.Addr, 1) // serve's send never blocks
	done := make(chan int, 1)
	go func() { done <- serve(ctx, listening) }()
	for {
		select {
		case code := <-done:
			return code
		case <-listening:
			if status.State == serviceStartPending {
				status = serviceStatus{State: serviceRunning}
				m.Report(status)
			}
		case cmd := <-m.Requests():
			switch cmd {
			case serviceInterrogate:
				m.Report(status)
			case serviceStop, serviceShutdown:
				if status.State != serviceStopPending {
					cancel()
					status = serviceStatus{State: serviceStopPending, CheckPoint: 1, WaitHint: serviceWaitHint}
					m.Report(status)
				}
			}
		case <-tick:
			if status.State != serviceRunning {
				status.CheckPoint++
				m.Report(status)
			}
		}
	}
}
