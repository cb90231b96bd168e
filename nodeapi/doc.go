// Package nodeapi reads a Storj storage node's local HTTP API (the dashboard
// backend on port 14002, docs/node-api.md) into typed snapshots. It knows
// no Prometheus: the collector of package exporter (exporter/nodeapi.go)
// turns the snapshots into gauges.
//
// The package has two parts:
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
//     per request, and keeps the last good data in a Snapshot. Readers
//     (the collector, at each scrape; the sink) take snapshots and never
//     call the node.
//
// # When is a node up
//
// A poll succeeds when /api/sno/ and /api/sno/satellite/{id} for every
// satellite it lists return usable data; then the snapshot is Up. When a
// poll fails, the snapshot's data is dropped, so that nothing partial or
// stale passes for current (docs/node-api.md §10.1 rule 6): the collector
// then exports only storj_nodeapi_up 0 and the time of the last success,
// as it does when the last success is older than its MaxAge (default 3
// polling intervals), e.g. because the poller stopped.
//
// The estimated payout is different: the route is slow (close to 30 s on
// big nodes) and only feeds the payout figures, so it is requested at most
// every PayoutInterval, and its failure alone leaves the node up. The
// snapshot then has no Payout and the payout request's failure. The last
// good estimate is kept across a failed poll (but not shown while the node
// is down), so a short outage costs neither a payout request nor a gap.
//
// The earnings routes (docs/node-api.md §8) are polled on their own
// cadences and each fails on its own: the per-satellite estimates
// (estimated-payout?id=) and /api/heldamount/periods with the payout, the
// paystubs of the satellites' join month to now and the held history
// hourly or when periods shows a new month. A failing route's data is
// dropped; a route the node lacks (404, or its HTML page with 200) is said
// once at INFO and has no request status.
//
// /api/sno/satellites is not polled: what it has is in /api/sno/ or, keyed
// by satellite ID, in /api/sno/satellite/{id}; its audits[] carry no ID.
//
// The metric families made of the snapshots are listed in
// exporter/nodeapi.go and the README.
package nodeapi
