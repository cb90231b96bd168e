//go:build windows

package service

import (
	"time"

	"golang.org/x/sys/windows/svc"
)

// RunIfService runs args as a Windows service when the service manager
// started the process (ok is true), and returns the exit status; otherwise
// it does nothing (ok is false) and the caller runs args as a command.
// run returns the Serve of a command line: the service's, followed by the
// start parameters (sc.exe start storagenode-exporter --log.level debug),
// if any.
func RunIfService(args []string, run func(args []string) Serve) (code int, ok bool) {
	if is, err := svc.IsWindowsService(); err != nil || !is {
		return 0, false
	}
	h := &windowsService{args: args, run: run}
	// The name is not looked at for a service in a process of its own.
	if err := svc.Run("storagenode-exporter", h); err != nil {
		return 1, true
	}
	return h.code, true
}

// windowsService is the svc.Handler: it translates between svc and Run.
type windowsService struct {
	args []string
	run  func(args []string) Serve
	code int
}

// Execute runs the service's command line, followed by the start
// parameters, if any. A non-zero exit status is reported as a
// service-specific error.
func (s *windowsService) Execute(startArgs []string, r <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	args := s.args
	if len(startArgs) > 1 { // startArgs[0] is the service's name
		args = append(append([]string(nil), args...), startArgs[1:]...)
	}
	m := &windowsManager{status: status, requests: make(chan Cmd), done: make(chan struct{})}
	defer close(m.done)
	go m.translate(r)
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	s.code = Run(m, ticker.C, s.run(args))
	return s.code != 0, uint32(s.code)
}

// windowsManager is the Manager of svc's channels.
type windowsManager struct {
	status   chan<- svc.Status
	requests chan Cmd
	done     chan struct{}
}

func (m *windowsManager) Requests() <-chan Cmd { return m.requests }

func (m *windowsManager) Report(st Status) {
	s := svc.Status{CheckPoint: st.CheckPoint, WaitHint: uint32(st.WaitHint / time.Millisecond)}
	switch st.State {
	case StartPending:
		s.State = svc.StartPending
	case Running:
		s.State, s.Accepts = svc.Running, svc.AcceptStop|svc.AcceptShutdown
	case StopPending:
		s.State = svc.StopPending
	}
	m.status <- s
}

// translate passes the change requests on as Cmds until Execute returns.
func (m *windowsManager) translate(r <-chan svc.ChangeRequest) {
	for c := range r {
		var cmd Cmd
		switch c.Cmd {
		case svc.Interrogate:
			cmd = Interrogate
		case svc.Stop:
			cmd = Stop
		case svc.Shutdown:
			cmd = Shutdown
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
