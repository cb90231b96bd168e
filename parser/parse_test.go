package parser_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

const (
	us1   = "12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S"
	eu1   = "12L9ZFwhzVpuEKMUNUqkaTLGzwY9G24tbiigLiXpmZWKwmcNDDs"
	ap1   = "121RTSDpyNZVcEU84Ticf2L1ntiuUimbWgfATz21tuvgk3vzoA6"
	slc   = "1wFTAgs9DP5RSnCqKV1eLf6N9wtk4EAtmN5DpSxcs8EjT69tGE"
	piece = "BNERV6D3IQGORXMICYMR6FGFMLOVV6MUB3XMM6IRXDJBVDPJZ2KQ"
)

// current is a v1.146+ line as a node writes it.
const current = "2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{\"process\": \"storagenode\", \"piece_id\": \"" + piece +
	"\", \"satellite_id\": \"" + us1 + "\", \"action\": \"PUT\", \"remote_address\": \"172.17.0.1:41080\", \"size\": 32512}"

func mustParse(t *testing.T, line string) parser.Event {
	t.Helper()
	ev, err := parser.Parse([]byte(line))
	if err != nil {
		t.Fatalf("Parse(%.120q): %v", line, err)
	}
	return ev
}

func mustFail(t *testing.T, line string, want parser.Reason) {
	t.Helper()
	ev, err := parser.Parse([]byte(line))
	var se *parser.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("Parse(%.120q) = %+v, %v; want a SyntaxError", line, ev, err)
	}
	if se.Reason != want {
		t.Fatalf("Parse(%.120q): reason %v, want %v", line, se.Reason, want)
	}
}

// want is the part of an Event a table row checks.
type want struct {
	level     parser.Level
	logger    string
	message   string
	kind      parser.Kind
	action    parser.Action
	result    parser.Result
	satellite string
	time      string // RFC 3339 in UTC, "" for no time
	size      int64
}

func check(t *testing.T, ev parser.Event, w want) {
	t.Helper()
	var tm string
	if !ev.Time.IsZero() {
		tm = ev.Time.Format(time.RFC3339Nano)
	}
	got := want{ev.Level, ev.Logger, ev.Message, ev.Kind, ev.Action, ev.Result, ev.Satellite, tm, ev.Size}
	if got != w {
		t.Errorf("got  %+v\nwant %+v", got, w)
	}
}

func TestShapes(t *testing.T) {
	t.Parallel()
	uploaded := want{parser.Info, "piecestore", "uploaded", parser.KindTransferOutcome, parser.PUT, parser.Success, us1, "2026-09-05T14:20:31Z", 32512}
	tests := []struct {
		name string
		line string
		want want
	}{
		{"v1.146 snake_case, 5 columns", current, uploaded},
		{"CRLF", current + "\r\n", uploaded},
		{"LF", current + "\n", uploaded},
		{"v1.142 spelling", "2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{\"Process\": \"storagenode\", \"Piece ID\": \"" + piece + "\", \"Satellite ID\": \"" + us1 + "\", \"Action\": \"PUT\", \"Remote Address\": \"172.17.0.1:41080\", \"Size\": 32512}", uploaded},
		{"no process field (Windows service)", "2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{\"Piece ID\": \"" + piece + "\", \"Satellite ID\": \"" + us1 + "\", \"Action\": \"PUT\", \"Size\": 32512}", uploaded},
		{"fields in any order, duplicate keys", "2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{\"size\": 1, \"action\": \"PUT\", \"Process\": \"storagenode\", \"satellite_id\": \"" + us1 + "\", \"Process\": \"storagenode\", \"size\": 32512}", uploaded},
		{"SatelliteID (2019)", "2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{\"SatelliteID\": \"" + us1 + "\", \"Action\": \"PUT\", \"Size\": 32512}", uploaded},
		{"satelliteID", "2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{\"satelliteID\": \"" + us1 + "\", \"Action\": \"PUT\", \"Size\": 32512}", uploaded},
		{"float size that is integral", "2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{\"satellite_id\": \"" + us1 + "\", \"action\": \"PUT\", \"size\": 32512.0}", uploaded},
		{"docker logs -t", "2026-09-05T14:20:31.123456789Z " + current, uploaded},
		{"docker compose", "storagenode  | " + current, uploaded},
		{"docker compose v2 name", "storagenode-1  | " + current, uploaded},
		{"syslog", "Sep  5 14:20:31 nas storagenode[123]: " + current, uploaded},
		{"journald iso", "2026-09-05T16:20:31+02:00 nas storagenode[123]: " + current, uploaded},
		{"grep -r", "./old/node.log:" + current, uploaded},
		{"rsyslog #011", strings.ReplaceAll(current, "\t", "#011"), uploaded},
		{"TABs turned into spaces", strings.ReplaceAll(current, "\t", "    "), uploaded},
		{"JSON encoding", `{"L":"INFO","T":"2026-09-05T14:20:31Z","N":"piecestore","M":"uploaded","process":"storagenode","piece_id":"` + piece + `","satellite_id":"` + us1 + `","action":"PUT","size":32512}`, uploaded},
		{"JSON encoding with caller", `{"L":"INFO","T":"2026-09-05T14:20:31Z","N":"piecestore","C":"piecestore/endpoint.go:367","M":"uploaded","satellite_id":"` + us1 + `","action":"PUT","size":32512}`, uploaded},
		{"caller column", "2026-09-05T14:20:31Z\tINFO\tpiecestore\tpiecestore/endpoint.go:367\tuploaded\t{\"satellite_id\": \"" + us1 + "\", \"action\": \"PUT\", \"size\": 32512}", uploaded},
		{"3 columns", "2019-05-25T15:17:32.060Z\tINFO\trunning on version v0.11.1",
			want{parser.Info, "", "running on version v0.11.1", parser.KindGeneric, 0, 0, "", "2019-05-25T15:17:32.06Z", 0}},
		{"4 columns, logger and message", "2024-01-01T00:00:00Z\tINFO\tbandwidth\tPersisting bandwidth usage cache to db",
			want{parser.Info, "bandwidth", "Persisting bandwidth usage cache to db", parser.KindGeneric, 0, 0, "", "2024-01-01T00:00:00Z", 0}},
		{"4 columns, message and fields", "2025-12-21T15:18:24Z\tINFO\tVersion is up to date\t{\"Process\": \"storagenode-updater\", \"Service\": \"storagenode\"}",
			want{parser.Info, "", "Version is up to date", parser.KindGeneric, 0, 0, "", "2025-12-21T15:18:24Z", 0}},
		{"no time column (STORJ_LOG_NOTIME)", "INFO\tpiecestore\tuploaded\t{\"satellite_id\": \"" + us1 + "\", \"action\": \"PUT\", \"size\": 32512}",
			want{parser.Info, "piecestore", "uploaded", parser.KindTransferOutcome, parser.PUT, parser.Success, us1, "", 32512}},
		{"offset without colon", "2020-01-21T10:31:18.010+0300\tINFO\tpiecestore\tuploaded\t{\"Satellite ID\": \"" + eu1 + "\", \"Action\": \"PUT\"}",
			want{parser.Info, "piecestore", "uploaded", parser.KindTransferOutcome, parser.PUT, parser.Success, eu1, "2020-01-21T07:31:18.01Z", 0}},
		{"Z with milliseconds", "2019-12-17T16:06:45.226Z\tINFO\tpiecestore\tuploaded\t{\"Satellite ID\": \"" + ap1 + "\", \"Action\": \"PUT\"}",
			want{parser.Info, "piecestore", "uploaded", parser.KindTransferOutcome, parser.PUT, parser.Success, ap1, "2019-12-17T16:06:45.226Z", 0}},
		{"offset with colon", "2024-10-04T10:33:11+01:00\tINFO\tpiecestore\tdownloaded\t{\"Satellite ID\": \"" + slc + "\", \"Action\": \"GET_AUDIT\", \"Size\": 256}",
			want{parser.Info, "piecestore", "downloaded", parser.KindTransferOutcome, parser.GETAudit, parser.Success, slc, "2024-10-04T09:33:11Z", 256}},
		{"negative offset", "2025-09-23T02:32:01-07:00\tERROR\tpiecestore\tdownload failed\t{\"Satellite ID\": \"" + us1 + "\", \"Action\": \"GET_REPAIR\", \"error\": \"file does not exist\"}",
			want{parser.Error, "piecestore", "download failed", parser.KindTransferOutcome, parser.GETRepair, parser.Failed, us1, "2025-09-23T09:32:01Z", 0}},
		{"trailing space in message", "2023-04-26T22:27:57.165+0300\tERROR\tcontact:service\tping satellite failed \t{\"Satellite ID\": \"" + us1 + "\", \"attempts\": 3, \"error\": \"x\"}",
			want{parser.Error, "contact:service", "ping satellite failed ", parser.KindPingFailed, 0, 0, us1, "2023-04-26T19:27:57.165Z", 0}},
		{"trailing space lost to spaces", "2023-04-26T22:27:57.165+0300    ERROR   contact:service ping satellite failed   {\"Satellite ID\": \"" + us1 + "\", \"attempts\": 3}",
			want{parser.Error, "contact:service", "ping satellite failed ", parser.KindPingFailed, 0, 0, us1, "2023-04-26T19:27:57.165Z", 0}},
		{"invalid UTF-8 in a field", "2026-09-05T14:20:31Z\tERROR\tpiecestore\tdownload failed\t{\"satellite_id\": \"" + us1 + "\", \"action\": \"GET\", \"error\": \"bad \xff\xfe bytes\"}",
			want{parser.Error, "piecestore", "download failed", parser.KindTransferOutcome, parser.GET, parser.Failed, us1, "2026-09-05T14:20:31Z", 0}},
		{"modular build logger", "2026-09-05T14:20:31Z\tINFO\tpiecestore:endpoint\tuploaded\t{\"satellite_id\": \"" + us1 + "\", \"action\": \"PUT\", \"size\": 32512}",
			want{parser.Info, "piecestore:endpoint", "uploaded", parser.KindTransferOutcome, parser.PUT, parser.Success, us1, "2026-09-05T14:20:31Z", 32512}},
		{"empty fields object", "2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{}",
			want{parser.Info, "piecestore", "uploaded", parser.KindTransferOutcome, parser.ActionNone, parser.Success, "", "2026-09-05T14:20:31Z", 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			check(t, mustParse(t, tt.line), tt.want)
		})
	}
}

func TestTransferFields(t *testing.T) {
	t.Parallel()
	ev := mustParse(t, "2026-09-05T14:20:33Z\tINFO\tpiecestore\tdownload canceled\t{\"process\": \"storagenode\", \"piece_id\": \""+piece+
		"\", \"satellite_id\": \""+us1+"\", \"action\": \"GET\", \"offset\": 512, \"size\": 7936, \"remote_address\": \"[2001:db8::1]:28967\", \"reason\": \"downloaded size (0 bytes) does not match received message size (7936 bytes)\"}")
	if ev.PieceID != piece || ev.Offset != 512 || ev.Size != 7936 || !ev.HasSize || ev.Process != "storagenode" {
		t.Errorf("fields: %+v", ev)
	}
	if want := netip.MustParseAddrPort("[2001:db8::1]:28967"); ev.Remote != want {
		t.Errorf("remote %v, want %v", ev.Remote, want)
	}
	if r, n := parser.ClassifyReason(ev.Reason); r != parser.ReasonSizeMismatch || n != 0 {
		t.Errorf("reason %v %d", r, n)
	}
	if ev.TZOffset != 0 {
		t.Errorf("offset %d", ev.TZOffset)
	}
	ev = mustParse(t, "2024-07-07T05:35:06+03:00\tINFO\tpiecestore\tdownloaded\t{\"Remote Address\": \"34.124.189.53:33711\"}")
	if ev.Remote != netip.MustParseAddrPort("34.124.189.53:33711") || ev.TZOffset != 3*3600 {
		t.Errorf("remote %v offset %d", ev.Remote, ev.TZOffset)
	}
	ev = mustParse(t, "2026-09-05T14:20:33Z\tERROR\tpiecestore\tdownload failed\t{\"error\": \"line1\\n\\tat \\\"x\\\" \\u00e9\\ud83d\\ude00\"}")
	if ev.Error != "line1\n\tat \"x\" é😀" {
		t.Errorf("error %q", ev.Error)
	}
}

// The outcome rules of the parser issue, one test each.
func TestOutcomeRules(t *testing.T) {
	t.Parallel()
	line := func(level, logger, msg, action string) string {
		return "2026-09-05T14:20:31Z\t" + level + "\t" + logger + "\t" + msg + "\t{\"piece_id\": \"" + piece + "\", \"satellite_id\": \"" + us1 + "\", \"action\": \"" + action + "\", \"size\": 10, \"reason\": \"downloaded size (7936 bytes) does not match\"}"
	}
	tests := []struct {
		rule   string
		line   string
		kind   parser.Kind
		result parser.Result
	}{
		{"1 uploaded", line("INFO", "piecestore", "uploaded", "PUT"), parser.KindTransferOutcome, parser.Success},
		{"1 downloaded", line("INFO", "piecestore", "downloaded", "GET"), parser.KindTransferOutcome, parser.Success},
		{"2 upload canceled", line("INFO", "piecestore", "upload canceled", "PUT"), parser.KindTransferOutcome, parser.Canceled},
		{"2 download canceled, reason says downloaded size", line("INFO", "piecestore", "download canceled", "GET"), parser.KindTransferOutcome, parser.Canceled},
		{"2 download canceled race lost", line("INFO", "piecestore", "download canceled (race lost or node shutdown)", "GET"), parser.KindTransferOutcome, parser.Canceled},
		{"2 upload canceled race lost", line("INFO", "piecestore", "upload canceled (race lost or node shutdown)", "PUT"), parser.KindTransferOutcome, parser.Canceled},
		{"3 upload failed ERROR", line("ERROR", "piecestore", "upload failed", "PUT"), parser.KindTransferOutcome, parser.Failed},
		{"3 upload failed WARN", line("WARN", "piecestore", "upload failed", "PUT_REPAIR"), parser.KindTransferOutcome, parser.Failed},
		{"3 upload failed INFO (v0.x)", line("INFO", "piecestore", "upload failed", "PUT"), parser.KindTransferOutcome, parser.Failed},
		{"3 download failed ERROR", line("ERROR", "piecestore", "download failed", "GET_AUDIT"), parser.KindTransferOutcome, parser.Failed},
		{"4 upload failed DEBUG", line("DEBUG", "piecestore", "upload failed", "PUT"), parser.KindTransferOutcome, parser.Canceled},
		{"6 upload rejected", "2026-09-05T14:20:31Z\tINFO\tpiecestore\tupload rejected, too many requests\t{\"live_requests\": 7, \"request_limit\": 6}", parser.KindUploadRejected, parser.ResultNone},
		{"7 upload started", line("DEBUG", "piecestore", "upload started", "PUT"), parser.KindTransferStarted, parser.ResultNone},
		{"7 download started", line("INFO", "piecestore", "download started", "GET"), parser.KindTransferStarted, parser.ResultNone},
		{"8 other logger says uploaded", line("INFO", "piecestore:monitor", "uploaded", "PUT"), parser.KindGeneric, parser.ResultNone},
		{"8 retain says downloaded", line("INFO", "retain", "downloaded", "GET"), parser.KindGeneric, parser.ResultNone},
		{"8 unnamed logger", "2026-09-05T14:20:31Z\tINFO\tuploaded\t{\"action\": \"PUT\"}", parser.KindGeneric, parser.ResultNone},
		{"8 substring is not the message", line("INFO", "piecestore", "uploaded to somewhere", "PUT"), parser.KindGeneric, parser.ResultNone},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			ev := mustParse(t, tt.line)
			if ev.Kind != tt.kind || ev.Result != tt.result {
				t.Errorf("kind %v result %v, want %v %v", ev.Kind, ev.Result, tt.kind, tt.result)
			}
		})
	}
	t.Run("invalid fields are unparsed", func(t *testing.T) {
		t.Parallel()
		mustFail(t, "2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{\"action\": \"PUT\", \"size\": 10", parser.ReasonFields)
		mustFail(t, "2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{\"action\": PUT}", parser.ReasonFields)
		mustFail(t, "2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{\"action\": \"PUT\"} trailing", parser.ReasonFields)
		mustFail(t, "2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{\"a\": 01}", parser.ReasonFields)
		mustFail(t, "2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{\"a\": \"\\x\"}", parser.ReasonFields)
	})
}

// Rule 5: the DEBUG line after a race-lost cancel is the same transfer.
func TestTrackerRule5(t *testing.T) {
	t.Parallel()
	l := func(level, msg, p, action string) *parser.Event {
		ev := mustParse(t, "2026-09-05T14:20:31Z\t"+level+"\tpiecestore\t"+msg+"\t{\"piece_id\": \""+p+"\", \"satellite_id\": \""+us1+"\", \"action\": \""+action+"\", \"error\": \"context canceled\"}")
		return &ev
	}
	tr := parser.NewTracker(2)
	steps := []struct {
		ev      *parser.Event
		counted bool
		result  parser.Result
	}{
		{l("INFO", "download canceled (race lost or node shutdown)", "A", "GET"), true, parser.Canceled},
		{l("DEBUG", "download canceled", "B", "GET"), true, parser.Canceled}, // another piece: counted
		{l("DEBUG", "download canceled", "A", "GET_REPAIR"), true, parser.Canceled},
		{l("DEBUG", "download canceled", "A", "GET"), false, parser.ResultNone}, // the follow-up
		{l("DEBUG", "download canceled", "A", "GET"), true, parser.Canceled},    // matched once only
		{l("INFO", "upload canceled (race lost or node shutdown)", "C", "PUT"), true, parser.Canceled},
		{l("DEBUG", "upload failed", "C", "PUT"), false, parser.ResultNone},
		{l("DEBUG", "upload failed", "D", "PUT"), true, parser.Canceled}, // rule 4
		{l("ERROR", "upload failed", "E", "PUT"), true, parser.Failed},
		// the INFO line after a race-lost one is a real outcome of its own
		{l("INFO", "download canceled (race lost or node shutdown)", "F", "GET"), true, parser.Canceled},
		{l("INFO", "download canceled", "F", "GET"), true, parser.Canceled},
		{l("DEBUG", "download started", "G", "GET"), false, parser.ResultNone},
	}
	for i, s := range steps {
		res, counted := tr.Count(s.ev)
		if counted != s.counted || res != s.result {
			t.Errorf("step %d (%s %s %s): got %v %v, want %v %v", i, s.ev.Level, s.ev.Message, s.ev.PieceID, res, counted, s.result, s.counted)
		}
	}
	// bounded: with a limit of 2, the oldest race-lost transfer is forgotten
	for _, p := range []string{"X", "Y", "Z"} {
		tr.Count(l("INFO", "download canceled (race lost or node shutdown)", p, "GET"))
	}
	if n := tr.Pending(); n > 2 {
		t.Errorf("pending %d, want at most 2", n)
	}
	if _, counted := tr.Count(l("DEBUG", "download canceled", "X", "GET")); !counted {
		t.Errorf("forgotten entry still matched")
	}
	if _, counted := tr.Count(l("DEBUG", "download canceled", "Z", "GET")); counted {
		t.Errorf("recent entry not matched")
	}
}

func TestUnparsed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		line string
		want parser.Reason
	}{
		{"alex@puffin ~/Projects [phase8] %", parser.ReasonHeader},
		{"2026-09-05T14:20:31Z", parser.ReasonHeader},
		{"2026-09-05T14:20:31Z\tNOTICE\tpiecestore\tuploaded", parser.ReasonHeader},
		{"2026-13-05T14:20:31Z\tINFO\tpiecestore\tuploaded", parser.ReasonHeader},
		{"2026-02-30T14:20:31Z\tINFO\tpiecestore\tuploaded", parser.ReasonHeader},
		{"2026-09-05 14:20:31\tINFO\tpiecestore\tuploaded", parser.ReasonHeader},
		{"\x00\x00\x00\x00", parser.ReasonHeader},
		{"2026-09-05T14:20:31Z\tINFO\ta\tb\tc\td\te", parser.ReasonColumns},
		{"2022-01-02 03:04:05,123 INFO spawned: 'storagenode' with pid 42", parser.ReasonForeign},
		{"2022-01-02 03:04:05,123 CRIT Supervisor is running as root.", parser.ReasonForeign},
		{`{"L":"INFO","M":`, parser.ReasonJSON},
		{`{"level":"info","msg":"x"}`, parser.ReasonJSON},
		{`{"L":"LOUD","M":"x"}`, parser.ReasonJSON},
		{"2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{\"process\": \"stor", parser.ReasonFields}, // truncated
		{"2026-09-05T14:20:31Z\tINFO\tpiecestore\tuploaded\t{\"a\":\"\x00\"}", parser.ReasonFields},
	} {
		mustFail(t, tt.line, tt.want)
	}
	for _, blank := range []string{"", "\n", "\r\n", "   \t  "} {
		if _, err := parser.Parse([]byte(blank)); !errors.Is(err, parser.ErrBlank) {
			t.Errorf("Parse(%q) = %v, want ErrBlank", blank, err)
		}
	}
}

// A line of several hundred KB is read whole.
func TestLongLine(t *testing.T) {
	t.Parallel()
	verbose := strings.Repeat(`storj.io/storj/storagenode/piecestore.(*Endpoint).Download:1234\n\t`, 8000) // ~500 KB
	line := "2026-09-05T14:20:31Z\tERROR\tpiecestore\tdownload failed\t{\"satellite_id\": \"" + us1 + "\", \"action\": \"GET_AUDIT\", \"error\": \"file does not exist\", \"errorVerbose\": \"" + verbose + "\"}"
	if len(line) < 500_000 {
		t.Fatalf("line is only %d bytes", len(line))
	}
	ev := mustParse(t, line)
	if ev.Result != parser.Failed || ev.Action != parser.GETAudit || parser.ClassifyError(ev.Error) != parser.ErrFileNotFound {
		t.Errorf("%+v", ev)
	}
}

// NUL bytes and invalid UTF-8 in the message do not stop a line.
func TestBinaryGarbage(t *testing.T) {
	t.Parallel()
	ev := mustParse(t, "2026-09-05T14:20:31Z\tINFO\tpiecestore\tweird \x00\xff message")
	if ev.Message != "weird \x00\xff message" || ev.Kind != parser.KindGeneric {
		t.Errorf("%+v", ev)
	}
}

func TestTypedEvents(t *testing.T) {
	t.Parallel()
	ev := mustParse(t, "2025-09-23T02:32:01-07:00\tINFO\thashstore\tfinished compaction\t{\"Process\": \"storagenode\", \"satellite\": \""+ap1+"\", \"store\": \"s1\", \"duration\": \"1m0.518026162s\", \"stats\": {\"NumLogs\":165,\"LenLogs\":\"153.7 GiB\",\"DataReclaimable\":\"39.8 GiB\",\"TrashPercent\":0.06573437127923672,\"Table\":{\"NumSet\":512253,\"LenTrash\":\"10.1 GiB\",\"Kind\":0},\"Compaction\":{\"Elapsed\":0}}}")
	c := ev.Compaction
	if ev.Kind != parser.KindCompaction || c == nil || c.Phase != parser.Finished || c.Store != "s1" || ev.Satellite != ap1 ||
		c.Duration != 60518026162 || c.NumLogs != 165 || c.LogsBytes != 165034118349 || c.TrashBytes != 10844792422 || !c.HasStats {
		t.Errorf("compaction %+v %+v", ev, c)
	}
	ev = mustParse(t, "2026-01-01T00:00:00Z\tINFO\thashstore\thashtbl rewritten\t{\"rewritten_bytes\": \"2.00 GB\", \"reclaimed_bytes\": \"512 B\"}")
	if c := ev.Compaction; c == nil || c.Rewritten != 2_000_000_000 || c.Reclaimed != 512 {
		t.Errorf("hashtbl %+v", ev.Compaction)
	}
	ev = mustParse(t, "2024-07-29T11:34:23Z\tINFO\tretain\tMoved pieces to trash during retain\t{\"Process\": \"storagenode\", \"cachePath\": \"/x\", \"Deleted pieces\": 614702, \"Failed to delete\": 1, \"Pieces failed to read\": 0, \"Pieces count\": 33022028, \"Satellite ID\": \""+slc+"\", \"Duration\": \"6h51m0.498222511s\", \"Retain Status\": \"enabled\"}")
	if r := ev.Retain; ev.Kind != parser.KindRetain || r.Deleted != 614702 || r.Failed != 1 || r.PiecesSeen != 33022028 || r.Status != "enabled" || r.Duration.Hours() < 6.8 {
		t.Errorf("retain %+v", ev.Retain)
	}
	ev = mustParse(t, "2024-10-04T23:15:46+01:00\tINFO\tpieces\tused-space-filewalker completed\t{\"Process\": \"storagenode\", \"Satellite ID\": \""+eu1+"\", \"Lazy File Walker\": false, \"Total Pieces Size\": 2604807067904, \"Total Pieces Content Size\": 2602814126848, \"Total Pieces Count\": 3892463, \"Duration\": \"6h8m56.709429288s\"}")
	if w := ev.Walker; ev.Kind != parser.KindFilewalker || w.Name != parser.WalkerUsedSpace || w.Phase != parser.Finished || w.TotalBytes != 2604807067904 || w.Pieces != 3892463 || w.Lazy {
		t.Errorf("walker %+v", ev.Walker)
	}
	ev = mustParse(t, "2024-07-29T14:55:35Z    INFO    lazyfilewalker.gc-filewalker.subprocess gc-filewalker completed {\"Process\": \"storagenode\", \"satelliteID\": \""+us1+"\", \"Process\": \"storagenode\", \"piecesCount\": 41620208, \"trashPiecesCount\": 5526315, \"piecesTrashed\": 5526315, \"piecesSkippedCount\": 0}")
	if w := ev.Walker; ev.Kind != parser.KindFilewalker || w.Name != parser.WalkerGC || w.Trashed != 5526315 || !w.Lazy || ev.Satellite != us1 {
		t.Errorf("gc %+v %+v", ev, ev.Walker)
	}
	ev = mustParse(t, "2023-06-25T18:21:19.607+0200\tERROR\tlazyfilewalker.gc-filewalker\tsubprocess exited with error\t{\"satelliteID\": \""+us1+"\", \"error\": \"x\"}")
	if w := ev.Walker; ev.Kind != parser.KindFilewalker || w.Name != parser.WalkerGC || w.Phase != parser.PhaseFailed {
		t.Errorf("gc failure %+v", ev.Walker)
	}
	ev = mustParse(t, "2026-01-01T00:00:00Z\tWARN\treputation:service\tnode scores worsened\t{\"satellite_id\": \""+us1+"\", \"total_audits\": 100, \"successful_audits\": 99, \"audit_score\": 0.98, \"online_score\": 1, \"suspension_score\": 0.5, \"audit_score_delta\": -0.01}")
	if r := ev.Reputation; ev.Kind != parser.KindReputation || !r.Worsened || r.TotalAudits != 100 || r.AuditScore != 0.98 || r.OnlineScore != 1 || r.SuspensionScore != 0.5 || r.AuditDelta != -0.01 {
		t.Errorf("reputation %+v", ev.Reputation)
	}
	ev = mustParse(t, "2026-01-01T00:00:00Z\tINFO\tpieces:trash\temptying trash finished\t{\"satellite_id\": \""+us1+"\", \"elapsed\": \"1.5s\"}")
	if ev.Kind != parser.KindTrash || ev.Trash.Phase != parser.Finished || ev.Trash.Elapsed.Seconds() != 1.5 {
		t.Errorf("trash %+v", ev.Trash)
	}
	ev = mustParse(t, "2026-01-01T00:00:00Z\tINFO\tcollector\texpired pieces collection completed\t{\"count\": 42}")
	if ev.Kind != parser.KindExpired || ev.Expired.Count != 42 || ev.Expired.Phase != parser.Finished {
		t.Errorf("expired %+v", ev.Expired)
	}
	ev = mustParse(t, "2019-07-26T15:41:54.663Z        ERROR   piecestore      upload rejected, too many requests      {\"live requests\": 22}")
	if ev.Kind != parser.KindUploadRejected || ev.Rejected.LiveRequests != 22 {
		t.Errorf("rejected %+v", ev)
	}
	ev = mustParse(t, "2019-05-25T12:45:10.396Z        INFO    piecestore      deleted {\"Piece ID\": \"VK4V\"}")
	if ev.Kind != parser.KindDelete || ev.Result != parser.Success || ev.Action != parser.ActionDelete {
		t.Errorf("delete %+v", ev)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]parser.ErrorClass{
		"":                                   parser.ErrNone,
		"file does not exist":                parser.ErrFileNotFound,
		"ordersdb error: database is locked": parser.ErrDatabaseLocked,
		"write tcp 172.17.0.2:28967->172.17.0.1:53694: write: broken pipe": parser.ErrBrokenPipe,
		"read: connection reset by peer":                                   parser.ErrConnectionReset,
		"unexpected EOF":                                                   parser.ErrUnexpectedEOF,
		"context canceled":                                                 parser.ErrCanceled,
		"use of closed network connection":                                 parser.ErrClosedConnection,
		"dial tcp: i/o timeout":                                            parser.ErrTimeout,
		"write: no space left on device":                                   parser.ErrDisk,
		"something new":                                                    parser.ErrOther,
	} {
		if got := parser.ClassifyError(in); got != want {
			t.Errorf("ClassifyError(%q) = %v, want %v", in, got, want)
		}
	}
	for in, want := range map[string]parser.CancelReason{
		"context canceled":      parser.ReasonContextCanceled,
		"stream closed by peer": parser.ReasonStreamClosed,
		"downloaded size (1024 bytes) does not match received message size (7936 bytes)": parser.ReasonSizeMismatch,
		"unknown reason bug in code, please report":                                      parser.ReasonUnknown,
	} {
		if got, _ := parser.ClassifyReason(in); got != want {
			t.Errorf("ClassifyReason(%q) = %v, want %v", in, got, want)
		}
	}
	if _, n := parser.ClassifyReason("downloaded size (1024 bytes) does not match received message size (7936 bytes)"); n != 1024 {
		t.Errorf("sent bytes %d", n)
	}
	if parser.SatelliteName(us1) != "us1" || parser.SatelliteName("1xyz") != "1xyz" || parser.SatelliteName(slc) != "saltlake" {
		t.Error("SatelliteName")
	}
}

// publishedLines reads a log fixture of ../testdata/logs, without its
// `# source:` comment lines.
func publishedLines(t testing.TB, name string) []string {
	t.Helper()
	f, err := os.Open("../testdata/logs/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "# ") {
			out = append(out, sc.Text())
		}
	}
	return out
}

// Every published line, from 2019 to 2025, parses; the eras each have
// their expected reading.
func TestRealLines(t *testing.T) {
	t.Parallel()
	lines := publishedLines(t, "real-lines.txt")
	if len(lines) < 80 {
		t.Fatalf("only %d lines", len(lines))
	}
	byKey := map[string]parser.Event{}
	for _, l := range lines {
		ev := mustParse(t, l)
		if ev.Level == parser.LevelNone || ev.Message == "" {
			t.Errorf("incomplete event from %.100q: %+v", l, ev)
		}
		if !strings.HasPrefix(l, `{"L"`) && ev.Time.IsZero() {
			t.Errorf("no time from %.100q", l)
		}
		byKey[firstPiece(l)+"|"+ev.Message] = ev
	}
	for _, tt := range []struct {
		key  string
		want want
	}{
		// 2019, spaces for TABs, no Satellite ID
		{"OX3WKCVSERUXKUPXFLBGABC2SVY7DZ2SVKTP5Z56AQT3OV5VNGWA|downloaded", want{parser.Info, "piecestore", "downloaded", parser.KindTransferOutcome, parser.GET, parser.Success, "", "2019-05-25T15:13:32.843Z", 0}},
		// 2019, compose prefix and SatelliteID
		{"NPXIDFKNKUWAFW6ET2SP4I6YUKQB27YD47XG5YZC6FOTQUKKYDNQ|downloaded", want{parser.Info, "piecestore", "downloaded", parser.KindTransferOutcome, parser.GETAudit, parser.Success, ap1, "2019-07-11T04:59:31.39Z", 0}},
		// 2019: failures logged at INFO
		{"2SHHLFJNSABYOVKKS3ACW2HKKMZMOHPEKERDEBPGEEDHRAKUVTUA|download failed", want{parser.Info, "piecestore", "download failed", parser.KindTransferOutcome, parser.GET, parser.Failed, "118UWpMCHzs6CvSgWd9BfFVjw5K9pZbJjkfZJexMtSkmKxvvAW", "2019-12-17T16:22:54.533Z", 0}},
		// 2020, +0300 with real TABs
		{"GUL2U3XP4KADXW32C7UN54WKFIKN52JS7BJ4RHKWIHQSB44QI7ZQ|uploaded", want{parser.Info, "piecestore", "uploaded", parser.KindTransferOutcome, parser.PUT, parser.Success, eu1, "2020-01-21T07:31:18.986Z", 0}},
		// 2021 JSON encoding
		{"H5MHLOAWQBOZKVABCF5SXROFFON2HSKZNSMFJSICIRDEFNRKZVBA|download started", want{parser.Info, "piecestore", "download started", parser.KindTransferStarted, parser.GET, 0, slc, "2021-02-04T15:47:50.24Z", 0}},
		// 2022, grep -r prefix
		{"NMZHCO4U2O2AMA5P56OWYVUAJKYL5ARKOJIRVZ4YXYF3EQJCWL2Q|download failed", want{parser.Error, "piecestore", "download failed", parser.KindTransferOutcome, parser.GETAudit, parser.Failed, us1, "2022-08-27T03:00:13.361Z", 0}},
		// 2024 Windows service, no process field
		{"MQN2PAHQJAUTWJFZAB3PS64LHKD43CIAYZDFLTK5SNOYX3JF2EGA|downloaded", want{parser.Info, "piecestore", "downloaded", parser.KindTransferOutcome, parser.GETAudit, parser.Success, ap1, "2024-07-07T02:35:06Z", 256}},
		// 2025 docker
		{"G55JQHFQYHGF63SEVF2Y2WE3IX62NLD7LSHDRQR52TRKQCOSTJ4Q|download canceled", want{parser.Info, "piecestore", "download canceled", parser.KindTransferOutcome, parser.GET, parser.Canceled, us1, "2025-12-21T15:23:00Z", 7936}},
		{"VKEVYEKTPFUNEGQWKX56S4QILEOXOQFE7IZMGZS2TVPPIQRPN5UQ|upload canceled", want{parser.Info, "piecestore", "upload canceled", parser.KindTransferOutcome, parser.PUT, parser.Canceled, us1, "2025-12-21T15:43:38Z", 2293760}},
	} {
		ev, ok := byKey[tt.key]
		if !ok {
			t.Errorf("no line for %s", tt.key)
			continue
		}
		check(t, ev, tt.want)
	}
}

func firstPiece(line string) string {
	for _, k := range []string{`"Piece ID": "`, `"Piece ID":"`, `"piece_id": "`} {
		if i := strings.Index(line, k); i >= 0 {
			rest := line[i+len(k):]
			if j := strings.IndexByte(rest, '"'); j >= 0 {
				return rest[:j]
			}
		}
	}
	return ""
}

// The DEBUG sample of the predecessor: every line but the stray shell
// prompt at its end parses, and its transfer lines classify as they should.
func TestSeedSample(t *testing.T) {
	t.Parallel()
	kinds := map[parser.Kind]int{}
	unparsed := 0
	for _, l := range publishedLines(t, "seed-sample.log") {
		ev, err := parser.Parse([]byte(l))
		if err != nil {
			unparsed++
			continue
		}
		kinds[ev.Kind]++
	}
	if unparsed != 1 {
		t.Errorf("unparsed %d, want 1 (the shell prompt)", unparsed)
	}
	want := map[parser.Kind]int{parser.KindTransferStarted: 15, parser.KindTransferOutcome: 43, parser.KindReputation: 6,
		parser.KindCompaction: 12, parser.KindTrash: 6, parser.KindExpired: 6, parser.KindRetain: 2, parser.KindFilewalker: 8}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%v: %d, want %d", k, kinds[k], n)
		}
	}
}

// Parse does not keep the line: changing the buffer after the call does not
// change the event.
func TestNoAlias(t *testing.T) {
	t.Parallel()
	buf := []byte(strings.Replace(current, "uploaded", "upload failed", 1) + ", \"error\": \"x\"}")
	buf = bytes.Replace(buf, []byte("32512}, "), []byte("32512, "), 1)
	ev := mustParse(t, string(buf))
	before := ev
	ev2, err := parser.Parse(buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 'X'
	}
	if ev2.PieceID != before.PieceID || ev2.Satellite != before.Satellite || ev2.Error != "x" || ev2.Logger != "piecestore" || ev2.Message != "upload failed" {
		t.Errorf("event changed with its line: %+v", ev2)
	}
}

// A Parser kept from line to line reads every line as Parse does, whatever
// came before it (its scratch space is not zeroed between lines), and with
// CountOnly differs only in Remote and in the piece IDs rule 5 does not need.
func TestParserReused(t *testing.T) {
	var lines []string
	for _, name := range []string{"real-lines.txt", "seed-sample.log"} {
		lines = append(lines, publishedLines(t, name)...)
	}
	lines = append(lines, benchLines...)
	if len(lines) < 100 {
		t.Fatalf("only %d lines", len(lines))
	}
	var p parser.Parser
	lean := parser.Parser{CountOnly: true}
	var leanIDs int
	remotes := 0
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 3 {
		order := r.Perm(len(lines))
		if round == 0 {
			for i := range order {
				order[i] = i
			}
		}
		for _, i := range order {
			line := []byte(lines[i])
			want, werr := parser.Parse(line)
			got, gerr := p.Parse(line)
			if fmt.Sprint(werr) != fmt.Sprint(gerr) || !reflect.DeepEqual(want, got) {
				t.Fatalf("line %d after line %d:\n%+v %v\nwant %+v %v", i, order[max(0, i-1)], got, gerr, want, werr)
			}
			got, gerr = lean.Parse(line)
			if want.Remote.IsValid() {
				remotes++
			}
			want.Remote = netip.AddrPort{}
			if got.PieceID != "" && want.Kind == parser.KindTransferOutcome {
				leanIDs++
			}
			if !want.RaceLost &&
				!(want.Level == parser.Debug && (want.Message == "download canceled" || want.Message == "upload failed")) {
				want.PieceID = ""
			}
			if fmt.Sprint(werr) != fmt.Sprint(gerr) || !reflect.DeepEqual(want, got) {
				t.Fatalf("CountOnly, line %d:\n%+v %v\nwant %+v %v", i, got, gerr, want, werr)
			}
		}
	}
	if remotes == 0 || leanIDs == 0 {
		t.Fatalf("%d lines with a remote address, %d outcomes keeping their piece ID under CountOnly: the test checks too little", remotes, leanIDs)
	}
}
