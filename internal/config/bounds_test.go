package config

import (
	"reflect"
	"testing"
)

// The configuration file checks poll-interval against MinPollInterval, the
// bound the flag has too.
func TestMinPollIntervalIsChecked(t *testing.T) {
	f, ok := reflect.TypeFor[Config]().FieldByName("NodeAPI")
	if !ok {
		t.Fatal("no NodeAPI section")
	}
	p, ok := f.Type.FieldByName("PollInterval")
	if !ok {
		t.Fatal("no PollInterval key")
	}
	if got, want := p.Tag.Get("check"), "duration >= "+MinPollInterval.String(); got != want {
		t.Errorf("poll-interval is checked as %q, want %q", got, want)
	}
}
