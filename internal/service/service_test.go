package service_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/internal/service"
	"github.com/storagenode-exporter/storagenode-exporter/internal/service/servicetest"
)

// Pending states are repeated with a growing checkpoint at every tick; a
// Stop while starting cancels serve; a second stop request (Shutdown) and
// ticks after serve was told to stop change nothing but the checkpoint.
func TestPendingStates(t *testing.T) {
	t.Parallel()
	m := servicetest.NewManager()
	tick := make(chan time.Time)
	release := make(chan int)
	canceled := make(chan struct{})
	done := m.Start(tick, func(ctx context.Context, listening chan<- net.Addr) int {
		<-ctx.Done() // never listens: stays StartPending
		close(canceled)
		return <-release // a slow shutdown, as long as the test wants
	})
	m.Expect(t, service.StartPending, 1)
	tick <- time.Time{}
	m.Expect(t, service.StartPending, 2)
	m.Send(t, service.Interrogate)
	m.Expect(t, service.StartPending, 2)

	m.Send(t, service.Stop)
	m.Expect(t, service.StopPending, 1)
	select {
	case <-canceled:
	case <-time.After(60 * time.Second):
		t.Fatal("serve's context not canceled on Stop")
	}
	tick <- time.Time{}
	m.Expect(t, service.StopPending, 2)
	m.Send(t, service.Shutdown)
	m.Send(t, service.Interrogate)
	m.Expect(t, service.StopPending, 2)
	release <- 3
	if code := servicetest.ExitOf(t, done); code != 3 {
		t.Errorf("exit status %d, want serve's 3", code)
	}
}

// Running is reported once serve listens, and not again when it tells a
// second address; ticks while running report nothing; a serve that ends
// by itself ends Run with its status and no more reports.
func TestRunningAndOwnExit(t *testing.T) {
	t.Parallel()
	m := servicetest.NewManager()
	tick := make(chan time.Time)
	listen := make(chan struct{})
	exit := make(chan int)
	done := m.Start(tick, func(ctx context.Context, listening chan<- net.Addr) int {
		<-listen
		listening <- &net.TCPAddr{}
		return <-exit
	})
	m.Expect(t, service.StartPending, 1)
	close(listen)
	m.Expect(t, service.Running, 0)
	tick <- time.Time{}
	m.Send(t, service.Interrogate)
	m.Expect(t, service.Running, 0)
	exit <- 4
	if code := servicetest.ExitOf(t, done); code != 4 {
		t.Errorf("exit status %d, want serve's 4", code)
	}
	m.NoReport(t)
	if got := service.StopPending.String() + service.State(9).String(); got != "StopPendingunknown" {
		t.Errorf("State names: %s", got)
	}
}
