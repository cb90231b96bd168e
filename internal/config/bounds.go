package config

import "time"

// MinPollInterval is the shortest node-API poll interval
// (--nodeapi.poll-interval, poll-interval under nodeapi): each poll makes
// several requests per satellite, so a shorter one would hammer the node.
// The configuration file's check of the key says the same
// (TestMinPollIntervalIsChecked).
const MinPollInterval = time.Second
