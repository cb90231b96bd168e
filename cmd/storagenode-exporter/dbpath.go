package main

import (
	"github.com/alecthomas/kong"

	"github.com/storagenode-exporter/storagenode-exporter/internal/config"
)

// chooseDB is config.ChooseDB with --db given when it is on the command
// line (not set by the configuration file's resolver).
func chooseDB(kctx *kong.Context, flag string, cfg *config.Config, configFile string, useDefault bool) (config.DBLocation, bool, error) {
	return config.ChooseDB(given(kctx, "db"), flag, cfg, configFile, useDefault)
}
