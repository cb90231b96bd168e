package gen

import "strings"

// Selectors. Every expression filters by the node variable; families with
// a satellite label also by the satellite variable. "All" sends .*, which
// also matches series without the label.
const (
	nodeSel = `node=~"$node"`
	satSel  = `satellite=~"$satellite"`

	uploadActions   = `action=~"PUT|PUT_REPAIR"`
	downloadActions = `action=~"GET|GET_AUDIT|GET_REPAIR"`
)

// sel is metric{node=~"$node",extra...}.
func sel(metric string, extra ...string) string {
	return metric + "{" + strings.Join(append([]string{nodeSel}, extra...), ",") + "}"
}

// ssel is metric{node=~"$node",satellite=~"$satellite",extra...}.
func ssel(metric string, extra ...string) string {
	return sel(metric, append([]string{satSel}, extra...)...)
}

// action is a transfer action, as the label has it and as the predecessor's
// cards named it.
type action struct{ code, name string }

var actions = []action{
	{"GET", "Download"},
	{"PUT", "Upload"},
	{"GET_AUDIT", "Audit"},
	{"GET_REPAIR", "Repair download"},
	{"PUT_REPAIR", "Repair upload"},
}

func (a action) matcher() string { return `action="` + a.code + `"` }

// sum opens a sum: "sum(" or "sum by (a, b) (".
func sum(labels ...string) string {
	if len(labels) == 0 {
		return "sum("
	}
	return "sum by (" + strings.Join(labels, ", ") + ") ("
}

// share is the fraction of transfers (matching extra) with the result, over
// window, aggregated by labels: NaN where there were none.
func share(result, window string, extra []string, labels ...string) string {
	all := ssel("storj_transfers_total", extra...)
	some := ssel("storj_transfers_total", append(append([]string{}, extra...), `result="`+result+`"`)...)
	return sum(labels...) + "increase(" + some + "[" + window + "]))" +
		" / " + sum(labels...) + "increase(" + all + "[" + window + "]))"
}

// rateShare is share with rate() over $__rate_interval, for time series.
func rateShare(result string, extra []string, labels ...string) string {
	all := ssel("storj_transfers_total", extra...)
	some := ssel("storj_transfers_total", append(append([]string{}, extra...), `result="`+result+`"`)...)
	return sum(labels...) + "rate(" + some + "[$__rate_interval]))" +
		" / " + sum(labels...) + "rate(" + all + "[$__rate_interval]))"
}

// inRange is the increase of a counter over the dashboard's time range.
func inRange(selector string, labels ...string) string {
	return sum(labels...) + "increase(" + selector + "[$__range]))"
}

// perSecond is the rate of a counter, for time series.
func perSecond(selector string, labels ...string) string {
	return sum(labels...) + "rate(" + selector + "[$__rate_interval]))"
}

// perMinute is the rate of a rare event's counter, per minute.
func perMinute(selector string, labels ...string) string {
	return perSecond(selector, labels...) + " * 60"
}
