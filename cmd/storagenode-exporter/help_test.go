package main

import (
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// cliModel returns the kong model of the command line.
func cliModel(t *testing.T) *kong.Application {
	t.Helper()
	var cli CLI
	p, err := kong.New(&cli, kong.Exit(func(int) {}), cliVars())
	if err != nil {
		t.Fatal(err)
	}
	return p.Model
}

// commands returns the model's commands by name.
func commands(app *kong.Application) map[string]*kong.Node {
	m := map[string]*kong.Node{}
	for _, n := range app.Children {
		m[n.Name] = n
	}
	return m
}

// Every flag with a default shows it in --help: --db=storagenode-exporter.db
// among them (a placeholder used to hide it).
func TestHelpShowsDefaults(t *testing.T) {
	t.Parallel()
	code, out, _ := runCLI(t, "", "serve", "--help")
	if code != 0 || !strings.Contains(out, `--db="storagenode-exporter.db"`) {
		t.Errorf("serve --help: exit %d, no --db default:\n%s", code, out)
	}
	for name, cmd := range commands(cliModel(t)) {
		_, out, _ := runCLI(t, "", name, "--help")
		for _, f := range cmd.Flags {
			if f.Hidden || f.Default == "" || f.IsBool() {
				continue
			}
			if !strings.Contains(out, "--"+f.Name+"="+f.Default) && !strings.Contains(out, "--"+f.Name+`="`+f.Default+`"`) {
				t.Errorf("%s --help does not show --%s's default %q", name, f.Name, f.Default)
			}
		}
	}
}
