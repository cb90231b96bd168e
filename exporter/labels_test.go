package exporter_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/internal/satellites"
)

// flood is a list of satellite IDs as a hostile or broken log could name
// them: every other one a valid node ID no public satellite has, the
// others texts of a node ID's length and alphabet whose checksum fails.
type flood struct {
	ids   []string
	valid []bool
}

func newFlood(n int, seed uint64) flood {
	r := rand.New(rand.NewPCG(seed, 7))
	f := flood{ids: make([]string, n), valid: make([]bool, n)}
	for i := range n {
		if i%2 == 0 {
			var raw [32]byte
			for j := range raw {
				raw[j] = byte(r.Uint32())
			}
			f.ids[i], f.valid[i] = satellites.FormatID(0, raw), true
			continue
		}
		b := make([]byte, 50)
		for j := range b {
			b[j] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"[r.IntN(58)]
		}
		f.ids[i] = string(b)
	}
	return f
}

// label is the value the README's rules give the i-th ID of a node that
// saw the flood's IDs in order and no other unknown one: the first 16
// valid IDs themselves, later valid ones other, the rest invalid.
func (f flood) label(i int) string {
	if !f.valid[i] {
		return "invalid"
	}
	before := 0
	for j := range i {
		if f.valid[j] {
			before++
		}
	}
	if before < 16 {
		return f.ids[i]
	}
	return "other"
}

// series returns a family's label sets, each without the node label, as
// "name=value,..." in label order, with their values.
func series(t *testing.T, reg *prometheus.Registry, family string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != family {
			continue
		}
		for _, m := range mf.GetMetric() {
			var k []string
			for _, l := range m.GetLabel() {
				if l.GetName() != "node" {
					k = append(k, l.GetName()+"="+l.GetValue())
				}
			}
			out[strings.Join(k, ",")] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return out
}

// transferLines are an outcome line of each action, with its result.
var transferLines = []struct {
	format, action, result string
}{
	{"INFO\tpiecestore\tdownloaded\t{\"Piece ID\": \"P%05d\", \"Satellite ID\": \"%s\", \"Action\": \"GET\", \"Offset\": 0, \"Size\": 1024, \"Remote Address\": \"1.2.3.4:5\"}", "GET", "success"},
	{"INFO\tpiecestore\tdownload canceled\t{\"Piece ID\": \"P%05d\", \"Satellite ID\": \"%s\", \"Action\": \"GET_AUDIT\", \"Offset\": 0, \"Size\": 0, \"Remote Address\": \"1.2.3.4:5\"}", "GET_AUDIT", "canceled"},
	{"ERROR\tpiecestore\tdownload failed\t{\"Piece ID\": \"P%05d\", \"Satellite ID\": \"%s\", \"Action\": \"GET_REPAIR\", \"Offset\": 0, \"Size\": 0, \"Remote Address\": \"1.2.3.4:5\", \"error\": \"write: broken pipe\"}", "GET_REPAIR", "failed"},
	{"INFO\tpiecestore\tuploaded\t{\"Piece ID\": \"P%05d\", \"Satellite ID\": \"%s\", \"Action\": \"PUT\", \"Size\": 2048, \"Remote Address\": \"1.2.3.4:5\"}", "PUT", "success"},
	{"INFO\tpiecestore\tupload canceled\t{\"Piece ID\": \"P%05d\", \"Satellite ID\": \"%s\", \"Action\": \"PUT_REPAIR\", \"Size\": 0, \"Remote Address\": \"1.2.3.4:5\"}", "PUT_REPAIR", "canceled"},
	{"ERROR\tpiecestore\tupload failed\t{\"Piece ID\": \"P%05d\", \"Satellite ID\": \"%s\", \"Action\": \"PUT\", \"Size\": 0, \"Remote Address\": \"1.2.3.4:5\", \"error\": \"unexpected EOF\"}", "PUT", "failed"},
}

// 5,000 lines with random satellite IDs, valid and invalid, make the
// series the rules allow and no more: the active satellites' 60
// pre-created ones, each of the 16 kept IDs with the outcomes it had, and
// other and invalid with every outcome.
func TestSatelliteFlood(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	node := exporter.NewLogMetrics(reg).ForNode("n", exporter.NodeOptions{})
	f := newFlood(5000, 1)
	want := map[string]float64{}
	for _, s := range satellites.Active() {
		for _, a := range []string{"GET", "GET_AUDIT", "GET_REPAIR", "PUT", "PUT_REPAIR"} {
			for _, r := range []string{"canceled", "failed", "success"} {
				want["action="+a+",result="+r+",satellite="+s.Name] = 0
			}
		}
	}
	for i, id := range f.ids {
		l := transferLines[(i/2)%len(transferLines)]
		node.Line(fmt.Appendf(nil, "2026-09-05T14:20:31.000Z\t"+l.format, i, id))
		want["action="+l.action+",result="+l.result+",satellite="+f.label(i)]++
	}
	got := series(t, reg, "storj_transfers_total")
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("storj_transfers_total (-want +got):\n%s", d)
	}
	// 60 + 16 + 6 (other) + 6 (invalid)
	if len(got) != 88 || len(series(t, reg, "storj_transfer_bytes_total")) != 88 {
		t.Errorf("%d series of storj_transfers_total, %d of storj_transfer_bytes_total; want 88", len(got), len(series(t, reg, "storj_transfer_bytes_total")))
	}
}

// A satellite ID of 1 MiB is counted as invalid and never written out.
func TestSatelliteHugeID(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	node := exporter.NewLogMetrics(reg).ForNode("n", exporter.NodeOptions{})
	huge := strings.Repeat("z", 1<<20-4096) // under the readers' 1 MiB line limit
	for _, l := range transferLines {
		node.Line(fmt.Appendf(nil, "2026-09-05T14:20:31.000Z\t"+l.format, 1, huge))
	}
	node.Line(fmt.Appendf(nil, "2023-04-26T22:27:57.165+0300\tERROR\tcontact:service\tping satellite failed \t{\"Process\": \"storagenode\", \"Satellite ID\": %q, \"attempts\": 3}", huge))
	out := expose(t, reg)
	t.Logf("/metrics: %d bytes", len(out))
	if strings.Contains(out, "zzzz") || len(out) > 64<<10 {
		t.Errorf("the ID became a label: /metrics is %d bytes", len(out))
	}
	if got := series(t, reg, "storj_satellite_ping_failures_total"); !maps.Equal(got, map[string]float64{"satellite=invalid": 1}) {
		t.Errorf("ping failures: %v", got)
	}
	if got := series(t, reg, "storj_transfers_total")["action=PUT,result=failed,satellite=invalid"]; got != 1 {
		t.Errorf("PUT failed under invalid: %v, want 1", got)
	}
}

// Every other family labelled by satellite or store keeps to the rules
// under a flood: counters count under other and invalid, gauges (of one
// satellite and store) are only set for the kept IDs; a store is s0, s1,
// unknown or other; the log's scores are kept for the kept IDs only.
func TestSatelliteFloodOtherFamilies(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	scores := exporter.NewScoreBoard()
	node := exporter.NewLogMetrics(reg).ForNode("n", exporter.NodeOptions{Scores: scores})
	f := newFlood(400, 2)
	const ts = "2025-10-06T02:33:51-07:00\t"
	stores := []string{`"store": "s0", `, `"store": "s1", `, `"store": "X%d", `, ``}
	storeLabel := []string{"s0", "s1", "other", "unknown"}
	counters := map[string]map[string]float64{}
	gauges := map[string]map[string]float64{}
	add := func(m map[string]map[string]float64, family, key string, v float64) {
		if m[family] == nil {
			m[family] = map[string]float64{}
		}
		m[family][key] += v
	}
	kept := map[string]bool{}
	for i, id := range f.ids {
		sat := "satellite=" + f.label(i)
		own := f.valid[i] && f.label(i) != "other"
		if own {
			kept[id] = true
		}
		st := i % len(stores)
		store := strings.ReplaceAll(stores[st], "%d", fmt.Sprint(i))
		for _, line := range []string{
			"ERROR\tcontact:service\tping satellite failed \t{\"Process\": \"storagenode\", \"Satellite ID\": \"%[1]s\", \"attempts\": 3}",
			"INFO\tretain\tMoved pieces to trash during retain\t{\"Process\": \"storagenode\", \"Deleted pieces\": 3, \"Failed to delete\": 1, \"Pieces count\": 10, \"Satellite ID\": \"%[1]s\", \"Duration\": \"2s\", \"Retain Status\": \"enabled\"}",
			"INFO\tpieces\tused-space-filewalker completed\t{\"Process\": \"storagenode\", \"Satellite ID\": \"%[1]s\", \"Lazy File Walker\": false, \"Total Pieces Size\": 1000, \"Total Pieces Content Size\": 900, \"Total Pieces Count\": 5, \"Duration\": \"3s\"}",
			"INFO\tpieces:trash\temptying trash finished\t{\"Process\": \"storagenode\", \"Satellite ID\": \"%[1]s\", \"elapsed\": \"4s\"}",
			"INFO\treputation:service\tnode scores updated\t{\"Process\": \"storagenode\", \"Satellite ID\": \"%[1]s\", \"Total Audits\": 10, \"Successful Audits\": 10, \"Audit Score\": 1, \"Online Score\": 0.5, \"Suspension Score\": 1}",
			"INFO\thashstore\tfinished compaction\t{\"Process\": \"storagenode\", \"satellite\": \"%[1]s\", %[2]s\"duration\": \"5s\", \"stats\": {\"NumLogs\":1,\"LenLogs\":\"1.0 KiB\",\"DataReclaimable\":\"0 B\",\"Table\":{\"LenTrash\":\"0 B\"}}}",
		} {
			node.Line(fmt.Appendf(nil, ts+line, id, store))
		}
		add(counters, "storj_satellite_ping_failures_total", sat, 1)
		add(counters, "storj_retain_runs_total", "result=success,"+sat, 1)
		add(counters, "storj_retain_pieces_trashed_total", sat, 3)
		add(counters, "storj_retain_pieces_failed_total", sat, 1)
		ss := sat + ",store=" + storeLabel[st]
		add(counters, "storj_hashstore_compactions_total", "result=success,"+ss, 1)
		add(counters, "storj_hashstore_compaction_seconds_total", ss, 5)
		if own {
			add(gauges, "storj_retain_last_duration_seconds", sat, 2)
			add(gauges, "storj_filewalker_used_space_bytes", sat, 1000)
			add(gauges, "storj_filewalker_last_duration_seconds", sat+",walker=used-space", 3)
			add(gauges, "storj_trash_empty_last_duration_seconds", sat, 4)
			if storeLabel[st] != "other" {
				add(gauges, "storj_hashstore_compaction_last_duration_seconds", ss, 5)
				add(gauges, "storj_hashstore_log_bytes", ss, 1024)
			}
		}
	}
	for _, m := range []map[string]map[string]float64{counters, gauges} {
		for family, want := range m {
			got := series(t, reg, family)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("%s (-want +got):\n%s", family, d)
			}
			if len(got) > 16*4+3*4 {
				t.Errorf("%s: %d series", family, len(got))
			}
		}
	}
	if got := slices.Sorted(maps.Keys(scores.LogScores("n"))); !slices.Equal(got, slices.Sorted(maps.Keys(kept))) || len(got) != 16 {
		t.Errorf("log scores kept for %d satellites %v, want the 16 kept IDs", len(got), got)
	}
}
