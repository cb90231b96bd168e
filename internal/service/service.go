// Package service runs a command as a Windows service: when the service
// manager starts the binary, the service's command line (sc.exe create
// ... binPath= "...storagenode-exporter.exe --config ...") runs under Run,
// which tells the manager how it is doing. The logic is here, free of
// Windows types, so that it is tested everywhere; service_windows.go only
// translates to and from golang.org/x/sys/windows/svc (RunIfService).
package service

import (
	"context"
	"net"
	"time"
)

// State is the state reported to the service manager (svc.State).
type State int

// The states a service reports while it runs; svc.Run reports Stopped
// when it returns.
const (
	StartPending State = iota + 1
	Running
	StopPending
)

func (s State) String() string {
	switch s {
	case StartPending:
		return "StartPending"
	case Running:
		return "Running"
	case StopPending:
		return "StopPending"
	}
	return "unknown"
}

// Status is one report to the service manager (svc.Status). While a state
// is pending, CheckPoint grows with every report, which tells the manager
// that the service is still making progress, and WaitHint is how long
// until the next report or the end of the pending state.
type Status struct {
	State      State
	CheckPoint uint32
	WaitHint   time.Duration
}

// Cmd is a change request of the service manager (svc.Cmd); the other
// commands are not accepted and never come.
type Cmd int

// The change requests a service accepts.
const (
	Interrogate Cmd = iota + 1
	Stop
	Shutdown
)

// Manager is the service manager as Run sees it.
type Manager interface {
	// Requests are the change requests.
	Requests() <-chan Cmd
	// Report tells the manager the service's status.
	Report(Status)
}

// WaitHint is the WaitHint of pending reports; they are repeated (with a
// new CheckPoint) at every tick of Run's ticker, which must tick more
// often than this.
const WaitHint = 10 * time.Second

// Serve runs the service's command until ctx is canceled and returns its
// exit status; it tells listening its address once it listens (a send
// that never blocks).
type Serve func(ctx context.Context, listening chan<- net.Addr) int

// Run runs serve as a service of m and returns serve's exit status.
//
// It reports StartPending, starts serve, and reports Running once serve
// listens. On Stop or Shutdown (while starting or running) it cancels
// serve's context and reports StopPending until serve has returned;
// Interrogate repeats the current status. While a state is pending, every
// tick repeats it with the next CheckPoint. When serve returns, whether
// asked to or on its own (a bad configuration, a port in use), Run returns
// its exit status without reporting more: the caller reports Stopped with
// it (svc.Run does so when Execute returns).
func Run(m Manager, tick <-chan time.Time, serve Serve) int {
	status := Status{State: StartPending, CheckPoint: 1, WaitHint: WaitHint}
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
			if status.State == StartPending {
				status = Status{State: Running}
				m.Report(status)
			}
		case cmd := <-m.Requests():
			switch cmd {
			case Interrogate:
				m.Report(status)
			case Stop, Shutdown:
				if status.State != StopPending {
					cancel()
					status = Status{State: StopPending, CheckPoint: 1, WaitHint: WaitHint}
					m.Report(status)
				}
			}
		case <-tick:
			if status.State != Running {
				status.CheckPoint++
				m.Report(status)
			}
		}
	}
}
