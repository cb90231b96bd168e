package gen

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// Threshold steps shared by the dashboards.
var (
	// success rates: the node's health, all actions alike
	successSteps = levels("red", lvl{0.8, "orange"}, lvl{0.95, "yellow"}, lvl{0.99, "green"})
	// cancel and failure rates: the reverse
	lossSteps = levels("green", lvl{0.02, "yellow"}, lvl{0.05, "orange"}, lvl{0.2, "red"})
	// audit score: disqualification below 0.96, warnings at 0.97 and 0.99
	auditSteps = levels("red", lvl{0.96, "orange"}, lvl{0.97, "yellow"}, lvl{0.99, "green"})
	// suspension and online scores: suspension below 0.6
	scoreSteps = levels("red", lvl{0.6, "yellow"}, lvl{0.8, "green"})
	// flags where any 1 is bad (suspended, disqualified)
	flagSteps = levels("green", lvl{1, "red"})
	// seconds since the last log line
	staleSteps = levels("green", lvl{300, "yellow"}, lvl{3600, "red"})
)

func overview() board {
	return board{
		uid:   UIDOverview,
		title: "Storj nodes: overview",
		file:  "overview.json",
		desc:  "All selected nodes of storagenode-exporter: totals, success rates per action, traffic, a node table and the world map of transfers.",
		cells: []cell{
			row("Totals"),
			statPanel(spec{
				title: "Nodes up", w: 4, h: 4,
				desc: "Nodes followed, nodes whose log source is open and readable, and nodes whose API answered the last poll.",
				targets: []target{
					instant("count("+sel("storj_log_source_up")+")", "Nodes"),
					instant("sum("+sel("storj_log_source_up")+")", "Logs up"),
					instant("sum("+sel("storj_nodeapi_up")+")", "APIs up"),
				},
			}, textValueAndName),
			statPanel(spec{
				title: "Transfers", w: 4, h: 4, unit: "short", decimals: f64(0),
				desc:    "Transfer outcomes (success, canceled, failed) in the time range.",
				targets: []target{instant(inRange(ssel("storj_transfers_total")), "")},
			}),
			statPanel(spec{
				title: "Success rate", w: 4, h: 4, unit: "percentunit", decimals: f64(2), steps: successSteps,
				desc:    "Successful transfers of all actions in the time range.",
				targets: []target{instant(share("success", "$__range", nil), "")},
			}),
			statPanel(spec{
				title: "Ingress", w: 4, h: 4, unit: "decbytes",
				desc:    "Bytes of uploads and repair uploads in the time range.",
				targets: []target{instant(inRange(ssel("storj_transfer_bytes_total", uploadActions)), "")},
			}),
			statPanel(spec{
				title: "Egress", w: 4, h: 4, unit: "decbytes",
				desc:    "Bytes of downloads, audits and repair downloads in the time range.",
				targets: []target{instant(inRange(ssel("storj_transfer_bytes_total", downloadActions)), "")},
			}),
			statPanel(spec{
				title: "Payout estimate (month)", w: 4, h: 4, unit: "currencyUSD", decimals: f64(2),
				desc:    "The node API's estimate of this month's payout, all selected nodes.",
				targets: []target{instant("sum("+sel("storj_payout_expected_month_dollars")+")", "")},
			}),
			statPanel(spec{
				title: "Disk used", w: 4, h: 4, unit: "decbytes",
				targets: []target{instant("sum("+sel("storj_node_disk_used_bytes")+")", "")},
			}),
			statPanel(spec{
				title: "Disk free", w: 4, h: 4, unit: "decbytes",
				desc:    "Free space in the allocations.",
				targets: []target{instant("sum("+sel("storj_node_disk_free_bytes")+")", "")},
			}),
			statPanel(spec{
				title: "Trash", w: 4, h: 4, unit: "decbytes",
				targets: []target{instant("sum("+sel("storj_node_disk_trash_bytes")+")", "")},
			}),
			statPanel(spec{
				title: "Bandwidth this month", w: 4, h: 4, unit: "decbytes",
				desc:    "Ingress and egress of the month so far, from the node API.",
				targets: []target{instant("sum("+sel("storj_node_bandwidth_month_bytes")+")", "")},
			}),
			statPanel(spec{
				title: "Lowest audit score", w: 4, h: 4, unit: "percentunit", decimals: f64(2), steps: auditSteps,
				desc:    "The lowest audit score of any selected node and satellite. Disqualification below 96 %.",
				targets: []target{instant("min("+ssel("storj_satellite_audit_score")+")", "")},
			}),
			statPanel(spec{
				title: "Suspended / disqualified", w: 4, h: 4, decimals: f64(0), steps: flagSteps,
				desc: "Node-satellite pairs suspended and disqualified.",
				targets: []target{
					instant("sum("+ssel("storj_satellite_suspended")+")", "Suspended"),
					instant("sum("+ssel("storj_satellite_disqualified")+")", "Disqualified"),
				},
			}, textValueAndName),

			row("Success rates"),
			actionBars("Success rate by action", "success", successSteps,
				"Share of each action's transfers that succeeded in the time range (the predecessor's success-rate cards)."),
			actionBars("Cancel rate by action", "canceled", lossSteps,
				"Share of each action's transfers canceled in the time range (lost races and client cancels)."),
			actionBars("Failure rate by action", "failed", lossSteps,
				"Share of each action's transfers that failed in the time range. Failed audits hurt the audit score."),

			row("Traffic"),
			timeseriesPanel(spec{
				title: "Bandwidth", w: 12, h: 8, unit: "Bps",
				desc: "Ingress (uploads, repair uploads) up, egress (downloads, audits, repair downloads) down, from the outcome lines' sizes.",
				targets: []target{
					series(perSecond(ssel("storj_transfer_bytes_total", uploadActions)), "Ingress"),
					series(perSecond(ssel("storj_transfer_bytes_total", downloadActions)), "Egress"),
				},
				overrides: []override{{name: "Egress", props: []dashboard.DynamicConfigValue{prop("custom.transform", "negative-Y")}}},
			}),
			timeseriesPanel(spec{
				title: "Transfers by action", w: 12, h: 8, unit: "ops",
				desc:    "Transfer outcomes per second by action (GET download, PUT upload, GET_AUDIT audit, GET_REPAIR/PUT_REPAIR repair).",
				targets: []target{series(perSecond(ssel("storj_transfers_total"), "action"), "{{action}}")},
			}),

			row("Nodes"),
			mergedTable(spec{
				title: "Nodes", w: 24, h: 8,
				desc: "One row per node; the node name links to the node detail dashboard. Success rate over the time range.",
				overrides: []override{{name: "node", props: []dashboard.DynamicConfigValue{
					nodeLink(), prop("displayName", "Node"),
				}}, {name: "version", props: []dashboard.DynamicConfigValue{prop("displayName", "Version")}}},
			}, []string{"node", "version"}, nil, []column{
				{name: "", expr: "max by (node, version) (" + sel("storj_node_info") + ")"},
				{name: "Log", expr: "max by (node) (" + sel("storj_log_source_up") + ")", props: []dashboard.DynamicConfigValue{
					mappingsProp(upDown("down", "up")), colorText(),
				}},
				{name: "API", expr: "max by (node) (" + sel("storj_nodeapi_up") + ")", props: []dashboard.DynamicConfigValue{
					mappingsProp(upDown("down", "up")), colorText(),
				}},
				{name: "Uptime", expr: "max by (node) (time() - " + sel("storj_node_started_timestamp_seconds") + ")", props: []dashboard.DynamicConfigValue{
					unitProp("s"), decimalsProp(0),
				}},
				{name: "Last log line", expr: "max by (node) (time() - " + sel("storj_log_last_timestamp_seconds") + ")", props: []dashboard.DynamicConfigValue{
					unitProp("s"), decimalsProp(0), thresholdsProp(staleSteps), colorText(),
				}},
				{name: "Success rate", expr: share("success", "$__range", nil, "node"), props: []dashboard.DynamicConfigValue{
					unitProp("percentunit"), decimalsProp(2), thresholdsProp(successSteps), colorText(),
				}},
				{name: "Lowest audit score", expr: "min by (node) (" + ssel("storj_satellite_audit_score") + ")", props: []dashboard.DynamicConfigValue{
					unitProp("percentunit"), decimalsProp(2), thresholdsProp(auditSteps), colorText(),
				}},
				{name: "Disk used", expr: "max by (node) (" + sel("storj_node_disk_used_bytes") + ")", props: []dashboard.DynamicConfigValue{unitProp("decbytes")}},
				{name: "Disk free", expr: "max by (node) (" + sel("storj_node_disk_free_bytes") + ")", props: []dashboard.DynamicConfigValue{unitProp("decbytes")}},
				{name: "Bandwidth this month", expr: "max by (node) (" + sel("storj_node_bandwidth_month_bytes") + ")", props: []dashboard.DynamicConfigValue{unitProp("decbytes")}},
				{name: "Payout estimate", expr: "max by (node) (" + sel("storj_payout_expected_month_dollars") + ")", props: []dashboard.DynamicConfigValue{
					unitProp("currencyUSD"), decimalsProp(2),
				}},
			}),

			row("Transfers by country"),
			countryMap("Uploads by country", "Uploads", uploadActions, dashboard.FieldColorModeIdContinuousGreens),
			countryMap("Downloads by country", "Downloads", `action=~"GET|GET_REPAIR"`, dashboard.FieldColorModeIdContinuousBlues),
			countryMap("Audits by country", "Audits", `action="GET_AUDIT"`, dashboard.FieldColorModeIdContinuousYlRd),
			bargaugePanel(spec{
				title: "Top countries", w: 24, h: 8, unit: "short", decimals: f64(0),
				desc:    "Transfers of all actions by the peer's country in the time range; ZZ is private, reserved or unknown.",
				targets: []target{instant("topk(20, "+inRange(sel("storj_transfers_by_country_total"), "country")+")", "{{country}}")},
			}),
		},
	}
}

// actionBars is a bar per action of the share of its transfers with result.
func actionBars(title, result string, steps []dashboard.Threshold, desc string) cell {
	var ts []target
	for _, a := range actions {
		ts = append(ts, instant(share(result, "$__range", []string{a.matcher()}), a.name))
	}
	return bargaugePanel(spec{
		title: title, desc: desc, w: 8, h: 8,
		unit: "percentunit", decimals: f64(2), min: f64(0), max: f64(1), steps: steps,
		noValue: "no transfers", targets: ts,
	})
}

// countryMap is a world map of transfers of the actions by the peer's
// country over the time range.
func countryMap(title, layer, actionMatcher string, scheme dashboard.FieldColorModeId) cell {
	return geomapPanel(spec{
		title: title, w: 8, h: 12, unit: "short", decimals: f64(0),
		desc: "Transfers in the time range by the peer's country (GeoIP). Countries are looked up by their ISO 3166 alpha-2 code in Grafana's built-in countries gazetteer; ZZ (private, reserved or unknown) has no place on the map.",
		targets: []target{
			tableQuery(inRange(sel("storj_transfers_by_country_total", actionMatcher), "country")),
		},
	}, layer, scheme)
}
