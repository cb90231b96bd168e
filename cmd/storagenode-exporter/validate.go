package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// MinPollInterval is the shortest --nodeapi.poll-interval: each poll makes
// several requests per satellite, so a shorter one would hammer the node.
const MinPollInterval = time.Second

// minPollInterval is the minimum Validate applies: MinPollInterval, lowered
// by this package's tests, whose fake node APIs answer in microseconds.
var minPollInterval = MinPollInterval

// Validate checks serve's flags (and the configuration file's values, which
// kong has resolved into them) before anything runs; kong prints the error
// and the exit status is 2.
func (c *ServeCmd) Validate() error {
	if c.NodeAPI.PollInterval < minPollInterval {
		return fmt.Errorf("--nodeapi.poll-interval %v is below the minimum of %v", c.NodeAPI.PollInterval, minPollInterval)
	}
	if c.NodeAPI.Timeout <= 0 {
		return fmt.Errorf("--nodeapi.timeout %v: want a positive duration such as 30s", c.NodeAPI.Timeout)
	}
	if c.DBRetention < 0 {
		return fmt.Errorf("--db.retention %v: want 0 (keep every event) or a positive duration such as 168h", c.DBRetention)
	}
	if err := checkTelemetryPath(c.Web.TelemetryPath); err != nil {
		return err
	}
	for _, s := range c.Node {
		if _, err := parseNodeSpec(s); err != nil {
			return err
		}
	}
	return nil
}

// checkTelemetryPath accepts a path for /metrics that serve can register:
// starting with "/", without the pattern syntax of net/http, and not a path
// serve serves something else at ("/" is the landing page).
func checkTelemetryPath(p string) error {
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
