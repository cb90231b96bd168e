package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/storagenode-exporter/storagenode-exporter/internal/config"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

// DBFile is the name of the sink's database in its default directory.
const DBFile = "storagenode-exporter.db"

// dbDefaultRule says where the sink's database is when neither --db nor the
// configuration's db: names one; defaultDB implements it, for serve, ingest
// and report alike. The working directory is not used: a service's is often
// / (C:\Windows\System32 on Windows), and ingest or report started in
// another directory would not find what serve wrote.
const dbDefaultRule = "$STATE_DIRECTORY/" + DBFile + " if set (systemd's StateDirectory=, the image's /data), else " + DBFile +
	" in $XDG_STATE_HOME/storagenode-exporter (~/.local/state/storagenode-exporter; on Windows %LocalAppData%\\storagenode-exporter)"

// dbLocation is the sink's database and what chose it.
type dbLocation struct {
	Path string // the database file
	From string // what chose it, for the log: --db, the config file, a variable
	// the default's own directory, created (0700) if missing; "" for a
	// path the user gave
	dir string
	// the variables that move the default, for errors
	vars string
}

// defaultDB returns the default location of the sink's database (see
// dbDefaultRule), with getenv reading the environment and goos the
// operating system. Nothing is created.
func defaultDB(getenv func(string) string, goos string) (dbLocation, error) {
	at := func(dir, from, vars string) dbLocation {
		return dbLocation{Path: filepath.Join(dir, DBFile), From: from, dir: dir, vars: vars}
	}
	// systemd passes every directory of StateDirectory=, colon-separated
	if first, _, _ := strings.Cut(getenv("STATE_DIRECTORY"), ":"); first != "" {
		return at(first, "$STATE_DIRECTORY", "STATE_DIRECTORY"), nil
	}
	if goos == "windows" {
		if d := getenv("LocalAppData"); d != "" {
			return at(filepath.Join(d, "storagenode-exporter"), "%LocalAppData%", "STATE_DIRECTORY or LocalAppData"), nil
		}
		return dbLocation{}, errors.New("no place for the sink's database: neither STATE_DIRECTORY nor LocalAppData is set")
	}
	// the XDG base directory specification ignores a relative XDG_STATE_HOME
	if d := getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return at(filepath.Join(d, "storagenode-exporter"), "$XDG_STATE_HOME", "STATE_DIRECTORY or XDG_STATE_HOME"), nil
	}
	if home := getenv("HOME"); home != "" {
		return at(filepath.Join(home, ".local", "state", "storagenode-exporter"), "$HOME", "STATE_DIRECTORY or XDG_STATE_HOME"), nil
	}
	return dbLocation{}, errors.New("no place for the sink's database: neither STATE_DIRECTORY, XDG_STATE_HOME nor HOME is set")
}

// dbDefaultHere describes the default of this environment, for --help.
func dbDefaultHere() string {
	loc, err := defaultDB(os.Getenv, runtime.GOOS)
	if err != nil {
		return "none, " + err.Error()
	}
	return loc.Path
}

// chooseDB returns the database a command uses: the path of --db when it
// is on the command line, else the configuration file's db: (configFile
// names the file, cfg may be nil), else, when useDefault, the default.
// on is false when the sink is off: an empty path given, or no default.
func chooseDB(kctx *kong.Context, flag string, cfg *config.Config, configFile string, useDefault bool) (loc dbLocation, on bool, err error) {
	switch {
	case given(kctx, "db"):
		return dbLocation{Path: flag, From: "--db"}, flag != "", nil
	case cfg != nil && cfg.DB != nil:
		return dbLocation{Path: *cfg.DB, From: "db: in " + configFile}, *cfg.DB != "", nil
	case !useDefault:
		return dbLocation{}, false, nil
	}
	loc, err = defaultDB(os.Getenv, runtime.GOOS)
	if err != nil {
		return loc, false, fmt.Errorf("sink: %w: give --db PATH", err)
	}
	return loc, true, nil
}

// open opens the database for writing. The default's directory is created
// first; an error there or in opening names the path and what moves it.
// offHint is how to turn the sink off, "" when the command cannot.
func (loc dbLocation) open(ctx context.Context, opts sink.Options, offHint string) (*sink.DB, error) {
	if loc.dir != "" {
		if err := os.MkdirAll(loc.dir, 0o700); err != nil {
			return nil, loc.explain(fmt.Errorf("sink: cannot create the directory %s: %w", loc.dir, err), offHint)
		}
	}
	db, err := sink.Open(ctx, loc.Path, opts)
	if err != nil {
		return nil, loc.explain(err, offHint)
	}
	return db, nil
}

// explain adds to an error about the default database where it comes from
// and how to put it elsewhere.
func (loc dbLocation) explain(err error, offHint string) error {
	if loc.dir == "" {
		return err
	}
	if offHint != "" {
		offHint = "; " + offHint
	}
	return fmt.Errorf("%w (the default database, from %s: set %s or give --db PATH to put it elsewhere%s)", err, loc.From, loc.vars, offHint)
}
