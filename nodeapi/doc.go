// Package nodeapi reads a Storj storage node's local HTTP API (the dashboard
// backend on port 14002, docs/node-api.md) and turns it into Prometheus
// gauges.
//
// The package has three parts:
//
//   - Client: a context-first, typed client for the four routes an exporter
//     needs (/api/sno/, /api/sno/satellites, /api/sno/satellite/{id},
//     /api/sno/estimated-payout). It is strict about what makes a response
//     usable (status, Content-Type, JSON syntax, value types, required keys,
//     size) and lenient about the rest: unknown keys are ignored, and keys
//     that older node versions lack are optional. Every error reads
//     "nodeapi: GET <path>: ..."; a non-2xx status wraps an *APIError, an
//     unusable 2xx response wraps ErrInvalidResponse.
//   - Poller: polls one node on its own interval, with the client's timeout
//     per request, and keeps the last good data in a Snapshot.
//   - Collector: a prometheus.Collector that builds const metrics from the
//     pollers' snapshots at each scrape. A scrape never calls a node.
//
// # When is a node up
//
// A poll succeeds when /api/sno/ and /api/sno/satellite/{id} for every
// satellite it lists return usable data; then storj_nodeapi_up is 1. When
// a poll fails, the snapshot's data is dropped and the collector exports
// only storj_nodeapi_up 0 and the time of the last success: no partial or
// stale gauges (docs/node-api.md §10.1 rule 6). The same holds when the last
// success is older than CollectorOptions.MaxAge (default 3 polling
// intervals), e.g. because the poller stopped.
//
// The estimated payout is different: the route is slow (close to 30 s on
// big nodes) and only feeds the payout gauges, so it is requested at most
// every PayoutInterval, and its failure alone leaves the node up. The
// payout gauges are then withdrawn and
// storj_nodeapi_request_success{endpoint="estimated_payout"} is 0. The last
// good estimate is kept across a failed poll (but not shown while the node
// is down), so a short outage costs neither a payout request nor a gap.
//
// /api/sno/satellites is not polled: what it has is in /api/sno/ or, keyed
// by satellite ID, in /api/sno/satellite/{id}; its audits[] carry no ID.
//
// # Metrics
//
// About the poll (node = the configured name):
//
//	storj_nodeapi_up{node}
//	storj_nodeapi_last_success_timestamp_seconds{node}
//	storj_nodeapi_request_duration_seconds{node,endpoint}  endpoint: sno, satellite, estimated_payout
//	storj_nodeapi_request_success{node,endpoint}
//
// From /api/sno/:
//
//	storj_node_info{node,node_id,version,allowed_version,quic_status[,wallet]} 1
//	storj_node_up_to_date{node}
//	storj_node_last_pinged_timestamp_seconds{node}    absent if never
//	storj_node_started_timestamp_seconds{node}
//	storj_node_disk_{used,free,allocated,trash,overused,reclaimable}_bytes{node}
//	storj_node_bandwidth_month_bytes{node}
//	storj_satellite_{disqualified,suspended,vetted}{node,satellite}
//
// From /api/sno/satellite/{id} (satellite = us1, eu1, ap1, saltlake, or the ID):
//
//	storj_satellite_{audit,suspension,online}_score{node,satellite}
//	storj_satellite_joined_timestamp_seconds{node,satellite}
//	storj_satellite_month_egress_bytes{node,satellite,kind}   kind: usage, repair, audit
//	storj_satellite_month_ingress_bytes{node,satellite,kind}  kind: usage, repair
//	storj_satellite_month_stored_byte_seconds{node,satellite} (the API's byte-hours x 3600, in base units)
//
// From /api/sno/estimated-payout (cents converted to dollars):
//
//	storj_payout_dollars{node,month,component}  month: current, previous;
//	                                            component: egress, repair_audit, disk, held, payout
//	storj_payout_expected_month_dollars{node}
//
// Values a node version does not report are left out rather than exported
// as 0: storj_node_disk_reclaimable_bytes before v1.143,
// storj_satellite_vetted before v1.131, the scores before v1.21,
// storj_payout_expected_month_dollars before v1.21.
package nodeapi
