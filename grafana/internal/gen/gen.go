// Package gen builds the Grafana dashboards of grafana/ with the Grafana
// Foundation SDK and renders them as JSON that both file provisioning and the
// import UI take unchanged: every panel, query and variable uses the data
// source variable ${datasource}, whose current value is ${DS_PROMETHEUS}, the
// `__inputs` entry Grafana's import asks for; plus `__requires`, sorted keys,
// two-space indentation and a trailing newline, so that the same code always
// gives the same bytes.
//
// The dashboards are dashboards as code: edit the Go files here, then run
// `go generate ./grafana` (or `go run ./grafana/gen -out grafana`); the tests
// of package grafana fail while the committed JSON differs from this output.
package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// Stable dashboard uids: links and bookmarks depend on them.
const (
	UIDOverview   = "storj-overview"
	UIDNodeDetail = "storj-node-detail"
	UIDReputation = "storj-reputation"
)

// The data source of the dashboards. Every panel, query and variable names
// the data source variable DSVar (type prometheus, ${datasource}): a
// provisioned dashboard takes Grafana's Prometheus data source (the first in
// its list when the current value matches none). The variable's current value
// is ${DSInput}, the dashboards' one `__inputs` entry: Grafana's import asks
// for a Prometheus data source and writes its uid there (the import replaces
// ${DS_PROMETHEUS} in every string of the file).
const (
	DSVar   = "datasource"
	DSInput = "DS_PROMETHEUS"
)

// GrafanaVersion is the oldest Grafana the dashboards work with, as
// `__requires` names it; SchemaVersion is that release's dashboard schema
// version (Grafana 10.4 writes 39; the migration steps up to 42 normalize
// `refresh`, drop `timepicker.time_options` and hide hideFrom.viz fields
// from tooltips, none of which these dashboards have). The SDK v0.0.22
// is generated from Grafana's main-branch schemas and writes 42. Panel types
// and options are 10.4's, except a few newer options that 10.4 ignores (see
// NewerThanRequired).
const (
	GrafanaVersion = "10.4.0"
	SchemaVersion  = 39
)

// NewerThanRequired are the options the dashboards carry that Grafana
// GrafanaVersion does not know (it ignores them), with the release that
// added each and the one value the dashboards may give it. Keys are "panel
// type/option path", or "variable/field" for the variables.
var NewerThanRequired = map[string]struct {
	Since string
	Value any
}{
	"stat/percentChangeColorMode": {"11.1", "standard"}, // inert: showPercentChange is false
	"bargauge/legend.showLegend":  {"11.3", false},      // no legend, as in 10.4
	"heatmap/selectionMode":       {"11.1", "x"},        // drag zooms the time axis, as in 10.4
	"variable/allowCustomValue":   {"11.4", false},      // 10.4 always takes typed values
}

// File is one generated dashboard.
type File struct {
	Name  string // file name in grafana/, e.g. overview.json
	UID   string
	Title string
	JSON  []byte
}

// Dashboards builds every dashboard, in a fixed order.
func Dashboards() ([]File, error) {
	var files []File
	for _, b := range []board{overview(), nodeDetail(), reputation()} {
		d, err := b.build()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.file, err)
		}
		data, err := Render(d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.file, err)
		}
		files = append(files, File{Name: b.file, UID: b.uid, Title: b.title, JSON: data})
	}
	return files, nil
}

// Render marshals a dashboard as JSON to provision or import: the SDK's
// fields plus `__inputs` (the DS_PROMETHEUS datasource input, which the data
// source variable's current value uses) and `__requires` (Grafana,
// the Prometheus datasource and every panel type used), keys sorted, numbers
// kept as the SDK wrote them, HTML characters of PromQL (<, >, &) unescaped.
func Render(d dashboard.Dashboard) ([]byte, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	m["__inputs"] = []any{map[string]any{
		"name":        DSInput,
		"label":       "Prometheus",
		"description": "The Prometheus that scrapes storagenode-exporter",
		"type":        "datasource",
		"pluginId":    "prometheus",
		"pluginName":  "Prometheus",
	}}
	requires := []any{
		map[string]any{"type": "grafana", "id": "grafana", "name": "Grafana", "version": GrafanaVersion},
		map[string]any{"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
	}
	for _, t := range panelTypes(d) {
		requires = append(requires, map[string]any{"type": "panel", "id": t, "name": panelNames[t], "version": ""})
	}
	m["__requires"] = requires
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil { // Encode ends with a newline
		return nil, err
	}
	return buf.Bytes(), nil
}

// panelNames are the display names of the core panel types, as Grafana
// exports them in __requires.
var panelNames = map[string]string{
	"bargauge":   "Bar gauge",
	"gauge":      "Gauge",
	"geomap":     "Geomap",
	"heatmap":    "Heatmap",
	"stat":       "Stat",
	"table":      "Table",
	"timeseries": "Time series",
}

// CorePanelTypes are the only panel types the dashboards may use (rows are
// layout, not panels).
func CorePanelTypes() []string {
	var ts []string
	for t := range panelNames {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

func panelTypes(d dashboard.Dashboard) []string {
	seen := map[string]bool{}
	for _, p := range d.Panels {
		if p.Panel != nil {
			seen[p.Panel.Type] = true
		}
	}
	var ts []string
	for t := range seen {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

// board is a dashboard before building: rows and panels in reading order;
// the layout is computed from the panels' sizes.
type board struct {
	uid, title, file, desc string
	cells                  []cell
}

// cell is a row header (row != "") or a panel of w×h grid units.
type cell struct {
	row  string
	b    cog.Builder[dashboard.Panel]
	w, h uint32
}

func row(title string) cell { return cell{row: title} }

// grid places panels left to right, wrapping at 24 units.
type grid struct{ x, y, lineH uint32 }

func (g *grid) newline() {
	if g.x > 0 {
		g.x, g.y, g.lineH = 0, g.y+g.lineH, 0
	}
}

func (g *grid) place(w, h uint32) dashboard.GridPos {
	if g.x+w > 24 {
		g.newline()
	}
	pos := dashboard.GridPos{X: g.x, Y: g.y, W: w, H: h}
	g.x += w
	g.lineH = max(g.lineH, h)
	if g.x >= 24 {
		g.newline()
	}
	return pos
}

func (g *grid) row() dashboard.GridPos {
	g.newline()
	pos := dashboard.GridPos{X: 0, Y: g.y, W: 24, H: 1}
	g.y++
	return pos
}

// built hands an already built value to an SDK builder method.
type built[T any] struct{ v T }

func (b built[T]) Build() (T, error) { return b.v, nil }

func ptr[T any](v T) *T { return &v }

// ds is the datasource of every panel, query and variable: the data source
// variable.
func ds() common.DataSourceRef {
	return common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr("${" + DSVar + "}")}
}

func (bd board) build() (dashboard.Dashboard, error) {
	db := dashboard.NewDashboardBuilder(bd.title).
		Uid(bd.uid).
		Description(bd.desc).
		Tags([]string{"storj", "storagenode"}).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Time("now-24h", "now").
		Timezone("browser").
		Refresh("1m").
		Annotation(built[dashboard.AnnotationQuery]{builtinAnnotation()}).
		WithVariable(datasourceVariable()).
		WithVariable(nodeVariable()).
		WithVariable(satelliteVariable())
	for _, l := range links(bd.uid) {
		db.Link(built[dashboard.DashboardLink]{l})
	}
	var g grid
	id := uint32(0)
	for _, c := range bd.cells {
		id++
		if c.row != "" {
			db.WithRow(dashboard.NewRowBuilder(c.row).Id(id).GridPos(g.row()))
			continue
		}
		p, err := c.b.Build()
		if err != nil {
			return dashboard.Dashboard{}, err
		}
		p.Id = ptr(id)
		p.GridPos = ptr(g.place(c.w, c.h))
		db.WithPanel(built[dashboard.Panel]{p})
	}
	d, err := db.Build()
	d.SchemaVersion = SchemaVersion
	return d, err
}

func builtinAnnotation() dashboard.AnnotationQuery {
	return dashboard.AnnotationQuery{
		Name:       "Annotations & Alerts",
		Datasource: &common.DataSourceRef{Type: ptr("grafana"), Uid: ptr("-- Grafana --")},
		Enable:     true,
		Hide:       ptr(true),
		IconColor:  "rgba(0, 211, 255, 1)",
		Type:       ptr("dashboard"),
		BuiltIn:    ptr(1.0),
	}
}

// datasourceVariable picks the Prometheus data source (see DSVar). Its
// current value is the import input: after an import it is the chosen data
// source's uid; provisioned as is it matches no data source and Grafana takes
// the first Prometheus one.
func datasourceVariable() cog.Builder[dashboard.VariableModel] {
	input := dashboard.StringOrArrayOfString{String: ptr("${" + DSInput + "}")}
	v := dashboard.NewVariableModel()
	v.Type = "datasource"
	v.Name = DSVar
	v.Label = ptr("Data source")
	v.Query = &dashboard.StringOrMap{String: ptr("prometheus")}
	v.Current = &dashboard.VariableOption{Text: input, Value: input}
	v.Regex = ptr("")
	v.Refresh = ptr(dashboard.VariableRefreshOnDashboardLoad)
	v.Hide = ptr(dashboard.VariableHideDontHide)
	v.AllowCustomValue = ptr(false)
	return built[dashboard.VariableModel]{*v}
}

// The variables: node from the log families every followed node has, and
// satellite from the transfer counters (created at zero for the known
// satellites). "All" sends .* so that the expressions stay plain regexes.
const (
	nodeQuery      = `label_values(storj_log_lines_total, node)`
	satelliteQuery = `label_values(storj_transfers_total{node=~"$node"}, satellite)`
)

func allOption() dashboard.VariableOption {
	return dashboard.VariableOption{
		Selected: ptr(true),
		Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
		Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
	}
}

func queryVariable(name, label, query string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(ds()).
		Query(dashboard.StringOrMap{String: ptr(query)}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		AllowCustomValue(false).
		Current(allOption())
}

func nodeVariable() cog.Builder[dashboard.VariableModel] {
	return queryVariable("node", "Node", nodeQuery)
}

func satelliteVariable() cog.Builder[dashboard.VariableModel] {
	return queryVariable("satellite", "Satellite", satelliteQuery)
}

// links point from each dashboard to the two others, keeping the time range
// and the variables.
func links(self string) []dashboard.DashboardLink {
	all := []struct{ uid, title, tip string }{
		{UIDOverview, "Overview", "All nodes: totals, success rates, traffic by country"},
		{UIDNodeDetail, "Node detail", "Per-satellite traffic, latency, errors, compaction, GC, log health"},
		{UIDReputation, "Reputation, storage & earnings", "Scores, disk, month-to-date bandwidth and payout"},
	}
	var ls []dashboard.DashboardLink
	for _, l := range all {
		if l.uid == self {
			continue
		}
		ls = append(ls, dashboard.DashboardLink{
			Title:       l.title,
			Type:        dashboard.DashboardLinkTypeLink,
			Icon:        "dashboard",
			Tooltip:     l.tip,
			Url:         ptr("/d/" + l.uid),
			Tags:        []string{},
			IncludeVars: true,
			KeepTime:    true,
		})
	}
	return ls
}
