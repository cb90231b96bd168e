package gen

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Disk forecast: the free space's trend over a week.
const (
	trendWindow = "7d"
	day         = "86400"
)

func reputation() board {
	free := sel("storj_node_disk_free_bytes")
	return board{
		uid:   UIDReputation,
		title: "Storj nodes: reputation, storage and earnings",
		file:  "reputation-storage-earnings.json",
		desc:  "Audit, suspension and online scores per satellite with their thresholds, suspension, disqualification and vetting, disk space with a days-until-full forecast, month-to-date bandwidth and payout, from the node API.",
		cells: []cell{
			row("Reputation"),
			scoreSeries("Audit score", "storj_satellite_audit_score", auditSteps, 0.95,
				"Disqualification below 96 % (orange below 97 %, yellow below 99 %). Failed audits (missing or corrupt pieces) lower it."),
			scoreSeries("Suspension score", "storj_satellite_suspension_score", scoreSteps, 0.5,
				"Suspension below 60 %. Unknown audit errors (the node answered but could not serve the piece) lower it."),
			scoreSeries("Online score", "storj_satellite_online_score", scoreSteps, 0.5,
				"Suspension below 60 % (a 30-day window). Audits the node was offline for lower it."),
			scoreGauge("Audit score now", "storj_satellite_audit_score", auditSteps, 0.9),
			scoreGauge("Suspension score now", "storj_satellite_suspension_score", scoreSteps, 0),
			scoreGauge("Online score now", "storj_satellite_online_score", scoreSteps, 0),
			statPanel(spec{
				title: "Suspended", w: 6, h: 4, decimals: f64(0), steps: flagSteps,
				desc:    "Node-satellite pairs suspended now.",
				targets: []target{instant("sum("+ssel("storj_satellite_suspended")+")", "")},
			}),
			statPanel(spec{
				title: "Disqualified", w: 6, h: 4, decimals: f64(0), steps: flagSteps,
				desc:    "Node-satellite pairs disqualified.",
				targets: []target{instant("sum("+ssel("storj_satellite_disqualified")+")", "")},
			}),
			statPanel(spec{
				title: "Vetted", w: 6, h: 4, decimals: f64(0),
				desc:    "Node-satellite pairs vetted (a new node gets 5 % of uploads until it passed 100 audits on a satellite).",
				targets: []target{instant("sum("+ssel("storj_satellite_vetted")+")", "")},
			}),
			statPanel(spec{
				title: "Not vetted", w: 6, h: 4, decimals: f64(0), steps: levels("green", lvl{1, "blue"}),
				desc:    "Node-satellite pairs still in vetting.",
				targets: []target{instant("sum(1 - "+ssel("storj_satellite_vetted")+")", "")},
			}),
			mergedTable(spec{
				title: "Satellites", w: 24, h: 8,
				desc: "Scores and state per node and satellite.",
				overrides: []override{
					{name: "node", props: []dashboard.DynamicConfigValue{nodeLink(), prop("displayName", "Node")}},
					{name: "satellite", props: []dashboard.DynamicConfigValue{prop("displayName", "Satellite")}},
				},
			}, []string{"node", "satellite"}, nil, []column{
				{name: "Audit", expr: "min by (node, satellite) (" + ssel("storj_satellite_audit_score") + ")", props: scoreCell(auditSteps)},
				{name: "Suspension", expr: "min by (node, satellite) (" + ssel("storj_satellite_suspension_score") + ")", props: scoreCell(scoreSteps)},
				{name: "Online", expr: "min by (node, satellite) (" + ssel("storj_satellite_online_score") + ")", props: scoreCell(scoreSteps)},
				{name: "Suspended", expr: "max by (node, satellite) (" + ssel("storj_satellite_suspended") + ")", props: flagCell("no", "yes", "green", "red")},
				{name: "Disqualified", expr: "max by (node, satellite) (" + ssel("storj_satellite_disqualified") + ")", props: flagCell("no", "yes", "green", "red")},
				{name: "Vetted", expr: "max by (node, satellite) (" + ssel("storj_satellite_vetted") + ")", props: flagCell("no", "yes", "blue", "green")},
				{name: "Joined", expr: "max by (node, satellite) (" + ssel("storj_satellite_joined_timestamp_seconds") + ") * 1000", props: []dashboard.DynamicConfigValue{
					unitProp("dateTimeAsIsoNoDateIfToday"),
				}},
			}),

			row("Storage"),
			timeseriesPanel(spec{
				title: "Disk space", w: 12, h: 8, unit: "decbytes",
				desc: "Used (pieces), trash and free space of the allocations, and the allocation, from the node API.",
				targets: []target{
					series("sum("+sel("storj_node_disk_used_bytes")+")", "Used"),
					series("sum("+sel("storj_node_disk_trash_bytes")+")", "Trash"),
					series("sum("+free+")", "Free"),
					series("sum("+sel("storj_node_disk_allocated_bytes")+")", "Allocated"),
					series("sum("+sel("storj_node_disk_reclaimable_bytes")+")", "Reclaimable"),
					series("sum("+sel("storj_node_disk_overused_bytes")+")", "Overused"),
				},
				overrides: []override{{name: "Allocated", props: []dashboard.DynamicConfigValue{
					prop("custom.fillOpacity", 0),
					prop("custom.lineStyle", map[string]any{"fill": "dash", "dash": []int{10, 10}}),
				}}},
			}),
			gaugePanel(spec{
				title: "Allocation used", w: 6, h: 8, unit: "percentunit", decimals: f64(1), min: f64(0), max: f64(1),
				steps:   levels("green", lvl{0.9, "yellow"}, lvl{0.98, "red"}),
				desc:    "Used space of each node's allocation.",
				targets: []target{instant("max by (node) ("+sel("storj_node_disk_used_bytes")+") / max by (node) ("+sel("storj_node_disk_allocated_bytes")+")", "{{node}}")},
			}),
			statPanel(spec{
				title: "Days until full", w: 6, h: 8, unit: "d", decimals: f64(0),
				steps: levels("red", lvl{30, "orange"}, lvl{90, "yellow"}, lvl{180, "green"}),
				mappings: []dashboard.ValueMapping{
					rangeMap(f64(3650), nil, "not filling", "green", 0),
				},
				desc: "Free space divided by its daily decrease, from predict_linear over the last 7 days. \"not filling\": free space is steady or growing (or more than 10 years left).",
				targets: []target{instant(
					free+" / clamp_min("+free+" - predict_linear("+free+"["+trendWindow+"], "+day+"), 1)",
					"{{node}}")},
			}),
			timeseriesPanel(spec{
				title: "Free space forecast", w: 12, h: 8, unit: "decbytes",
				desc: "Free space, and free space in 30 days if the last 7 days' trend continues.",
				targets: []target{
					series("max by (node) ("+free+")", "{{node}} free"),
					series("max by (node) (predict_linear("+free+"["+trendWindow+"], 30 * "+day+"))", "{{node}} in 30 days"),
				},
				overrides: []override{{regexp: true, name: ".* in 30 days", props: []dashboard.DynamicConfigValue{
					prop("custom.lineStyle", map[string]any{"fill": "dash", "dash": []int{10, 10}}),
					prop("custom.fillOpacity", 0),
				}}},
			}),
			bargaugePanel(spec{
				title: "Stored this month by satellite", w: 12, h: 8, unit: "si:B·month", decimals: f64(2),
				desc:    "Disk space used this month as the satellites account it (byte-hours / 720 h, the basis of the storage payout), from the node API.",
				targets: []target{instant("sum by (satellite) ("+ssel("storj_satellite_month_stored_byte_seconds")+") / (720 * 3600)", "{{satellite}}")},
			}),

			row("Earnings"),
			statPanel(spec{
				title: "Payout estimate this month", w: 6, h: 4, unit: "currencyUSD", decimals: f64(2),
				desc:    "The node API's estimate for the whole month.",
				targets: []target{instant("sum("+sel("storj_payout_expected_month_dollars")+")", "")},
			}),
			statPanel(spec{
				title: "Earned so far this month", w: 6, h: 4, unit: "currencyUSD", decimals: f64(2),
				desc:    "Payout of the month so far, after the held amount.",
				targets: []target{instant("sum("+sel("storj_payout_dollars", `month="current"`, `component="payout"`)+")", "")},
			}),
			statPanel(spec{
				title: "Held so far this month", w: 6, h: 4, unit: "currencyUSD", decimals: f64(2),
				targets: []target{instant("sum("+sel("storj_payout_dollars", `month="current"`, `component="held"`)+")", "")},
			}),
			statPanel(spec{
				title: "Previous month payout", w: 6, h: 4, unit: "currencyUSD", decimals: f64(2),
				targets: []target{instant("sum("+sel("storj_payout_dollars", `month="previous"`, `component="payout"`)+")", "")},
			}),
			bargaugePanel(spec{
				title: "This month by component", w: 8, h: 8, unit: "currencyUSD", decimals: f64(2),
				desc:    "Egress, repair and audit traffic, and disk space of the month so far, and the held amount.",
				targets: []target{instant("sum by (component) ("+sel("storj_payout_dollars", `month="current"`, `component!="payout"`)+")", "{{component}}")},
			}),
			bargaugePanel(spec{
				title: "Payout estimate by node", w: 8, h: 8, unit: "currencyUSD", decimals: f64(2),
				targets: []target{instant("sum by (node) ("+sel("storj_payout_expected_month_dollars")+")", "{{node}}")},
			}),
			timeseriesPanel(spec{
				title: "Payout so far", w: 8, h: 8, unit: "currencyUSD", decimals: f64(2),
				targets: []target{
					series("sum by (node) ("+sel("storj_payout_dollars", `month="current"`, `component="payout"`)+")", "{{node}} earned"),
					series("sum by (node) ("+sel("storj_payout_expected_month_dollars")+")", "{{node}} estimate"),
				},
			}),
			earningsTable(),
			timeseriesPanel(spec{
				title: "Payout so far by satellite", w: 8, h: 8, unit: "currencyUSD", decimals: f64(2),
				desc:    "Each satellite's payout of the month so far, after the held amount (the node API's per-satellite estimate).",
				targets: []target{series("sum by (satellite) ("+ssel("storj_satellite_payout_dollars", `month="current"`, `component="payout"`)+")", "{{satellite}}")},
			}),
			timeseriesPanel(spec{
				title: "Held amount", w: 8, h: 8, unit: "currencyUSD", decimals: f64(2),
				desc: "Held back now (Σ held − returned over the paystubs) and returned, per satellite. Half is due back in node month 16.",
				targets: []target{
					series("sum by (satellite) ("+ssel("storj_satellite_held_dollars")+")", "{{satellite}} held"),
					series("sum by (satellite) ("+ssel("storj_satellite_held_returned_dollars")+")", "{{satellite}} returned"),
				},
			}),
			bargaugePanel(spec{
				title: "Last paystub by satellite", w: 8, h: 8, unit: "currencyUSD", decimals: f64(2),
				desc:    "Paid on the newest paystub (the period in the name), per satellite.",
				targets: []target{instant("sum by (satellite, period) ("+ssel("storj_satellite_paystub_dollars", `component="paid"`)+")", "{{satellite}} {{period}}")},
			}),

			row("Month-to-date bandwidth"),
			statPanel(spec{
				title: "Bandwidth this month", w: 8, h: 4, unit: "decbytes",
				targets: []target{instant("sum("+sel("storj_node_bandwidth_month_bytes")+")", "")},
			}),
			statPanel(spec{
				title: "Egress this month", w: 8, h: 4, unit: "decbytes",
				targets: []target{instant("sum("+ssel("storj_satellite_month_egress_bytes")+")", "")},
			}),
			statPanel(spec{
				title: "Ingress this month", w: 8, h: 4, unit: "decbytes",
				targets: []target{instant("sum("+ssel("storj_satellite_month_ingress_bytes")+")", "")},
			}),
			bargaugePanel(spec{
				title: "Egress this month by satellite", w: 12, h: 8, unit: "decbytes",
				desc:    "Usage (downloads), repair and audit egress.",
				targets: []target{instant("sum by (satellite, kind) ("+ssel("storj_satellite_month_egress_bytes")+")", "{{satellite}} {{kind}}")},
			}),
			bargaugePanel(spec{
				title: "Ingress this month by satellite", w: 12, h: 8, unit: "decbytes",
				desc:    "Usage (uploads) and repair ingress.",
				targets: []target{instant("sum by (satellite, kind) ("+ssel("storj_satellite_month_ingress_bytes")+")", "{{satellite}} {{kind}}")},
			}),
			timeseriesPanel(spec{
				title: "Month-to-date bandwidth", w: 24, h: 8, unit: "decbytes",
				targets: []target{
					series("sum by (kind) ("+ssel("storj_satellite_month_egress_bytes")+")", "egress {{kind}}"),
					series("sum by (kind) ("+ssel("storj_satellite_month_ingress_bytes")+")", "ingress {{kind}}"),
				},
			}),
		},
	}
}

// earningsTable is the per-satellite earnings: the estimates, the paystub
// sums, the newest paystub and the prices.
func earningsTable() cell {
	usd := []dashboard.DynamicConfigValue{unitProp("currencyUSD"), decimalsProp(2)}
	by := func(agg, expr string) string { return agg + " by (node, satellite) (" + expr + ")" }
	return mergedTable(spec{
		title: "Earnings by satellite", w: 24, h: 8,
		desc: "Per node and satellite: the estimates of this and the previous month (after held), and over the node's paystubs what was paid, what is held back now, what was returned and what is paid but not yet transferred; the held rate of this month, the newest paystub's node month and its codes O (offline), D (disqualified), S (sanctioned), and the disk price.",
		overrides: []override{
			{name: "node", props: []dashboard.DynamicConfigValue{nodeLink(), prop("displayName", "Node")}},
			{name: "satellite", props: []dashboard.DynamicConfigValue{prop("displayName", "Satellite")}},
		},
	}, []string{"node", "satellite"}, nil, []column{
		{name: "This month", expr: by("sum", ssel("storj_satellite_payout_dollars", `month="current"`, `component="payout"`)), props: usd},
		{name: "Previous month", expr: by("sum", ssel("storj_satellite_payout_dollars", `month="previous"`, `component="payout"`)), props: usd},
		{name: "Paid", expr: by("sum", ssel("storj_satellite_paid_dollars")), props: usd},
		{name: "Held", expr: by("sum", ssel("storj_satellite_held_dollars")), props: usd},
		{name: "Returned", expr: by("sum", ssel("storj_satellite_held_returned_dollars")), props: usd},
		{name: "Undistributed", expr: by("sum", ssel("storj_satellite_undistributed_dollars")), props: usd},
		{name: "Held rate", expr: by("max", ssel("storj_satellite_held_ratio")), props: []dashboard.DynamicConfigValue{unitProp("percentunit"), decimalsProp(0)}},
		{name: "Node month", expr: by("max", ssel("storj_satellite_paystub_node_month")), props: []dashboard.DynamicConfigValue{decimalsProp(0)}},
		{name: "Bad codes", expr: by("sum", ssel("storj_satellite_paystub_code", `code=~"O|D|S"`)+" or "+ssel("storj_satellite_paystub_code")+" * 0"), props: []dashboard.DynamicConfigValue{
			decimalsProp(0), thresholdsProp(levels("green", lvl{1, "red"})), colorBackground(),
		}},
		{name: "Disk $/TB-month", expr: by("max", ssel("storj_satellite_price_disk_dollars_per_terabyte_month")), props: usd},
		{name: "Egress $/TB", expr: by("max", ssel("storj_satellite_price_dollars_per_terabyte", `kind="egress"`)), props: usd},
	})
}

// scoreSeries is a reputation score per node and satellite over time, with
// its thresholds drawn as dashed lines.
func scoreSeries(title, metric string, steps []dashboard.Threshold, softMin float64, desc string) cell {
	return timeseriesPanel(spec{
		title: title, desc: desc, w: 8, h: 8, unit: "percentunit", decimals: f64(2), max: f64(1), steps: steps,
		targets: []target{series("min by (node, satellite) ("+ssel(metric)+")", "{{node}} {{satellite}}")},
	}, thresholdLines, func(b *timeseries.PanelBuilder) { b.AxisSoftMin(softMin) })
}

// scoreGauge is the current, worst score per satellite.
func scoreGauge(title, metric string, steps []dashboard.Threshold, min float64) cell {
	return gaugePanel(spec{
		title: title, w: 8, h: 6, unit: "percentunit", decimals: f64(2), min: f64(min), max: f64(1), steps: steps,
		desc:    "The lowest of the selected nodes, per satellite.",
		targets: []target{instant("min by (satellite) ("+ssel(metric)+")", "{{satellite}}")},
	})
}

func scoreCell(steps []dashboard.Threshold) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{unitProp("percentunit"), decimalsProp(2), thresholdsProp(steps), colorText()}
}

func flagCell(zero, one, zeroColor, oneColor string) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{
		mappingsProp(valueMap(map[string][2]string{"0": {zero, zeroColor}, "1": {one, oneColor}})),
		colorBackground(),
	}
}
