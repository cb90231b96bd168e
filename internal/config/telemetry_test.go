package config

import (
	"strings"
	"testing"
)

// The telemetry paths serve can register pass; the others are errors that
// say why (the CLI's TestOddFlagValues runs them through serve too).
func TestCheckTelemetryPath(t *testing.T) {
	for _, p := range []string{"/metrics", "/x/metrics", "/metrics/", "/healthz/metrics"} {
		if err := CheckTelemetryPath(p); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
	for p, want := range map[string]string{"": "is empty", "metrics": "does not start with /", "/": "its landing page",
		"/healthz": "health checks", "/{x": "want a plain path", "/a b": "want a plain path", "/m?x": "want a plain path"} {
		if err := CheckTelemetryPath(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", p, err, want)
		}
	}
}
