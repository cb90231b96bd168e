package main

import (
	"fmt"

	"github.com/storagenode-exporter/storagenode-exporter/internal/config"
	"github.com/storagenode-exporter/storagenode-exporter/internal/pipeline"
)

// minPollInterval is the minimum Validate applies: config.MinPollInterval,
// lowered by this package's tests, whose fake node APIs answer in
// microseconds.
var minPollInterval = config.MinPollInterval

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
	if err := config.CheckTelemetryPath(c.Web.TelemetryPath); err != nil {
		return err
	}
	for _, s := range c.Node {
		if _, err := pipeline.ParseNodeSpec(s); err != nil {
			return err
		}
	}
	return nil
}
