package config

import (
	"fmt"
	"net/http"
	"strings"
)

// CheckTelemetryPath accepts a path for /metrics (--web.telemetry-path,
// telemetry-path under web) that serve can register: starting with "/",
// without the pattern syntax of net/http, and not a path serve serves
// something else at ("/" is the landing page, "/healthz" the health check).
func CheckTelemetryPath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("--web.telemetry-path is empty: want a path such as /metrics")
	case p[0] != '/':
		return fmt.Errorf("--web.telemetry-path %q does not start with /: want a path such as /metrics", p)
	case p == "/" || p == "/healthz":
		return fmt.Errorf("--web.telemetry-path %q is where serve answers %s: choose another path such as /metrics", p,
			map[string]string{"/": "its landing page", "/healthz": "health checks"}[p])
	case strings.ContainsAny(p, "{} \t\r\n?#"):
		return fmt.Errorf("--web.telemetry-path %q: want a plain path (no spaces, braces, ? or #) such as /metrics", p)
	}
	// What net/http refuses (by panicking) is an error too.
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("--web.telemetry-path %q: %v", p, r)
			}
		}()
		mux := http.NewServeMux()
		mux.Handle("/healthz", http.NotFoundHandler())
		mux.Handle("/", http.NotFoundHandler())
		mux.Handle(p, http.NotFoundHandler())
	}()
	return err
}
