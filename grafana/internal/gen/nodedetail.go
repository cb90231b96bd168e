package gen

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

func nodeDetail() board {
	return board{
		uid:   UIDNodeDetail,
		title: "Storj nodes: node detail",
		file:  "node-detail.json",
		desc:  "One node (or a few) in depth: traffic and rates per satellite, transfer sizes and latency, concurrency, errors, hashstore compaction, garbage collection, trash, filewalkers and log health.",
		cells: []cell{
			row("Node"),
			mergedTable(spec{
				title: "Node info", w: 24, h: 5,
				desc: "From the node API: version, minimum allowed version, QUIC, uptime, last contact with a satellite.",
				overrides: []override{
					{name: "node", props: []dashboard.DynamicConfigValue{prop("displayName", "Node")}},
					{name: "version", props: []dashboard.DynamicConfigValue{prop("displayName", "Version")}},
					{name: "allowed_version", props: []dashboard.DynamicConfigValue{prop("displayName", "Minimum version")}},
					{name: "quic_status", props: []dashboard.DynamicConfigValue{prop("displayName", "QUIC")}},
					{name: "node_id", props: []dashboard.DynamicConfigValue{prop("displayName", "Node ID")}},
				},
			}, []string{"node", "version", "allowed_version", "quic_status", "node_id"}, nil, []column{
				{name: "", expr: "max by (node, version, allowed_version, quic_status, node_id) (" + sel("storj_node_info") + ")"},
				{name: "Up to date", expr: "max by (node) (" + sel("storj_node_up_to_date") + ")", props: []dashboard.DynamicConfigValue{
					mappingsProp(upDown("no", "yes")), colorText(),
				}},
				{name: "Uptime", expr: "max by (node) (time() - " + sel("storj_node_started_timestamp_seconds") + ")", props: []dashboard.DynamicConfigValue{
					unitProp("s"), decimalsProp(0),
				}},
				{name: "Last pinged", expr: "max by (node) (time() - " + sel("storj_node_last_pinged_timestamp_seconds") + ")", props: []dashboard.DynamicConfigValue{
					unitProp("s"), decimalsProp(0), thresholdsProp(levels("green", lvl{3600, "yellow"}, lvl{4 * 3600, "red"})), colorText(),
				}},
				{name: "API", expr: "max by (node) (" + sel("storj_nodeapi_up") + ")", props: []dashboard.DynamicConfigValue{
					mappingsProp(upDown("down", "up")), colorText(),
				}},
				{name: "Last API poll", expr: "max by (node) (time() - " + sel("storj_nodeapi_last_success_timestamp_seconds") + ")", props: []dashboard.DynamicConfigValue{
					unitProp("s"), decimalsProp(0), thresholdsProp(levels("green", lvl{600, "yellow"}, lvl{3600, "red"})), colorText(),
				}},
			}),
			statPanel(spec{
				title: "Log source", w: 4, h: 4, mappings: []dashboard.ValueMapping{upDown("down", "up")},
				steps:   levels("red", lvl{1, "green"}),
				desc:    "Whether the node's log source is open and readable.",
				targets: []target{instant("max by (node) ("+sel("storj_log_source_up")+")", "{{node}}")},
			}),
			statPanel(spec{
				title: "Last log line", w: 4, h: 4, unit: "s", decimals: f64(0), steps: staleSteps,
				desc:    "Seconds since the time of the newest log line read. A quiet node logs at least every few minutes.",
				targets: []target{instant("time() - max by (node) ("+sel("storj_log_last_timestamp_seconds")+")", "{{node}}")},
			}),
			statPanel(spec{
				title: "In flight now", w: 4, h: 4, decimals: f64(0),
				desc:    "Transfers started and not finished. Needs DEBUG piecestore lines: 0 at the default INFO level.",
				targets: []target{instant("sum("+sel("storj_transfers_in_flight")+")", "")},
			}),
			statPanel(spec{
				title: "Uploads rejected", w: 4, h: 4, unit: "short", decimals: f64(0), steps: levels("green", lvl{1, "yellow"}),
				desc:    "`upload rejected, too many requests` lines in the time range (storage2.max-concurrent-requests reached).",
				targets: []target{instant(inRange(sel("storj_uploads_rejected_total")), "")},
			}),
			statPanel(spec{
				title: "Satellite ping failures", w: 4, h: 4, unit: "short", decimals: f64(0), steps: levels("green", lvl{1, "yellow"}),
				desc:    "`ping satellite failed` lines in the time range.",
				targets: []target{instant(inRange(ssel("storj_satellite_ping_failures_total")), "")},
			}),
			statPanel(spec{
				title: "Errors", w: 4, h: 4, unit: "short", decimals: f64(0), steps: levels("green", lvl{1, "yellow"}),
				desc:    "Transfer outcomes with an error in the time range (see the error classes below).",
				targets: []target{instant(inRange(sel("storj_transfer_errors_total")), "")},
			}),

			row("Traffic per satellite"),
			timeseriesPanel(spec{
				title: "Transfers by satellite", w: 12, h: 8, unit: "ops",
				targets: []target{series(perSecond(ssel("storj_transfers_total"), "satellite"), "{{satellite}}")},
			}),
			timeseriesPanel(spec{
				title: "Bandwidth by satellite", w: 12, h: 8, unit: "Bps",
				desc: "Ingress up, egress down.",
				targets: []target{
					series(perSecond(ssel("storj_transfer_bytes_total", uploadActions), "satellite"), "{{satellite}} in"),
					series(perSecond(ssel("storj_transfer_bytes_total", downloadActions), "satellite"), "{{satellite}} out"),
				},
				overrides: []override{{regexp: true, name: ".* out", props: []dashboard.DynamicConfigValue{prop("custom.transform", "negative-Y")}}},
			}),
			bargaugePanel(spec{
				title: "Success rate by satellite", w: 8, h: 8,
				unit: "percentunit", decimals: f64(2), min: f64(0), max: f64(1), steps: successSteps, noValue: "no transfers",
				desc:    "All actions, over the time range.",
				targets: []target{instant(share("success", "$__range", nil, "satellite"), "{{satellite}}")},
			}),
			timeseriesPanel(spec{
				title: "Success rate by action", w: 8, h: 8, unit: "percentunit", decimals: f64(1), max: f64(1),
				targets: []target{series(rateShare("success", nil, "action"), "{{action}}")},
			}),
			timeseriesPanel(spec{
				title: "Cancels and failures by action", w: 8, h: 8, unit: "ops",
				targets: []target{series(perSecond(ssel("storj_transfers_total", `result!="success"`), "action", "result"), "{{action}} {{result}}")},
			}),

			row("Transfers"),
			heatmapPanel(spec{
				title: "Transfer size distribution", w: 12, h: 8,
				desc:    "Sizes of successful transfers, all actions.",
				targets: []target{heatQuery("sum by (le) (increase("+sel("storj_transfer_size_bytes_bucket")+"[$__rate_interval]))", false)},
			}, "decbytes"),
			bargaugePanel(spec{
				title: "Transfer sizes in range", w: 6, h: 8, unit: "short", decimals: f64(0),
				desc:    "Successful transfers by size bucket (upper bound) over the time range.",
				targets: []target{heatQuery("sum by (le) (increase("+sel("storj_transfer_size_bytes_bucket")+"[$__range]))", true)},
			}),
			timeseriesPanel(spec{
				title: "Mean transfer size by action", w: 6, h: 8, unit: "decbytes",
				targets: []target{series(
					perSecond(sel("storj_transfer_size_bytes_sum"), "action")+" / "+perSecond(sel("storj_transfer_size_bytes_count"), "action"),
					"{{action}}")},
			}),
			timeseriesPanel(spec{
				title: "Latency p50 / p95 / p99", w: 12, h: 8, unit: "s",
				desc: "Durations of successful transfers from `started` to the outcome. Needs DEBUG piecestore lines (log.custom-level: piecestore=DEBUG); empty at INFO.",
				targets: []target{
					series(quantile("0.5"), "{{action}} p50"),
					series(quantile("0.95"), "{{action}} p95"),
					series(quantile("0.99"), "{{action}} p99"),
				},
			}),
			heatmapPanel(spec{
				title: "Transfer duration distribution", w: 6, h: 8,
				desc:    "All outcomes. Needs DEBUG piecestore lines; empty at INFO.",
				targets: []target{heatQuery("sum by (le) (increase("+sel("storj_transfer_duration_seconds_bucket")+"[$__rate_interval]))", false)},
			}, "s"),
			timeseriesPanel(spec{
				title: "Concurrency", w: 6, h: 8, unit: "short", decimals: f64(0),
				desc:    "Transfers in flight by action. Needs DEBUG piecestore lines; 0 at INFO.",
				targets: []target{series("sum by (action) ("+sel("storj_transfers_in_flight")+")", "{{action}}")},
			}, stacked),
			bargaugePanel(spec{
				title: "Top error classes", w: 8, h: 8, unit: "short", decimals: f64(0),
				desc:    "Transfer errors by action and class in the time range.",
				steps:   levels("yellow"),
				targets: []target{instant("topk(10, "+inRange(sel("storj_transfer_errors_total"), "action", "error")+")", "{{action}} {{error}}")},
			}),
			timeseriesPanel(spec{
				title: "Errors by class", w: 8, h: 8, unit: "cpm",
				targets: []target{series(perMinute(sel("storj_transfer_errors_total"), "error"), "{{error}}")},
			}),
			timeseriesPanel(spec{
				title: "Rejected uploads and ping failures", w: 8, h: 8, unit: "cpm",
				targets: []target{
					series(perMinute(sel("storj_uploads_rejected_total"), "node"), "{{node}} uploads rejected"),
					series(perMinute(ssel("storj_satellite_ping_failures_total"), "node", "satellite"), "{{node}} {{satellite}} ping failed"),
				},
			}),

			row("Hashstore compaction"),
			bargaugePanel(spec{
				title: "Compactions in range", w: 8, h: 8, unit: "short", decimals: f64(0),
				targets: []target{instant(inRange(ssel("storj_hashstore_compactions_total"), "satellite", "result"), "{{satellite}} {{result}}")},
			}),
			timeseriesPanel(spec{
				title: "Time spent compacting", w: 8, h: 8, unit: "percentunit",
				desc:    "Share of time a store spent in compactions.",
				targets: []target{series(perSecond(ssel("storj_hashstore_compaction_seconds_total"), "satellite", "store"), "{{satellite}} {{store}}")},
			}),
			timeseriesPanel(spec{
				title: "Rewritten and reclaimed", w: 8, h: 8, unit: "Bps",
				targets: []target{
					series(perSecond(ssel("storj_hashstore_rewritten_bytes_total"), "satellite"), "{{satellite}} rewritten"),
					series(perSecond(ssel("storj_hashstore_reclaimed_bytes_total"), "satellite"), "{{satellite}} reclaimed"),
				},
			}),
			mergedTable(spec{
				title: "Stores", w: 24, h: 7,
				desc: "Statistics of each store's last compaction line.",
			}, []string{"node", "satellite", "store"}, nil, []column{
				{name: "Log bytes", expr: "max by (node, satellite, store) (" + ssel("storj_hashstore_log_bytes") + ")", props: []dashboard.DynamicConfigValue{unitProp("decbytes")}},
				{name: "Trash bytes", expr: "max by (node, satellite, store) (" + ssel("storj_hashstore_trash_bytes") + ")", props: []dashboard.DynamicConfigValue{unitProp("decbytes")}},
				{name: "Reclaimable", expr: "max by (node, satellite, store) (" + ssel("storj_hashstore_reclaimable_bytes") + ")", props: []dashboard.DynamicConfigValue{unitProp("decbytes")}},
				{name: "Last compaction", expr: "max by (node, satellite, store) (" + ssel("storj_hashstore_compaction_last_duration_seconds") + ")", props: []dashboard.DynamicConfigValue{unitProp("s")}},
			}),

			row("Garbage collection, trash and filewalkers"),
			bargaugePanel(spec{
				title: "Runs in range", w: 8, h: 8, unit: "short", decimals: f64(0),
				targets: []target{
					instant(inRange(ssel("storj_retain_runs_total"), "result"), "GC {{result}}"),
					instant(inRange(sel("storj_filewalker_runs_total"), "walker", "result"), "{{walker}} walk {{result}}"),
					instant(inRange(sel("storj_trash_empty_runs_total"), "result"), "trash emptying {{result}}"),
					instant(inRange(sel("storj_expired_collections_total"), "result"), "expired collection {{result}}"),
				},
			}),
			bargaugePanel(spec{
				title: "Pieces in range", w: 8, h: 8, unit: "short", decimals: f64(0),
				desc: "Pieces moved to trash by garbage collection (and failures), trashed or deleted by filewalkers, and expired pieces deleted.",
				targets: []target{
					instant(inRange(ssel("storj_retain_pieces_trashed_total")), "GC trashed"),
					instant(inRange(ssel("storj_retain_pieces_failed_total")), "GC failed"),
					instant(inRange(sel("storj_filewalker_pieces_trashed_total"), "walker"), "{{walker}} walk"),
					instant(inRange(sel("storj_expired_pieces_deleted_total")), "expired deleted"),
				},
			}),
			timeseriesPanel(spec{
				title: "Last run durations", w: 8, h: 8, unit: "s",
				targets: []target{
					series("max by (satellite) ("+ssel("storj_retain_last_duration_seconds")+")", "GC {{satellite}}"),
					series("max by (walker, satellite) ("+ssel("storj_filewalker_last_duration_seconds")+")", "{{walker}} walk {{satellite}}"),
					series("max by (satellite) ("+ssel("storj_trash_empty_last_duration_seconds")+")", "trash emptying {{satellite}}"),
				},
			}, points),
			timeseriesPanel(spec{
				title: "Used space by satellite (used-space walk)", w: 12, h: 8, unit: "decbytes",
				targets: []target{series("sum by (satellite) ("+ssel("storj_filewalker_used_space_bytes")+")", "{{satellite}}")},
			}),
			timeseriesPanel(spec{
				title: "Pieces trashed and deleted", w: 12, h: 8, unit: "cpm",
				targets: []target{
					series(perMinute(ssel("storj_retain_pieces_trashed_total"), "satellite"), "GC {{satellite}}"),
					series(perMinute(sel("storj_filewalker_pieces_trashed_total"), "walker"), "{{walker}} walk"),
					series(perMinute(sel("storj_expired_pieces_deleted_total")), "expired"),
				},
			}),

			row("Log health"),
			statPanel(spec{
				title: "Log source events in range", w: 12, h: 4, unit: "short", decimals: f64(0),
				steps: levels("green", lvl{1, "yellow"}),
				desc:  "Rotations and truncations seen by the follower, source errors, non-storagenode lines, and DEBUG `started` lines whose outcome never came.",
				targets: []target{
					instant(inRange(sel("storj_log_rotations_total")), "Rotations"),
					instant(inRange(sel("storj_log_truncations_total")), "Truncations"),
					instant(inRange(sel("storj_log_source_errors_total")), "Source errors"),
					instant(inRange(sel("storj_log_lines_unparsed_total")), "Unparsed lines"),
					instant(inRange(sel("storj_exporter_transfer_pairs_expired_total")), "Lost started lines"),
				},
			}, textValueAndName),
			statPanel(spec{
				title: "Node API requests", w: 6, h: 4,
				mappings: []dashboard.ValueMapping{upDown("failed", "OK")}, steps: levels("red", lvl{1, "green"}),
				desc:    "Result of the last request per endpoint (worst of the selected nodes).",
				targets: []target{instant("min by (endpoint) ("+sel("storj_nodeapi_request_success")+")", "{{endpoint}}")},
			}, textValueAndName),
			statPanel(spec{
				title: "Node API request duration", w: 6, h: 4, unit: "s", decimals: f64(1),
				steps:   levels("green", lvl{10, "yellow"}, lvl{25, "red"}),
				desc:    "Duration of the last request per endpoint (slowest of the selected nodes); the payout estimate is slow on big nodes.",
				targets: []target{instant("max by (endpoint) ("+sel("storj_nodeapi_request_duration_seconds")+")", "{{endpoint}}")},
			}, textValueAndName),
			timeseriesPanel(spec{
				title: "Log lines by level", w: 24, h: 8, unit: "cps",
				targets: []target{
					series(perSecond(sel("storj_log_lines_total")), "all lines"),
					series(perSecond(sel("storj_log_messages_total"), "level"), "{{level}}"),
					series(perSecond(sel("storj_log_lines_unparsed_total"), "reason"), "unparsed: {{reason}}"),
				},
			}),
		},
	}
}

// quantile is a latency quantile of successful transfers by action.
func quantile(q string) string {
	return "histogram_quantile(" + q + ", sum by (le, action) (rate(" +
		sel("storj_transfer_duration_seconds_bucket", `result="success"`) + "[$__rate_interval])))"
}
