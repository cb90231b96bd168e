// Package alerts holds no Go code: it is the home of the Prometheus alerting
// rules for storagenode-exporter (storagenode.rules.yml), their promtool unit
// tests (*_test.yml) and an example Alertmanager configuration
// (alertmanager.yml). See README.md in this directory.
//
// The Go tests of this package run promtool and amtool on those files when the
// tools are installed (they are required when the environment variable CI is
// set), and check that every metric the rules use is one the exporter serves.
package alerts
