package alerts_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

const (
	rulesGlob    = "*.rules.yml"
	testsGlob    = "*_test.yml"
	amConfig     = "alertmanager.yml"
	e2eProm      = "../cmd/storagenode-exporter/testdata/e2e.prom"
	readme       = "../README.md"
	promConfig   = "../deploy/prometheus/prometheus.yml"
	exporterJob  = "storagenode-exporter"
	rulesMountIn = "/etc/prometheus/rules/*.rules.yml" // rule_files entry of promConfig
)

// notInGolden are metric families the rules may use although the golden
// scrape lacks them, each with the reason. Each must be named in the README.
var notInGolden = map[string]string{
	"storj_transfer_duration_seconds": "filled only from DEBUG piecestore lines, which the e2e log lacks",
}

// run runs a tool and fails the test with its output if it fails.
func run(t *testing.T, path string, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(path), strings.Join(args, " "), err, out)
	}
	return string(out)
}

func glob(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s (err %v)", pattern, err)
	}
	return files
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func (r rule) key() string { return r.Alert + "/" + r.Labels["severity"] }

func loadRules(t *testing.T) []rule {
	t.Helper()
	var rules []rule
	for _, f := range glob(t, rulesGlob) {
		var file struct {
			Groups []struct {
				Name  string `yaml:"name"`
				Rules []rule `yaml:"rules"`
			} `yaml:"groups"`
		}
		readYAML(t, f, &file)
		for _, g := range file.Groups {
			rules = append(rules, g.Rules...)
		}
	}
	if len(rules) == 0 {
		t.Fatal("no rules")
	}
	return rules
}

func TestPromtoolCheckRules(t *testing.T) {
	promtool := testutil.Tool(t, "promtool")
	run(t, promtool, append([]string{"check", "rules"}, glob(t, rulesGlob)...)...)
}

func TestPromtoolTestRules(t *testing.T) {
	promtool := testutil.Tool(t, "promtool")
	for _, f := range glob(t, testsGlob) {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			run(t, promtool, "test", "rules", f)
		})
	}
}

// TestAlertmanagerConfig checks the example as shipped, with every commented
// example enabled, and its routing by severity.
func TestAlertmanagerConfig(t *testing.T) {
	amtool := testutil.Tool(t, "amtool")
	run(t, amtool, "check-config", amConfig)

	b, err := os.ReadFile(amConfig)
	if err != nil {
		t.Fatal(err)
	}
	// "# " starts an example line, "## " an explanation.
	uncomment := regexp.MustCompile(`(?m)^(\s*)# `)
	all := uncomment.ReplaceAll(b, []byte("$1"))
	if slices.Equal(all, b) {
		t.Fatal("no commented examples found")
	}
	for _, want := range []string{"webhook_configs:", "email_configs:", "discord_configs:", "slack_configs:", "smtp_smarthost:"} {
		if !regexp.MustCompile(`(?m)^\s*# +` + regexp.QuoteMeta(want)).Match(b) {
			t.Errorf("no commented example %q", want)
		}
	}
	examples := filepath.Join(t.TempDir(), "alertmanager.yml")
	if err := os.WriteFile(examples, all, 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, amtool, "check-config", examples)

	for _, sev := range []string{"critical", "warning"} {
		run(t, amtool, "config", "routes", "test", "--config.file="+amConfig,
			"--verify.receivers="+sev, "alertname=StorjTest", "node=n", "severity="+sev)
	}
}

// TestPrometheusConfig checks the Prometheus configuration of
// docker-compose.yml with the rule files at their place in the repository,
// and that it scrapes the job the rules look for.
func TestPrometheusConfig(t *testing.T) {
	b, err := os.ReadFile(promConfig)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName string `yaml:"job_name"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cfg.RuleFiles, rulesMountIn) {
		t.Errorf("rule_files = %q, want %q", cfg.RuleFiles, rulesMountIn)
	}
	if !slices.ContainsFunc(cfg.ScrapeConfigs, func(s struct {
		JobName string `yaml:"job_name"`
	}) bool {
		return s.JobName == exporterJob
	}) {
		t.Errorf("no scrape job %q in %s", exporterJob, promConfig)
	}
	for _, r := range loadRules(t) {
		if strings.Contains(r.Expr, "up{") && !strings.Contains(r.Expr, `job="`+exporterJob+`"`) {
			t.Errorf("%s: up{} without job=%q: %s", r.key(), exporterJob, r.Expr)
		}
	}

	promtool := testutil.Tool(t, "promtool")
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	local := strings.ReplaceAll(string(b), rulesMountIn, filepath.Join(dir, rulesGlob))
	path := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(path, []byte(local), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, promtool, "check", "config", path)
}

// goldenFamilies returns the metric names of the golden scrape, and which
// of them are histograms.
func goldenFamilies(t *testing.T) (names, histograms map[string]bool) {
	t.Helper()
	f, err := os.Open(e2eProm)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names, histograms = map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if fields := strings.Fields(line); len(fields) >= 4 && fields[0] == "#" && fields[1] == "TYPE" {
			names[fields[2]] = true
			if fields[3] == "histogram" {
				histograms[fields[2]] = true
			}
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		names[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatalf("%s: no metrics", e2eProm)
	}
	return names, histograms
}

var metricName = regexp.MustCompile(`\bstorj_[a-zA-Z0-9_]*[a-zA-Z0-9]`)

// TestRulesUseExportedMetrics guards against drift between the rules and the
// exporter: every storj_ name in an expression or annotation query must be
// served (as seen in the golden end-to-end scrape), or be a listed exception.
func TestRulesUseExportedMetrics(t *testing.T) {
	names, histograms := goldenFamilies(t)
	doc, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	for family, why := range notInGolden {
		if names[family] {
			t.Errorf("%s is in %s now: drop it from notInGolden (%s)", family, e2eProm, why)
		}
		if !strings.Contains(string(doc), "`"+family+"`") {
			t.Errorf("%s is not documented in %s", family, readme)
		}
	}
	known := func(name string) bool {
		if names[name] {
			return true
		}
		if _, ok := notInGolden[name]; ok {
			return true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok {
				if _, listed := notInGolden[base]; histograms[base] || listed {
					return true
				}
			}
		}
		return false
	}
	used := map[string]bool{}
	for _, r := range loadRules(t) {
		texts := []string{r.Expr}
		for _, a := range r.Annotations {
			texts = append(texts, a)
		}
		for _, text := range texts {
			for _, name := range metricName.FindAllString(text, -1) {
				used[name] = true
				if !known(name) {
					t.Errorf("%s uses %s, which the exporter does not serve (%s)", r.key(), name, e2eProm)
				}
			}
		}
	}
	if len(used) < 10 {
		t.Errorf("only %d metric names found in the rules: is the regexp broken?", len(used))
	}
}

// TestRulesShape checks the conventions every alert follows.
func TestRulesShape(t *testing.T) {
	bySatellite := regexp.MustCompile(`storj_satellite_|by \([^)]*\bsatellite\b`)
	seen := map[string]bool{}
	for _, r := range loadRules(t) {
		if r.Alert == "" {
			t.Errorf("recording rule %q: this file holds alerts only", r.Record)
			continue
		}
		if seen[r.key()] {
			t.Errorf("%s: defined twice", r.key())
		}
		seen[r.key()] = true
		if !strings.HasPrefix(r.Alert, "Storj") {
			t.Errorf("%s: alert names start with Storj", r.key())
		}
		if s := r.Labels["severity"]; s != "warning" && s != "critical" {
			t.Errorf("%s: severity %q, want warning or critical", r.Alert, s)
		}
		summary, description := r.Annotations["summary"], r.Annotations["description"]
		if summary == "" || description == "" {
			t.Errorf("%s: needs the annotations summary and description", r.key())
		}
		both := summary + description
		if !strings.Contains(both, "$labels.node") && !strings.Contains(both, ".Labels.node") {
			t.Errorf("%s: summary or description must name the node", r.key())
		}
		if bySatellite.MatchString(r.Expr) && !strings.Contains(both, "$labels.satellite") {
			t.Errorf("%s: summary or description must name the satellite", r.key())
		}
	}
}

// TestEveryAlertTested checks that the promtool tests have, for each alert
// and severity, a case where it fires and one where it does not.
func TestEveryAlertTested(t *testing.T) {
	type expAlert struct {
		Labels map[string]string `yaml:"exp_labels"`
	}
	firing, silent := map[string]bool{}, map[string]bool{}
	severities := map[string][]string{} // alert -> its severities
	rules := loadRules(t)
	for _, r := range rules {
		severities[r.Alert] = append(severities[r.Alert], r.Labels["severity"])
	}
	for _, f := range glob(t, testsGlob) {
		var file struct {
			RuleFiles []string `yaml:"rule_files"`
			Tests     []struct {
				Name  string `yaml:"name"`
				Cases []struct {
					Alertname string     `yaml:"alertname"`
					ExpAlerts []expAlert `yaml:"exp_alerts"`
				} `yaml:"alert_rule_test"`
			} `yaml:"tests"`
		}
		readYAML(t, f, &file)
		for _, test := range file.Tests {
			for _, c := range test.Cases {
				if _, ok := severities[c.Alertname]; !ok {
					t.Errorf("%s: test %q checks unknown alert %s", f, test.Name, c.Alertname)
				}
				fired := map[string]bool{}
				for _, a := range c.ExpAlerts {
					fired[a.Labels["severity"]] = true
				}
				for _, sev := range severities[c.Alertname] {
					if fired[sev] {
						firing[c.Alertname+"/"+sev] = true
					} else {
						silent[c.Alertname+"/"+sev] = true
					}
				}
			}
		}
	}
	var keys []string
	for _, r := range rules {
		keys = append(keys, r.key())
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !firing[k] {
			t.Errorf("%s: no test case where it fires", k)
		}
		if !silent[k] {
			t.Errorf("%s: no test case where it does not fire", k)
		}
	}
}
