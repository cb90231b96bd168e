package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

// DBFile is the name of the sink's database in its default directory.
const DBFile = "storagenode-exporter.db"

// DBDefaultRule says where the sink's database is when neither --db nor the
// configuration's db: names one; DefaultDB implements it, for serve, ingest
// and report alike. The working directory is not used: a service's is often
// / (C:\Windows\System32 on Windows), and ingest or report started in
// another directory would not find what serve wrote.
const DBDefaultRule = "$STATE_DIRECTORY/" + DBFile + " if set (systemd's StateDirectory=, the image's /data), else " + DBFile +
	" in $XDG_STATE_HOME/storagenode-exporter (~/.local/state/storagenode-exporter; on Windows %LocalAppData%\\storagenode-exporter)"

// DBLocation is the sink's database and what chose it.
type DBLocation struct {
	Path string // the database file
	From string // what chose it, for the log: --db, the config file, a variable
	// the default's own directory, created (0700) if missing; "" for a
	// path the user gave
	dir string
	// the variables that move the default, for errors
	vars string
}

// DefaultDB returns the default location of the sink's database (see
// DBDefaultRule), with getenv reading the environment and goos the
// operating system. Nothing is created.
func DefaultDB(getenv func(string) string, goos string) (DBLocation, error) {
	at := func(dir, from, vars string) DBLocation {
		return DBLocation{Path: filepath.Join(dir, DBFile), From: from, dir: dir, vars: vars}
	}
	// systemd passes every directory of StateDirectory=, colon-separated
	if first, _, _ := strings.Cut(getenv("STATE_DIRECTORY"), ":"); first != "" {
		return at(first, "$STATE_DIRECTORY", "STATE_DIRECTORY"), nil
	}
	if goos == "windows" {
		if d := getenv("LocalAppData"); d != "" {
			return at(filepath.Join(d, "storagenode-exporter"), "%LocalAppData%", "STATE_DIRECTORY or LocalAppData"), nil
		}
		return DBLocation{}, errors.New("no place for the sink's database: neither STATE_DIRECTORY nor LocalAppData is set")
	}
	// the XDG base directory specification ignores a relative XDG_STATE_HOME
	if d := getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return at(filepath.Join(d, "storagenode-exporter"), "$XDG_STATE_HOME", "STATE_DIRECTORY or XDG_STATE_HOME"), nil
	}
	if home := getenv("HOME"); home != "" {
		return at(filepath.Join(home, ".local", "state", "storagenode-exporter"), "$HOME", "STATE_DIRECTORY or XDG_STATE_HOME"), nil
	}
	return DBLocation{}, errors.New("no place for the sink's database: neither STATE_DIRECTORY, XDG_STATE_HOME nor HOME is set")
}

// DefaultDBHere describes the default of this environment, for --help.
func DefaultDBHere() string {
	loc, err := DefaultDB(os.Getenv, runtime.GOOS)
	if err != nil {
		return "none, " + err.Error()
	}
	return loc.Path
}

// ChooseDB returns the database a command uses: flag (--db) when it was
// given on the command line, else the configuration file's db: (configFile
// names the file, cfg may be nil), else, when useDefault, the default. on
// is false when the sink is off: an empty path given, or no default.
func ChooseDB(flagGiven bool, flag string, cfg *Config, configFile string, useDefault bool) (loc DBLocation, on bool, err error) {
	switch {
	case flagGiven:
		return DBLocation{Path: flag, From: "--db"}, flag != "", nil
	case cfg != nil && cfg.DB != nil:
		return DBLocation{Path: *cfg.DB, From: "db: in " + configFile}, *cfg.DB != "", nil
	case !useDefault:
		return DBLocation{}, false, nil
	}
	loc, err = DefaultDB(os.Getenv, runtime.GOOS)
	if err != nil {
		return loc, false, fmt.Errorf("sink: %w: give --db PATH", err)
	}
	return loc, true, nil
}

// Open opens the database for writing. The default's directory is created
// first; an error there or in opening names the path and what moves it.
// offHint is how to turn the sink off, "" when the command cannot.
func (loc DBLocation) Open(ctx context.Context, opts sink.Options, offHint string) (*sink.DB, error) {
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
func (loc DBLocation) explain(err error, offHint string) error {
	if loc.dir == "" {
		return err
	}
	if offHint != "" {
		offHint = "; " + offHint
	}
	return fmt.Errorf("%w (the default database, from %s: set %s or give --db PATH to put it elsewhere%s)", err, loc.From, loc.vars, offHint)
}
