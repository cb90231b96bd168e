package grafana

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"

	"github.com/storagenode-exporter/storagenode-exporter/grafana/internal/gen"
	"github.com/storagenode-exporter/storagenode-exporter/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the dashboard JSON files from the generator")

const (
	e2eProm = "../cmd/storagenode-exporter/testdata/e2e.prom"
	readme  = "../README.md"
)

// alwaysPresent are families every scrape of a node with an API has, left
// out of e2e.prom only because their values change from run to run (see
// `volatile` in cmd/storagenode-exporter/serve_test.go).
var alwaysPresent = []string{
	"storj_nodeapi_last_success_timestamp_seconds",
	"storj_nodeapi_request_duration_seconds",
}

// The committed JSON is what the generator writes; -update rewrites it.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	files, err := gen.Dashboards()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
		if *update {
			if err := os.WriteFile(f.Name, f.JSON, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(f.Name)
		if err != nil {
			t.Fatalf("%v (run go generate ./grafana)", err)
		}
		if !bytes.Equal(got, f.JSON) {
			t.Errorf("%s is not what the generator writes; run `go generate ./grafana` (or go test ./grafana -update):\n%s",
				f.Name, cmp.Diff(string(got), string(f.JSON)))
		}
		again, err := gen.Dashboards()
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range again {
			if g.Name == f.Name && !bytes.Equal(g.JSON, f.JSON) {
				t.Errorf("%s: two runs of the generator differ", f.Name)
			}
		}
	}
	if !slices.Equal(names, Files) {
		t.Errorf("generated %v, package lists %v", names, Files)
	}
	// the embedded copies are the files on disk
	for _, name := range Files {
		disk, _ := os.ReadFile(name)
		emb, err := Dashboard(name)
		if err != nil || !bytes.Equal(disk, emb) {
			t.Errorf("%s: embedded copy differs from the file (%v)", name, err)
		}
	}
}

func loadAll(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, name := range Files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(data, []byte("}\n")) {
			t.Errorf("%s does not end with a newline", name)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = m
	}
	return out
}

func panelsOf(d map[string]any) []map[string]any {
	var ps []map[string]any
	var walk func([]any)
	walk = func(list []any) {
		for _, p := range list {
			pm := p.(map[string]any)
			ps = append(ps, pm)
			if sub, ok := pm["panels"].([]any); ok {
				walk(sub)
			}
		}
	}
	list, _ := d["panels"].([]any)
	walk(list)
	return ps
}

// Importable, core panels only, variables, datasource references, layout.
func TestDashboardStructure(t *testing.T) {
	uids := map[string]bool{gen.UIDOverview: true, gen.UIDNodeDetail: true, gen.UIDReputation: true}
	allowed := map[string]bool{"row": true}
	for _, p := range gen.CorePanelTypes() {
		allowed[p] = true
	}
	seenUID := map[string]bool{}
	for name, d := range loadAll(t) {
		data, _ := os.ReadFile(name)
		if bytes.Contains(bytes.ToLower(data), []byte("angular")) {
			t.Errorf("%s mentions angular", name)
		}
		for _, key := range []string{`"autoMigrateFrom"`, `"pluginVersion"`, `"libraryPanel"`} {
			if bytes.Contains(data, []byte(key)) {
				t.Errorf("%s has %s", name, key)
			}
		}

		// __inputs and __requires
		inputs, _ := d["__inputs"].([]any)
		if len(inputs) != 1 {
			t.Fatalf("%s: __inputs = %v", name, d["__inputs"])
		}
		in := inputs[0].(map[string]any)
		if in["name"] != gen.DSInput || in["type"] != "datasource" || in["pluginId"] != "prometheus" {
			t.Errorf("%s: __inputs[0] = %v", name, in)
		}
		requires := map[string]bool{}
		for _, r := range d["__requires"].([]any) {
			rm := r.(map[string]any)
			requires[rm["type"].(string)+"/"+rm["id"].(string)] = true
			// the oldest release they work with: Grafana 10.4 and its schema
			if rm["type"] == "grafana" && rm["version"] != "10.4.0" {
				t.Errorf("%s: __requires Grafana %v, want 10.4.0", name, rm["version"])
			}
		}
		if !requires["grafana/grafana"] || !requires["datasource/prometheus"] {
			t.Errorf("%s: __requires = %v", name, requires)
		}
		if d["schemaVersion"] != 39.0 {
			t.Errorf("%s: schemaVersion %v, want 39 (Grafana 10.4's)", name, d["schemaVersion"])
		}

		// uid and links
		uid, _ := d["uid"].(string)
		if !uids[uid] || seenUID[uid] {
			t.Errorf("%s: uid %q", name, uid)
		}
		seenUID[uid] = true
		links, _ := d["links"].([]any)
		if len(links) != 2 {
			t.Errorf("%s: %d links, want 2", name, len(links))
		}
		for _, l := range links {
			u := l.(map[string]any)["url"].(string)
			if !uids[strings.TrimPrefix(u, "/d/")] || strings.TrimPrefix(u, "/d/") == uid {
				t.Errorf("%s: link to %s", name, u)
			}
		}

		// variables: the data source first, its current value the import input
		vars := map[string]map[string]any{}
		list := d["templating"].(map[string]any)["list"].([]any)
		for _, v := range list {
			vm := v.(map[string]any)
			vars[vm["name"].(string)] = vm
		}
		if _, ok := vars["DS_PROMETHEUS"]; ok {
			t.Errorf("%s: DS_PROMETHEUS is a variable; it is an __inputs entry", name)
		}
		first := list[0].(map[string]any)
		input := "${" + in["name"].(string) + "}"
		cur, _ := first["current"].(map[string]any)
		if first["name"] != "datasource" || first["type"] != "datasource" || first["query"] != "prometheus" ||
			first["multi"] != false || first["includeAll"] != false || first["regex"] != "" || first["hide"] != 0.0 ||
			cur["value"] != input || cur["text"] != input {
			t.Errorf("%s: first variable %v, want the data source variable of type prometheus, current value %s", name, first, input)
		}
		for vname, query := range map[string]string{
			"node":      `label_values(storj_log_lines_total, node)`,
			"satellite": `label_values(storj_transfers_total{node=~"$node"}, satellite)`,
		} {
			v := vars[vname]
			if v == nil {
				t.Errorf("%s: no variable %s", name, vname)
				continue
			}
			if v["type"] != "query" || v["query"] != query || v["multi"] != true || v["includeAll"] != true || v["allValue"] != ".*" {
				t.Errorf("%s: variable %s = %v", name, vname, v)
			}
			checkDatasource(t, name+" variable "+vname, v["datasource"])
		}

		// panels
		ids := map[float64]bool{}
		type rect struct{ x, y, w, h float64 }
		var rects []rect
		var titles []string
		for _, p := range panelsOf(d) {
			typ, _ := p["type"].(string)
			title, _ := p["title"].(string)
			if !allowed[typ] {
				t.Errorf("%s: panel %q has type %q, not a core panel", name, title, typ)
			}
			id, ok := p["id"].(float64)
			if !ok || id <= 0 || ids[id] {
				t.Errorf("%s: panel %q: id %v missing or repeated", name, title, p["id"])
			}
			ids[id] = true
			gp, ok := p["gridPos"].(map[string]any)
			if !ok {
				t.Errorf("%s: panel %q has no gridPos", name, title)
				continue
			}
			r := rect{gp["x"].(float64), gp["y"].(float64), gp["w"].(float64), gp["h"].(float64)}
			if r.w <= 0 || r.h <= 0 || r.x+r.w > 24 {
				t.Errorf("%s: panel %q: gridPos %v", name, title, gp)
			}
			for _, o := range rects {
				if r.x < o.x+o.w && o.x < r.x+r.w && r.y < o.y+o.h && o.y < r.y+r.h {
					t.Errorf("%s: panel %q overlaps another at %v", name, title, gp)
				}
			}
			rects = append(rects, r)
			if typ == "row" {
				continue
			}
			if title == "" || slices.Contains(titles, title) {
				t.Errorf("%s: panel title %q empty or repeated", name, title)
			}
			titles = append(titles, title)
			checkDatasource(t, name+" panel "+title, p["datasource"])
			targets, _ := p["targets"].([]any)
			if len(targets) == 0 {
				t.Errorf("%s: panel %q has no query", name, title)
			}
			refs := map[string]bool{}
			for _, tg := range targets {
				tm := tg.(map[string]any)
				ref, _ := tm["refId"].(string)
				if ref == "" || refs[ref] {
					t.Errorf("%s: panel %q: refId %q empty or repeated", name, title, ref)
				}
				refs[ref] = true
				if e, _ := tm["expr"].(string); strings.TrimSpace(e) == "" {
					t.Errorf("%s: panel %q %s: no expr", name, title, ref)
				}
				checkDatasource(t, name+" panel "+title+" "+ref, tm["datasource"])
			}
			if typ == "geomap" {
				checkGeomap(t, name, p)
			}
		}
	}
	if len(seenUID) != len(uids) {
		t.Errorf("uids %v, want %v", seenUID, uids)
	}
}

func checkDatasource(t *testing.T, where string, ds any) {
	t.Helper()
	m, _ := ds.(map[string]any)
	if m["type"] != "prometheus" || m["uid"] != "${datasource}" {
		t.Errorf("%s: datasource %v, want prometheus ${datasource}", where, ds)
	}
}

// walkJSON calls f on every value of a decoded JSON document with its path.
func walkJSON(path string, v any, f func(path string, v any)) {
	f(path, v)
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			walkJSON(path+"."+k, e, f)
		}
	case []any:
		for i, e := range v {
			walkJSON(fmt.Sprintf("%s[%d]", path, i), e, f)
		}
	}
}

// importInputs does what Grafana's import does with the chosen inputs
// (pkg/services/dashboardimport/utils/dash_template_evaluator.go): drop
// __inputs and replace ${NAME} of an input in every string.
func importInputs(d map[string]any, values map[string]string) map[string]any {
	ref := regexp.MustCompile(`\$\{.+?\}`)
	var eval func(v any) any
	eval = func(v any) any {
		switch v := v.(type) {
		case string:
			return ref.ReplaceAllStringFunc(v, func(m string) string {
				if r, ok := values[strings.TrimSuffix(strings.TrimPrefix(m, "${"), "}")]; ok {
					return r
				}
				return m
			})
		case map[string]any:
			out := map[string]any{}
			for k, e := range v {
				if k != "__inputs" {
					out[k] = eval(e)
				}
			}
			return out
		case []any:
			out := make([]any, len(v))
			for i, e := range v {
				out[i] = eval(e)
			}
			return out
		}
		return v
	}
	return eval(d).(map[string]any)
}

// Provisioned as they are, every data source reference is the data source
// variable (or Grafana's built-in annotations), and the import input
// appears only as that variable's current value. Imported, the input fills
// that value and nothing else changes.
func TestDataSourceProvisionedAndImported(t *testing.T) {
	for name, d := range loadAll(t) {
		refs := 0
		walkJSON("", d, func(path string, v any) {
			if m, ok := v.(map[string]any); ok && strings.HasSuffix(path, ".datasource") {
				refs++
				builtin := m["type"] == "grafana" && m["uid"] == "-- Grafana --" && strings.HasPrefix(path, ".annotations.")
				if !builtin && (m["type"] != "prometheus" || m["uid"] != "${datasource}" || len(m) != 2) {
					t.Errorf("%s %s: data source %v, want {type: prometheus, uid: ${datasource}}", name, path, m)
				}
			}
			if s, ok := v.(string); ok && strings.Contains(s, "${DS_") &&
				path != ".templating.list[0].current.text" && path != ".templating.list[0].current.value" {
				t.Errorf("%s %s: %q: the import input belongs only to the data source variable", name, path, s)
			}
		})
		if refs < 50 {
			t.Errorf("%s: only %d data source references", name, refs)
		}

		imported := importInputs(d, map[string]string{"DS_PROMETHEUS": "chosen-uid"})
		v := imported["templating"].(map[string]any)["list"].([]any)[0].(map[string]any)
		if cur := v["current"].(map[string]any); cur["value"] != "chosen-uid" {
			t.Errorf("%s: imported, the data source variable's current value is %v", name, cur["value"])
		}
		if _, ok := imported["__inputs"]; ok {
			t.Errorf("%s: __inputs left after the import", name)
		}
		want := map[string]any{}
		for k, e := range d {
			if k != "__inputs" {
				want[k] = e
			}
		}
		want["templating"] = imported["templating"]
		if diff := cmp.Diff(want, imported); diff != "" {
			t.Errorf("%s: the import changes more than the data source variable:\n%s", name, diff)
		}
	}
}

// Grafana 10.4 knows every option except gen.NewerThanRequired, and those
// have the value that 10.4 ignores to the same effect.
func TestNewerOptionsKeepTheirValue(t *testing.T) {
	seen := map[string]bool{}
	check := func(where, key string, v any) {
		want, ok := gen.NewerThanRequired[key]
		if !ok {
			return
		}
		seen[key] = true
		if !cmp.Equal(v, want.Value) {
			t.Errorf("%s: %s = %v: Grafana 10.4 does not have it (%s has), keep it %v or raise __requires",
				where, key, v, want.Since, want.Value)
		}
	}
	for name, d := range loadAll(t) {
		for _, v := range d["templating"].(map[string]any)["list"].([]any) {
			vm := v.(map[string]any)
			for k, e := range vm {
				check(fmt.Sprintf("%s variable %v", name, vm["name"]), "variable/"+k, e)
			}
		}
		for _, p := range panelsOf(d) {
			opts, _ := p["options"].(map[string]any)
			walkJSON("", opts, func(path string, v any) {
				check(fmt.Sprintf("%s panel %q", name, p["title"]), p["type"].(string)+"/"+strings.TrimPrefix(path, "."), v)
			})
		}
	}
	for key := range gen.NewerThanRequired {
		if !seen[key] {
			t.Errorf("gen.NewerThanRequired lists %s, which no dashboard has", key)
		}
	}
}

// The world maps: an instant table query by country, a markers layer
// looked up by country in the built-in gazetteer.
func checkGeomap(t *testing.T, name string, p map[string]any) {
	t.Helper()
	title := p["title"]
	for _, tg := range p["targets"].([]any) {
		tm := tg.(map[string]any)
		if tm["instant"] != true || tm["format"] != "table" ||
			!strings.Contains(tm["expr"].(string), "storj_transfers_by_country_total") ||
			!strings.Contains(tm["expr"].(string), "by (country)") {
			t.Errorf("%s: geomap %q query %v", name, title, tm)
		}
	}
	layers := p["options"].(map[string]any)["layers"].([]any)
	if len(layers) == 0 {
		t.Fatalf("%s: geomap %q has no layer", name, title)
	}
	for _, l := range layers {
		lm := l.(map[string]any)
		loc, _ := lm["location"].(map[string]any)
		if lm["type"] != "markers" && lm["type"] != "heatmap" {
			t.Errorf("%s: geomap %q layer type %v", name, title, lm["type"])
		}
		if loc["mode"] != "lookup" || loc["lookup"] != "country" || loc["gazetteer"] != "public/gazetteer/countries.json" {
			t.Errorf("%s: geomap %q layer location %v", name, title, loc)
		}
	}
}

// family labels from e2e.prom and the README's metric tables
type catalog struct {
	scraped map[string]bool            // families with series in e2e.prom
	labels  map[string]map[string]bool // family → label names
	readme  map[string]bool            // families in the README tables
}

func loadCatalog(t *testing.T) catalog {
	t.Helper()
	c := catalog{scraped: map[string]bool{}, labels: map[string]map[string]bool{}, readme: map[string]bool{}}
	addLabel := func(f, l string) {
		if c.labels[f] == nil {
			c.labels[f] = map[string]bool{}
		}
		c.labels[f][l] = true
	}
	f, err := os.Open(e2eProm)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sample := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? `)
	labelName := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if fs := strings.Fields(line); len(fs) >= 4 && fs[0] == "#" && fs[1] == "TYPE" {
			addLabel(fs[2], "node")
			continue
		}
		m := sample.FindStringSubmatch(line)
		if m == nil || !strings.HasPrefix(m[1], "storj_") {
			continue
		}
		fam := gen.Families(m[1])[0]
		c.scraped[fam] = true
		for _, l := range labelName.FindAllStringSubmatch(m[2], -1) {
			addLabel(fam, l[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	section := string(data)
	if i := strings.Index(section, "## Metrics"); i >= 0 {
		section = section[i:]
		if j := strings.Index(section[3:], "\n## "); j >= 0 {
			section = section[:j+3]
		}
	}
	tick := regexp.MustCompile("`([a-z_]+)`")
	paren := regexp.MustCompile(`\([^)]*\)`)
	header := ""
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "|") {
			header = ""
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if header == "" {
			header = line
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(cells[0]), "---") {
			continue
		}
		labelCol := 1 // | Family | Labels | Meaning |
		if strings.Contains(header, "| Type |") {
			labelCol = 2 // | Family | Type | Labels | Meaning |
		}
		var fams []string
		var base string
		for _, m := range tick.FindAllStringSubmatch(cells[0], -1) {
			name := m[1]
			switch {
			case strings.HasPrefix(name, "storj_"):
				if base == "" {
					base = name
				}
			case strings.HasPrefix(name, "_") && base != "":
				// `storj_node_disk_used_bytes`, `_free_bytes`: replace as
				// many trailing words of the first name as the suffix has
				parts := strings.Split(base, "_")
				n := strings.Count(name, "_")
				name = strings.Join(parts[:len(parts)-n], "_") + name
			default:
				continue
			}
			fams = append(fams, name)
		}
		var labels []string
		if labelCol < len(cells) {
			for _, l := range strings.Split(paren.ReplaceAllString(cells[labelCol], ""), ",") {
				if l = strings.TrimSpace(l); regexp.MustCompile(`^[a-z_]+$`).MatchString(l) {
					labels = append(labels, l)
				}
			}
		}
		for _, fam := range fams {
			c.readme[fam] = true
			for _, l := range labels {
				addLabel(fam, l)
			}
		}
	}
	if len(c.readme) < 40 || len(c.scraped) < 30 {
		t.Fatalf("catalog too small: %d README families, %d scraped", len(c.readme), len(c.scraped))
	}
	return c
}

var (
	selector    = regexp.MustCompile(`(storj_[a-zA-Z0-9_]+)\{([^}]*)\}`)
	matcher     = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"`)
	aggregation = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
)

// Every family is in e2e.prom or the README's tables, every label a label
// of its family; queries that need not return data read a sparse family.
func TestQueriesUseExportedMetrics(t *testing.T) {
	c := loadCatalog(t)
	qs, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) < 100 {
		t.Fatalf("only %d queries", len(qs))
	}
	used := map[string]bool{}
	for _, q := range qs {
		where := fmt.Sprintf("%s %q %s: %s", q.File, q.Panel, q.RefID, q.Expr)
		fams := gen.Families(q.Expr)
		if len(fams) == 0 {
			t.Errorf("%s: reads no storj family", where)
		}
		exprLabels := map[string]bool{}
		for _, f := range fams {
			used[f] = true
			if !c.scraped[f] && !c.readme[f] {
				t.Errorf("%s: %s is neither in %s nor in the README", where, f, e2eProm)
			}
			for l := range c.labels[f] {
				exprLabels[l] = true
			}
		}
		for _, m := range selector.FindAllStringSubmatch(q.Expr, -1) {
			fam := gen.Families(m[1])[0]
			for _, l := range matcher.FindAllStringSubmatch(m[2], -1) {
				if !c.labels[fam][l[1]] && !(l[1] == "le" && strings.HasSuffix(m[1], "_bucket")) {
					t.Errorf("%s: %s has no label %s", where, fam, l[1])
				}
			}
		}
		for _, m := range aggregation.FindAllStringSubmatch(q.Expr, -1) {
			for _, l := range strings.Split(m[1], ",") {
				l = strings.TrimSpace(l)
				if !exprLabels[l] && !(l == "le" && strings.Contains(q.Expr, "_bucket")) {
					t.Errorf("%s: no family of the expression has label %s", where, l)
				}
			}
		}
		if strings.Contains(q.Expr, `satellite=~"$satellite"`) {
			for _, m := range selector.FindAllStringSubmatch(q.Expr, -1) {
				if fam := gen.Families(m[1])[0]; !c.labels[fam]["satellite"] {
					t.Errorf("%s: satellite filter on %s, which has no satellite label", where, fam)
				}
			}
		}

		// optional ⇔ reads a family the golden scrape lacks
		missing := []string{}
		for _, f := range fams {
			if !c.scraped[f] && !slices.Contains(alwaysPresent, f) {
				missing = append(missing, f)
			}
		}
		if q.Optional != (len(missing) > 0) {
			t.Errorf("%s: optional=%v, but families without series in e2e.prom: %v", where, q.Optional, missing)
		}
		if q.Optional && q.Why == "" {
			t.Errorf("%s: optional without a reason", where)
		}
	}
	for f := range gen.Sparse {
		if c.scraped[f] {
			t.Errorf("sparse family %s has series in e2e.prom: the end-to-end test could expect it", f)
		}
		if !c.readme[f] {
			t.Errorf("sparse family %s is not in the README", f)
		}
	}
	// every family of the README tables is on some dashboard
	var unused []string
	for f := range c.readme {
		if !used[f] {
			unused = append(unused, f)
		}
	}
	sort.Strings(unused)
	if len(unused) > 0 {
		t.Errorf("README families on no dashboard: %v", unused)
	}
}

// Each file is a dashboard of the SDK's types: strict decoding (no unknown
// or mistyped field anywhere, panel options, field config and Prometheus
// queries included), validation, and a round trip through the SDK's types
// that loses nothing.
func TestDashboardsDecodeWithSDK(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for _, name := range Files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		raw := withoutImportMetadata(t, data)
		if err := strictDecode(raw); err != nil {
			t.Errorf("%s: strict decoding: %v", name, err)
		}

		// v0.0.22's strict decoding reports errors but keeps no panel
		// (it takes its empty error list for an error): decode normally
		// to compare.
		var d dashboard.Dashboard
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := sdkErr(d.Validate()); err != nil {
			t.Errorf("%s: validation: %v", name, err)
		}
		for _, p := range d.Panels {
			if p.Panel == nil {
				if p.RowPanel == nil {
					t.Errorf("%s: a panel decoded as nothing", name)
				}
				continue
			}
			if p.Panel.Options == nil || p.Panel.FieldConfig == nil {
				t.Errorf("%s: panel %q: options or field config not decoded", name, *p.Panel.Title)
			}
			for _, tg := range p.Panel.Targets {
				if _, ok := tg.(*prometheus.Dataquery); !ok {
					t.Errorf("%s: panel %q: query decoded as %T, not a Prometheus query", name, *p.Panel.Title, tg)
				}
			}
		}
		back, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var want, got any
		json.Unmarshal(raw, &want)
		json.Unmarshal(back, &got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: SDK round trip changes the dashboard (-file +SDK):\n%s", name, diff)
		}
	}
}

// The strict decoding does catch stray and mistyped fields.
func TestStrictDecodingCatchesMistakes(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	data, err := os.ReadFile(Files[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ what, from, to string }{
		{"dashboard field", `"editable": true`, `"editable": true, "colour": 1`},
		{"panel option", `"graphMode": "none"`, `"graphMode": "none", "sparkles": true`},
		{"query field", `"editorMode": "code"`, `"editorMode": "code", "exprr": "up"`},
		{"mistyped option", `"wideLayout": true`, `"wideLayout": "yes"`},
	} {
		bad := bytes.Replace(data, []byte(c.from), []byte(c.to), 1)
		if bytes.Equal(bad, data) {
			t.Fatalf("%s: %q not in %s", c.what, c.from, Files[0])
		}
		if err := strictDecode(withoutImportMetadata(t, bad)); err == nil {
			t.Errorf("strict decoding accepts a stray %s", c.what)
		}
	}
}

func withoutImportMetadata(t *testing.T, data []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "__inputs") // import metadata, not part of the model
	delete(m, "__requires")
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func strictDecode(raw []byte) error {
	var d dashboard.Dashboard
	return sdkErr(d.UnmarshalJSONStrict(raw))
}

// sdkErr drops the empty cog.BuildErrors the SDK returns for no error.
func sdkErr(err error) error {
	var be cog.BuildErrors
	if errors.As(err, &be) && len(be) == 0 {
		return nil
	}
	return err
}

// promtool (the pinned version of tools/prom, what the compose stack runs)
// parses every expression once the variables are substituted.
func TestPromtoolParsesQueries(t *testing.T) {
	promtool := testutil.Tool(t, "promtool")
	qs, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("groups:\n- name: dashboards\n  rules:\n")
	for i, q := range qs {
		e := Expand(q.Expr, TestVars)
		if strings.Contains(e, "$") {
			t.Errorf("%s %q %s: variable left after substitution: %s", q.File, q.Panel, q.RefID, e)
		}
		enc, _ := json.Marshal(e) // a JSON string is a YAML double-quoted scalar
		fmt.Fprintf(&b, "  - record: dashboard:query_%d\n    expr: %s\n", i, enc)
	}
	path := filepath.Join(t.TempDir(), "queries.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
}

func TestExpand(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`rate(x{node=~"$node",satellite=~"$satellite"}[$__rate_interval])`, `rate(x{node=~".*",satellite=~".*"}[1m])`},
		{`increase(x[$__range])`, `increase(x[1h])`},
		{`x[${__interval}] ${node:regex} $unknown`, `x[15s] .* $unknown`},
		{`${datasource}`, `${datasource}`}, // a data source, not PromQL
	} {
		if got := Expand(c.in, TestVars); got != c.want {
			t.Errorf("Expand(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestVars sets every variable of the dashboards that PromQL uses and not
// the data source variable, which selects the Prometheus to ask.
func TestVarsAreThePromQLVariables(t *testing.T) {
	for name, d := range loadAll(t) {
		for _, v := range d["templating"].(map[string]any)["list"].([]any) {
			vm := v.(map[string]any)
			vname := vm["name"].(string)
			_, set := TestVars[vname]
			if vm["type"] == "datasource" && set || vm["type"] != "datasource" && !set {
				t.Errorf("%s: variable %s (%v): in TestVars %v", name, vname, vm["type"], set)
			}
		}
	}
	qs, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if strings.Contains(q.Expr, "datasource") {
			t.Errorf("%s %q %s: the data source variable in PromQL: %s", q.File, q.Panel, q.RefID, q.Expr)
		}
	}
}

func TestQueriesListsOptional(t *testing.T) {
	qs, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	opt, err := OptionalQueries()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, q := range qs {
		if q.Optional {
			n++
		}
		if q.Dashboard == "" || q.Panel == "" || q.RefID == "" || q.PanelType == "" {
			t.Errorf("incomplete query %+v", q)
		}
	}
	if n != len(opt) || n == 0 || n == len(qs) {
		t.Errorf("%d optional of %d, OptionalQueries %d", n, len(qs), len(opt))
	}
	for _, q := range opt {
		if q.File != "node-detail.json" {
			t.Errorf("optional query outside the node detail: %s %q", q.File, q.Panel)
		}
	}
}
