package gen

import (
	"sort"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/gauge"
	"github.com/grafana/grafana-foundation-sdk/go/geomap"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// target is one PromQL query of a panel.
type target struct {
	expr, legend string
	instant      bool
	format       prometheus.PromQueryFormat
}

// series is a range query (time series panels).
func series(expr, legend string) target {
	return target{expr: expr, legend: legend, format: prometheus.PromQueryFormatTimeSeries}
}

// instant is an instant query (stat, gauge, bar gauge: one value per series).
func instant(expr, legend string) target {
	return target{expr: expr, legend: legend, instant: true, format: prometheus.PromQueryFormatTimeSeries}
}

// tableQuery is an instant query in table format (tables, geomap).
func tableQuery(expr string) target {
	return target{expr: expr, instant: true, format: prometheus.PromQueryFormatTable}
}

// heatQuery is a query in heatmap format: Grafana turns cumulative `le`
// buckets into per-bucket counts, sorted by bound.
func heatQuery(expr string, inst bool) target {
	return target{expr: expr, legend: "{{le}}", instant: inst, format: prometheus.PromQueryFormatHeatmap}
}

func refID(i int) string { return string(rune('A' + i)) }

func (t target) builder(ref string) *prometheus.DataqueryBuilder {
	b := prometheus.NewDataqueryBuilder().
		Datasource(ds()).
		EditorMode(prometheus.QueryEditorModeCode).
		Expr(t.expr).
		RefId(ref).
		Format(t.format)
	if t.legend != "" {
		b.LegendFormat(t.legend)
	}
	if t.instant {
		b.Instant()
	} else {
		b.Range()
	}
	return b
}

// spec holds what every panel type shares.
type spec struct {
	title, desc string
	w, h        uint32
	unit        string
	decimals    *float64
	min, max    *float64
	steps       []dashboard.Threshold // nil: one green step
	mappings    []dashboard.ValueMapping
	overrides   []override
	transforms  []dashboard.DataTransformerConfig
	noValue     string
	targets     []target
}

// override changes the fields whose display name is name (or matches it,
// as a regular expression).
type override struct {
	regexp bool
	name   string
	props  []dashboard.DynamicConfigValue
}

func prop(id string, v any) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: id, Value: v}
}

// panelBuilder is the method set the SDK's panel builders share.
type panelBuilder[B any] interface {
	cog.Builder[dashboard.Panel]
	Title(string) B
	Description(string) B
	Datasource(common.DataSourceRef) B
	Unit(string) B
	Decimals(float64) B
	Min(float64) B
	Max(float64) B
	Thresholds(cog.Builder[dashboard.ThresholdsConfig]) B
	Mappings([]dashboard.ValueMapping) B
	WithTarget(cog.Builder[variants.Dataquery]) B
	WithTransformation(dashboard.DataTransformerConfig) B
	OverrideByName(string, []dashboard.DynamicConfigValue) B
	OverrideByRegexp(string, []dashboard.DynamicConfigValue) B
	NoValue(string) B
}

func apply[B panelBuilder[B]](b B, s spec) cell {
	b.Title(s.title)
	b.Datasource(ds())
	if s.desc != "" {
		b.Description(s.desc)
	}
	if s.unit != "" {
		b.Unit(s.unit)
	}
	if s.decimals != nil {
		b.Decimals(*s.decimals)
	}
	if s.min != nil {
		b.Min(*s.min)
	}
	if s.max != nil {
		b.Max(*s.max)
	}
	steps := s.steps
	if steps == nil {
		steps = levels("green")
	}
	b.Thresholds(dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps))
	if len(s.mappings) > 0 {
		b.Mappings(s.mappings)
	}
	if s.noValue != "" {
		b.NoValue(s.noValue)
	}
	for _, o := range s.overrides {
		if o.regexp {
			b.OverrideByRegexp(o.name, o.props)
		} else {
			b.OverrideByName(o.name, o.props)
		}
	}
	for _, t := range s.transforms {
		b.WithTransformation(t)
	}
	for i, t := range s.targets {
		b.WithTarget(t.builder(refID(i)))
	}
	return cell{b: b, w: s.w, h: s.h}
}

// lvl is a threshold step: color from value at upwards.
type lvl struct {
	at    float64
	color string
}

// levels are threshold steps: base color below the first level.
func levels(base string, ls ...lvl) []dashboard.Threshold {
	ts := []dashboard.Threshold{{Value: nil, Color: base}}
	for _, l := range ls {
		ts = append(ts, dashboard.Threshold{Value: ptr(l.at), Color: l.color})
	}
	return ts
}

// valueMap maps exact values to texts and colors.
func valueMap(m map[string][2]string) dashboard.ValueMapping {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	opts := map[string]dashboard.ValueMappingResult{}
	for i, k := range keys {
		opts[k] = dashboard.ValueMappingResult{Text: ptr(m[k][0]), Color: ptr(m[k][1]), Index: ptr(int32(i))}
	}
	return dashboard.ValueMapping{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}
}

// rangeMap maps [from, to] (nil: unbounded) to a text.
func rangeMap(from, to *float64, text, color string, index int32) dashboard.ValueMapping {
	return dashboard.ValueMapping{RangeMap: &dashboard.RangeMap{
		Type: dashboard.MappingTypeRangeToText,
		Options: dashboard.DashboardRangeMapOptions{
			From:   from,
			To:     to,
			Result: dashboard.ValueMappingResult{Text: ptr(text), Color: ptr(color), Index: ptr(index)},
		},
	}}
}

// upDown shows 0/1 gauges as words.
func upDown(zero, one string) dashboard.ValueMapping {
	return valueMap(map[string][2]string{"0": {zero, "red"}, "1": {one, "green"}})
}

func reduceLast() *common.ReduceDataOptionsBuilder {
	return common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false).Fields("")
}

func colorMode(m dashboard.FieldColorModeId) *dashboard.FieldColorBuilder {
	return dashboard.NewFieldColorBuilder().Mode(m)
}

// The panel constructors. Options that Grafana would otherwise fill with
// its defaults are set explicitly, so that the JSON says what is shown.

func timeseriesPanel(s spec, opts ...func(*timeseries.PanelBuilder)) cell {
	b := timeseries.NewPanelBuilder().
		ColorScheme(colorMode(dashboard.FieldColorModeIdPaletteClassic)).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true).
			Calcs([]string{})).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending)).
		DrawStyle(common.GraphDrawStyleLine).
		LineInterpolation(common.LineInterpolationLinear).
		LineWidth(1).
		FillOpacity(10).
		GradientMode(common.GraphGradientModeNone).
		ShowPoints(common.VisibilityModeNever).
		PointSize(4).
		SpanNulls(common.BoolOrFloat64{Bool: ptr(false)}).
		AxisPlacement(common.AxisPlacementAuto).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNone).Group("A")).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeOff))
	for _, o := range opts {
		o(b)
	}
	return apply(b, s)
}

// thresholdLines draws the thresholds as dashed lines on a time series.
func thresholdLines(b *timeseries.PanelBuilder) {
	b.ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed))
}

// stacked stacks the series of a time series.
func stacked(b *timeseries.PanelBuilder) {
	b.Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal).Group("A")).FillOpacity(30)
}

// points marks the samples of rarely changing series.
func points(b *timeseries.PanelBuilder) { b.ShowPoints(common.VisibilityModeAuto) }

func statPanel(s spec, opts ...func(*stat.PanelBuilder)) cell {
	b := stat.NewPanelBuilder().
		ColorScheme(colorMode(dashboard.FieldColorModeIdThresholds)).
		GraphMode(common.BigValueGraphModeNone).
		ColorMode(common.BigValueColorModeValue).
		JustifyMode(common.BigValueJustifyModeAuto).
		TextMode(common.BigValueTextModeAuto).
		Orientation(common.VizOrientationAuto).
		WideLayout(true).
		ShowPercentChange(false).
		ReduceOptions(reduceLast())
	for _, o := range opts {
		o(b)
	}
	return apply(b, s)
}

// textValueAndName shows each stat value with its legend.
func textValueAndName(b *stat.PanelBuilder) { b.TextMode(common.BigValueTextModeValueAndName) }

func gaugePanel(s spec) cell {
	b := gauge.NewPanelBuilder().
		ColorScheme(colorMode(dashboard.FieldColorModeIdThresholds)).
		ShowThresholdLabels(false).
		ShowThresholdMarkers(true).
		Orientation(common.VizOrientationAuto).
		Sizing(common.BarGaugeSizingAuto).
		MinVizWidth(75).
		MinVizHeight(75).
		ReduceOptions(reduceLast())
	return apply(b, s)
}

func bargaugePanel(s spec) cell {
	b := bargauge.NewPanelBuilder().
		ColorScheme(colorMode(dashboard.FieldColorModeIdThresholds)).
		DisplayMode(common.BarGaugeDisplayModeGradient).
		ValueMode(common.BarGaugeValueModeColor).
		NamePlacement(common.BarGaugeNamePlacementAuto).
		ShowUnfilled(true).
		Sizing(common.BarGaugeSizingAuto).
		MinVizWidth(8).
		MinVizHeight(16).
		MaxVizHeight(300).
		Orientation(common.VizOrientationHorizontal).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(false).
			Calcs([]string{})).
		ReduceOptions(reduceLast())
	return apply(b, s)
}

func tablePanel(s spec, opts ...func(*table.PanelBuilder)) cell {
	b := table.NewPanelBuilder().
		ColorScheme(colorMode(dashboard.FieldColorModeIdThresholds)).
		ShowHeader(true).
		CellHeight(common.TableCellHeightSm).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}).CountRows(false)).
		Align(common.FieldTextAlignmentAuto).
		Inspect(false)
	for _, o := range opts {
		o(b)
	}
	return apply(b, s)
}

// heatmapPanel shows pre-bucketed data (a Prometheus histogram queried in
// heatmap format); yUnit is the unit of the bucket bounds.
func heatmapPanel(s spec, yUnit string) cell {
	b := heatmap.NewPanelBuilder().
		Calculate(false).
		Color(built[heatmap.HeatmapColorOptions]{heatmap.HeatmapColorOptions{
			Mode:     ptr(heatmap.HeatmapColorModeScheme),
			Scheme:   "Oranges",
			Fill:     "dark-orange",
			Scale:    ptr(heatmap.HeatmapColorScaleExponential),
			Exponent: 0.5,
			Steps:    64,
		}}).
		YAxis(built[heatmap.YAxisConfig]{heatmap.YAxisConfig{
			Unit:          ptr(yUnit),
			AxisPlacement: ptr(common.AxisPlacementLeft),
			Reverse:       ptr(false),
		}}).
		RowsFrame(built[heatmap.RowsHeatmapOptions]{heatmap.RowsHeatmapOptions{Layout: ptr(common.HeatmapCellLayoutAuto)}}).
		CellGap(1).
		ShowValue(common.VisibilityModeNever).
		Tooltip(built[heatmap.HeatmapTooltip]{heatmap.HeatmapTooltip{Mode: common.TooltipDisplayModeSingle, YHistogram: ptr(true), ShowColorScale: ptr(false)}}).
		ShowLegend().
		ExemplarsColor("rgba(255,0,255,0.7)").
		FilterValues(built[heatmap.FilterValueRange]{heatmap.FilterValueRange{Le: ptr(float32(1e-9))}}).
		SelectionMode(heatmap.HeatmapSelectionModeX)
	return apply(b, s)
}

// geomapPanel draws one markers layer whose points are looked up by the
// `country` column (ISO 3166 alpha-2) in Grafana's built-in countries
// gazetteer; marker size and color follow the `Value` column of the
// instant table query.
func geomapPanel(s spec, layer string, scheme dashboard.FieldColorModeId) cell {
	b := geomap.NewPanelBuilder().
		ColorScheme(colorMode(scheme)).
		View(geomap.NewMapViewConfigBuilder().Id(string(geomap.MapCenterIDZero)).Lat(0).Lon(0).Zoom(1).AllLayers(true)).
		Controls(geomap.NewControlsOptionsBuilder().ShowZoom(true).MouseWheelZoom(false).ShowAttribution(true).ShowScale(false).ShowMeasure(false).ShowDebug(false)).
		Basemap(built[common.MapLayerOptions]{common.MapLayerOptions{Type: "default", Name: "Basemap", Config: map[string]any{}}}).
		Layers([]cog.Builder[common.MapLayerOptions]{built[common.MapLayerOptions]{common.MapLayerOptions{
			Type: "markers",
			Name: layer,
			Config: map[string]any{
				"showLegend": true,
				"style": map[string]any{
					"color":       map[string]any{"field": "Value", "fixed": "dark-green"},
					"opacity":     0.6,
					"rotation":    map[string]any{"fixed": 0, "max": 360, "min": -360, "mode": "mod"},
					"size":        map[string]any{"field": "Value", "fixed": 5, "min": 4, "max": 30},
					"symbol":      map[string]any{"fixed": "img/icons/marker/circle.svg", "mode": "fixed"},
					"symbolAlign": map[string]any{"horizontal": "center", "vertical": "center"},
					"text":        map[string]any{"fixed": "", "mode": "fixed"},
					"textConfig":  map[string]any{"fontSize": 12, "offsetX": 0, "offsetY": 0, "textAlign": "center", "textBaseline": "middle"},
				},
			},
			Location: &common.FrameGeometrySource{
				Mode:      common.FrameGeometrySourceModeLookup,
				Lookup:    ptr("country"),
				Gazetteer: ptr("public/gazetteer/countries.json"),
			},
			Tooltip: ptr(true),
		}}}).
		Tooltip(geomap.NewTooltipOptionsBuilder().Mode(geomap.TooltipModeDetails))
	return apply(b, s)
}

// Table helpers: instant table queries merged on their common labels, the
// Time and unused columns hidden, the value columns renamed and ordered.

// column is one value column of a merged table.
type column struct {
	name  string // display name
	expr  string
	props []dashboard.DynamicConfigValue
}

// mergedTable builds a table from one instant table query per column,
// merged on their labels. keep are label columns shown first, in order;
// hide are label columns to drop.
func mergedTable(s spec, keep, hide []string, cols []column) cell {
	exclude := map[string]any{"Time": true}
	for _, h := range hide {
		exclude[h] = true
	}
	index := map[string]any{}
	rename := map[string]any{}
	for i, k := range keep {
		index[k] = i
	}
	next := len(keep)
	for i, c := range cols {
		value := "Value #" + refID(i)
		s.targets = append(s.targets, tableQuery(c.expr))
		if c.name == "" {
			exclude[value] = true
			continue
		}
		rename[value] = c.name
		index[value] = next
		next++
		if len(c.props) > 0 {
			s.overrides = append(s.overrides, override{name: c.name, props: c.props})
		}
	}
	s.transforms = append(s.transforms,
		dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}},
		dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
			"excludeByName": exclude,
			"indexByName":   index,
			"renameByName":  rename,
		}},
	)
	return tablePanel(s)
}

// Column properties.
func unitProp(u string) dashboard.DynamicConfigValue { return prop("unit", u) }

func decimalsProp(d float64) dashboard.DynamicConfigValue { return prop("decimals", d) }

func colorText() dashboard.DynamicConfigValue {
	return prop("custom.cellOptions", map[string]any{"type": "color-text"})
}

func colorBackground() dashboard.DynamicConfigValue {
	return prop("custom.cellOptions", map[string]any{"type": "color-background", "mode": "basic"})
}

func thresholdsProp(ts []dashboard.Threshold) dashboard.DynamicConfigValue {
	return prop("thresholds", dashboard.ThresholdsConfig{Mode: dashboard.ThresholdsModeAbsolute, Steps: ts})
}

func mappingsProp(ms ...dashboard.ValueMapping) dashboard.DynamicConfigValue {
	return prop("mappings", ms)
}

// nodeLink links a table's node column to the node detail dashboard, with
// the same data source, satellites and time range.
func nodeLink() dashboard.DynamicConfigValue {
	return prop("links", []any{map[string]any{
		"title":       "Node detail",
		"url":         "/d/" + UIDNodeDetail + "?var-node=${__value.raw}&${" + DSVar + ":queryparam}&${satellite:queryparam}&${__url_time_range}",
		"targetBlank": false,
	}})
}

func f64(v float64) *float64 { return &v }
