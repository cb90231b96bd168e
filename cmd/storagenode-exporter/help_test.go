package main

import (
	"cmp"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	"gopkg.in/yaml.v3"

	"github.com/storagenode-exporter/storagenode-exporter/internal/config"
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

// Every flag with a default shows it in --help. --db, whose default
// depends on the environment, shows the rule and where it leads here, in
// serve, ingest and report alike.
func TestHelpShowsDefaults(t *testing.T) {
	t.Parallel()
	here, err := config.DefaultDB(os.Getenv, runtime.GOOS)
	for _, cmd := range []string{"serve", "ingest", "report"} {
		code, out, _ := runCLI(t, "", cmd, "--help")
		for _, want := range []string{"--db=PATH", "$STATE_DIRECTORY/" + config.DBFile, "$XDG_STATE_HOME/storagenode-exporter", "~/.local/state/storagenode-exporter"} {
			if code != 0 || !strings.Contains(out, want) {
				t.Errorf("%s --help: exit %d, no %q:\n%s", cmd, code, want, out)
			}
		}
		if err == nil && !strings.Contains(out, here.Path+".") {
			t.Errorf("%s --help does not show the default here, %s:\n%s", cmd, here.Path, out)
		}
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

// readmeSections returns the README's "## " sections by their heading line.
func readmeSections(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]string{}
	var heading string
	for l := range strings.Lines(string(data)) {
		if strings.HasPrefix(l, "## ") {
			heading = strings.TrimSpace(l)
		}
		sections[heading] += l
	}
	return sections
}

// Every flag of every command is in the README, in the section about its
// command; every configuration key is in the README's example file, which
// loads without a problem.
func TestREADMEFlagsAndConfigKeys(t *testing.T) {
	t.Parallel()
	sections := readmeSections(t)
	const (
		serve   = "## `serve` (the default command)"
		forward = "## `forward`"
		rep     = "## `report`"
		raw     = "## Raw events: the SQLite sink, `ingest` and history"
	)
	where := map[string][]string{ // the README sections each command's flags are in
		"":        {serve}, // the flags of every command (--log.*, --version): in serve's table
		"serve":   {serve},
		"forward": {forward},
		"report":  {rep, raw},
		"ingest":  {raw},
		"version": {},
	}
	for _, s := range where {
		for _, h := range s {
			if sections[h] == "" {
				t.Fatalf("README has no section %q", h)
			}
		}
	}
	app := cliModel(t)
	check := func(command string, flags []*kong.Flag) {
		secs, ok := where[command]
		if !ok {
			t.Errorf("command %q: say in this test where the README documents it", command)
			return
		}
		for _, f := range flags {
			if f.Hidden || f.Name == "help" {
				continue
			}
			name := regexp.MustCompile(`--(\[no-\])?` + regexp.QuoteMeta(f.Name) + `([^a-z0-9.-]|$)`)
			found := false
			for _, h := range secs {
				found = found || name.MatchString(sections[h])
			}
			if !found {
				t.Errorf("--%s (%s) is not in the README's %q", f.Name, cmp.Or(command, "every command"), secs)
			}
		}
	}
	check("", app.Flags)
	for name, cmd := range commands(app) {
		check(name, cmd.Flags)
	}

	// the configuration example
	serveText := sections[serve]
	start := strings.Index(serveText, "```yaml\n")
	if start < 0 {
		t.Fatal("no configuration example in the README's serve section")
	}
	example := serveText[start+len("```yaml\n"):]
	example = example[:strings.Index(example, "```")]
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(example), &doc); err != nil || len(doc.Content) == 0 {
		t.Fatalf("the README's configuration example: %v", err)
	}
	exampleFile := filepath.Join(t.TempDir(), "readme-example.yml")
	if err := os.WriteFile(exampleFile, []byte(example), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(exampleFile); err != nil {
		t.Errorf("the README's configuration example (lines counted from the yaml fence): %v", err)
	}
	present := map[config.Key]bool{}
	var walk func(n *yaml.Node, section string)
	walk = func(n *yaml.Node, section string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				present[config.Key{Section: section, Name: n.Content[i].Value}] = true
				walk(n.Content[i+1], n.Content[i].Value)
			}
		case yaml.SequenceNode:
			for _, item := range n.Content {
				walk(item, section)
			}
		}
	}
	walk(doc.Content[0], "")
	for _, k := range config.Keys() {
		if !present[k] {
			t.Errorf("configuration key %q (under %q) is not in the README's example", k.Name, k.Section)
		}
	}
}

// deploy/config.example.yml, the systemd unit's configuration, loads without
// a problem and documents every configuration key (commented or not).
func TestDeployConfigExample(t *testing.T) {
	t.Parallel()
	const path = "../../deploy/config.example.yml"
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Nodes) == 0 {
		t.Errorf("%s names no node", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range config.Keys() {
		if !regexp.MustCompile(`(?m)(^|[\s{#])` + regexp.QuoteMeta(k.Name) + `:`).Match(data) {
			t.Errorf("%s does not mention the key %q (under %q)", path, k.Name, k.Section)
		}
	}
}
