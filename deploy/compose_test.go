package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"

	"github.com/storagenode-exporter/storagenode-exporter/grafana"
)

// load reads ../docker-compose.yml as docker compose would, with env as the
// only environment (no .env file, nothing from the test's own environment),
// validated against the compose specification's schema.
func load(t *testing.T, env map[string]string) *types.Project {
	t.Helper()
	var vars []string
	for k, v := range env {
		vars = append(vars, k+"="+v)
	}
	opts, err := cli.NewProjectOptions([]string{"../docker-compose.yml"},
		cli.WithName("storagenode-exporter"),
		cli.WithWorkingDirectory(".."),
		cli.WithEnv(vars),
		cli.WithDiscardEnvFile,
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return p
}

// dotenv reads deploy/.env.example as compose reads a .env file.
func dotenv(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf(".env.example: not KEY=VALUE: %q", l)
		}
		env[k] = v
	}
	return env
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("service %s: %v", name, err)
	}
	return s
}

func TestComposeServices(t *testing.T) {
	for _, env := range []map[string]string{nil, dotenv(t)} {
		p := load(t, env)
		names := p.ServiceNames()
		slices.Sort(names)
		if want := []string{"alertmanager", "exporter", "grafana", "prometheus"}; !slices.Equal(names, want) {
			t.Errorf("services %v, want %v", names, want)
		}
		for _, want := range [][2]string{{"prometheus", "exporter"}, {"prometheus", "alertmanager"}, {"grafana", "prometheus"}} {
			if _, ok := service(t, p, want[0]).DependsOn[want[1]]; !ok {
				t.Errorf("%s does not depend on %s", want[0], want[1])
			}
		}
		for _, s := range p.Services {
			if s.Restart != "unless-stopped" {
				t.Errorf("%s: restart %q, want unless-stopped", s.Name, s.Restart)
			}
		}
	}
}

// Every port is published on 127.0.0.1 unless BIND_ADDRESS says otherwise.
func TestComposePortsLoopbackByDefault(t *testing.T) {
	want := map[string]uint32{"exporter": 29651, "prometheus": 9090, "alertmanager": 9093, "grafana": 3000}
	for _, c := range []struct {
		env  map[string]string
		host string
	}{
		{nil, "127.0.0.1"},
		{dotenv(t), "127.0.0.1"},
		{map[string]string{"BIND_ADDRESS": "0.0.0.0"}, "0.0.0.0"},
	} {
		p := load(t, c.env)
		for _, s := range p.Services {
			if len(s.Ports) != 1 {
				t.Errorf("%s publishes %d ports, want 1", s.Name, len(s.Ports))
				continue
			}
			port := s.Ports[0]
			if port.HostIP != c.host || port.Target != want[s.Name] || port.Published != fmt.Sprint(want[s.Name]) {
				t.Errorf("BIND_ADDRESS=%q: %s publishes %s:%s -> %d, want %s:%d -> %d",
					c.env["BIND_ADDRESS"], s.Name, port.HostIP, port.Published, port.Target, c.host, want[s.Name], want[s.Name])
			}
		}
	}
}

// The exporter reads the node's log from a read-only mount, with flags that
// serve knows, and listens where its published port points.
func TestComposeExporter(t *testing.T) {
	p := load(t, nil)
	e := service(t, p, "exporter")
	if len(e.Volumes) == 0 {
		t.Fatal("exporter has no volumes")
	}
	var logs *types.ServiceVolumeConfig
	for i, v := range e.Volumes {
		if v.Target == "/logs" {
			logs = &e.Volumes[i]
		}
	}
	if logs == nil || !logs.ReadOnly || logs.Source != "/var/log/storagenode" {
		t.Errorf("exporter's /logs mount: %+v, want /var/log/storagenode read-only", logs)
	}
	cmd := []string(e.Command)
	if !slices.Contains(cmd, "--node=storagenode:/logs/node.log:http://host.docker.internal:14002") {
		t.Errorf("exporter command %q lacks the default --node", cmd)
	}
	if !slices.Contains(cmd, "--web.listen-address=:29651") {
		t.Errorf("exporter command %q does not listen on :29651", cmd)
	}
	env := dotenv(t)
	e = service(t, load(t, env), "exporter")
	wantNode := fmt.Sprintf("--node=%s:/logs/%s:%s", env["NODE_NAME"], env["NODE_LOG_FILE"], env["NODE_API_URL"])
	if !slices.Contains([]string(e.Command), wantNode) {
		t.Errorf("with .env.example the command is %q, want %s", e.Command, wantNode)
	}
	if e.User != env["EXPORTER_USER"] {
		t.Errorf("user %q, want %q", e.User, env["EXPORTER_USER"])
	}

	// every flag is one that serve accepts
	bin := filepath.Join(t.TempDir(), "storagenode-exporter")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/storagenode-exporter").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	help, err := exec.Command(bin, "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("serve --help: %v\n%s", err, help)
	}
	for _, arg := range cmd {
		name, _, _ := strings.Cut(arg, "=")
		if !strings.HasPrefix(name, "--") || !strings.Contains(string(help), name+"=") && !strings.Contains(string(help), name+" ") {
			t.Errorf("exporter command argument %q is not a serve flag", arg)
		}
	}
}

// Bind mounts name files and folders of the repository that exist.
func TestComposeMounts(t *testing.T) {
	p := load(t, nil)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	mounts := 0
	for _, s := range p.Services {
		for _, v := range s.Volumes {
			switch v.Type {
			case types.VolumeTypeBind:
				if !strings.HasPrefix(v.Source, root+string(filepath.Separator)) {
					continue // the node's own folders
				}
				mounts++
				if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("%s mounts %s: %v", s.Name, v.Source, err)
				}
				if !v.ReadOnly {
					t.Errorf("%s mounts the repository's %s writable", s.Name, v.Source)
				}
			case types.VolumeTypeVolume:
				if _, ok := p.Volumes[v.Source]; !ok {
					t.Errorf("%s uses volume %q, which is not declared", s.Name, v.Source)
				}
			}
		}
	}
	if mounts < 5 {
		t.Errorf("%d repository mounts, want the Prometheus config, rules (twice), provisioning and dashboards", mounts)
	}
	// what Prometheus is told to read is what is mounted
	prom := service(t, p, "prometheus")
	if !slices.Contains([]string(prom.Command), "--config.file=/etc/prometheus/storagenode/prometheus.yml") {
		t.Errorf("prometheus command %q", prom.Command)
	}
	if _, err := os.Stat(filepath.Join(root, "deploy/prometheus/prometheus.yml")); err != nil {
		t.Error(err)
	}
}

// The stack that is tested is the stack that is shipped: the Prometheus and
// Alertmanager images are the versions that tools/ pins for the tests.
func TestComposeImagesMatchPinnedTools(t *testing.T) {
	prom := pinned(t, "../tools/prom/go.mod", "github.com/prometheus/prometheus")
	am := pinned(t, "../tools/alertmanager/go.mod", "github.com/prometheus/alertmanager")
	// Prometheus 3.x is published as module versions v0.3MM.P
	m := regexp.MustCompile(`^v0\.3(\d\d)\.(\d+)$`).FindStringSubmatch(prom)
	if m == nil {
		t.Fatalf("tools/prom pins prometheus %s, not a v0.3MM.P module version", prom)
	}
	promImage := fmt.Sprintf("prom/prometheus:v3.%d.%s", atoi(t, m[1]), m[2])
	for _, env := range []map[string]string{nil, dotenv(t)} {
		p := load(t, env)
		if got := service(t, p, "prometheus").Image; got != promImage {
			t.Errorf("prometheus image %s, but the tests run %s (tools/prom)", got, promImage)
		}
		if got, want := service(t, p, "alertmanager").Image, "prom/alertmanager:"+am; got != want {
			t.Errorf("alertmanager image %s, but the tests run %s (tools/alertmanager)", got, want)
		}
	}
}

func pinned(t *testing.T, gomod, module string) string {
	t.Helper()
	b, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + ` (v\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s does not require %s", gomod, module)
	}
	return string(m[1])
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Grafana provisions the committed dashboards of grafana/ as they are: a
// read-only mount that a file provider reads, Grafana's own entrypoint, and
// the default data source a Prometheus, which the dashboards' data source
// variable takes. Their import input is named nowhere in the stack.
func TestComposeGrafanaProvisionsDashboardsUnchanged(t *testing.T) {
	p := load(t, nil)
	g := service(t, p, "grafana")
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Entrypoint) > 0 || len(g.Command) > 0 {
		t.Errorf("grafana overrides the image's start: entrypoint %q, command %q", g.Entrypoint, g.Command)
	}
	mounts := map[string]types.ServiceVolumeConfig{}
	for _, v := range g.Volumes {
		if v.Type == types.VolumeTypeBind {
			mounts[v.Source] = v
		}
	}
	prov, ok := mounts[filepath.Join(root, "deploy", "grafana", "provisioning")]
	if !ok || prov.Target != "/etc/grafana/provisioning" || !prov.ReadOnly {
		t.Fatalf("grafana's provisioning mount: %+v, want deploy/grafana/provisioning read-only at /etc/grafana/provisioning", prov)
	}
	dash, ok := mounts[filepath.Join(root, "grafana")]
	if !ok || !dash.ReadOnly {
		t.Fatalf("grafana's dashboards mount: %+v, want ../grafana read-only", dash)
	}

	// a file provider reads the mounted folder
	var dp struct {
		Providers []struct {
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, "grafana/provisioning/dashboards/storagenode.yml", &dp)
	if len(dp.Providers) != 1 || dp.Providers[0].Type != "file" || dp.Providers[0].Options.Path != dash.Target {
		t.Errorf("dashboard providers %+v, want one of type file with path %s", dp.Providers, dash.Target)
	}
	// the provider loads every .json below its path: exactly the dashboards
	var found []string
	filepath.WalkDir(filepath.Join(root, "grafana"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".json") {
			rel, _ := filepath.Rel(filepath.Join(root, "grafana"), path)
			found = append(found, rel)
		}
		return err
	})
	want := slices.Clone(grafana.Files)
	slices.Sort(found)
	slices.Sort(want)
	if !slices.Equal(found, want) {
		t.Errorf("JSON files in the mounted grafana/: %v, want the dashboards %v", found, want)
	}

	// the default data source is the stack's Prometheus
	var ds struct {
		Datasources []struct {
			Type      string `yaml:"type"`
			URL       string `yaml:"url"`
			IsDefault bool   `yaml:"isDefault"`
		} `yaml:"datasources"`
	}
	readYAML(t, "grafana/provisioning/datasources/prometheus.yml", &ds)
	defaults := 0
	for _, d := range ds.Datasources {
		if d.IsDefault {
			defaults++
			port := fmt.Sprint(service(t, p, "prometheus").Ports[0].Target)
			if d.Type != "prometheus" || d.URL != "http://prometheus:"+port {
				t.Errorf("default data source %+v, want the prometheus service on :%s", d, port)
			}
		}
	}
	if defaults != 1 {
		t.Errorf("%d default data sources, want the Prometheus", defaults)
	}

	// the dashboards' import inputs appear in no file of the stack
	var inputs []string
	for _, name := range grafana.Files {
		data, err := grafana.Dashboard(name)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Inputs []struct{ Name string } `json:"__inputs"`
		}
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatal(err)
		}
		for _, in := range d.Inputs {
			if !slices.Contains(inputs, in.Name) {
				inputs = append(inputs, in.Name)
			}
		}
	}
	if len(inputs) == 0 {
		t.Fatal("the dashboards have no __inputs")
	}
	files := []string{filepath.Join(root, "docker-compose.yml")}
	filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	})
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range inputs {
			if strings.Contains(string(data), in) {
				t.Errorf("%s mentions the import input %s: the stack provisions the dashboards unchanged", f, in)
			}
		}
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// The exporter keeps the sink's database in a named volume, writable, at
// the image's STATE_DIRECTORY, which the image declares a volume and hands
// to the user the stack runs it as.
func TestComposeExporterStateVolume(t *testing.T) {
	stages := dockerfileStages(t)
	final := stages[len(stages)-1]
	var state, chown string
	var volumes []string
	chowns := map[string]string{} // destination: owner
	for _, instr := range final {
		if v, ok := strings.CutPrefix(instr, "ENV STATE_DIRECTORY="); ok {
			state = v
		}
		if v, ok := strings.CutPrefix(instr, "VOLUME "); ok {
			volumes = append(volumes, strings.Fields(v)...)
		}
		if m := regexp.MustCompile(`^COPY .*--chown=(\S+) \S+ (\S+)$`).FindStringSubmatch(instr); m != nil {
			chowns[m[2]] = m[1]
		}
	}
	chown = chowns[state]
	if state == "" || !slices.Contains(volumes, state) {
		t.Fatalf("the image's STATE_DIRECTORY %q is not among its VOLUMEs %q", state, volumes)
	}
	for _, env := range []map[string]string{nil, dotenv(t)} {
		p := load(t, env)
		e := service(t, p, "exporter")
		if env == nil && chown != e.User {
			t.Errorf("the image gives %s to %q, the stack runs the exporter as %q", state, chown, e.User)
		}
		var data *types.ServiceVolumeConfig
		for i, v := range e.Volumes {
			if v.Target == state {
				data = &e.Volumes[i]
			}
		}
		if data == nil || data.Type != types.VolumeTypeVolume || data.ReadOnly {
			t.Fatalf("exporter's %s mount: %+v, want a writable named volume", state, data)
		}
		if _, ok := p.Volumes[data.Source]; !ok || data.Source != "exporter-data" {
			t.Errorf("exporter's %s is volume %q, want the declared exporter-data", state, data.Source)
		}
	}
}
