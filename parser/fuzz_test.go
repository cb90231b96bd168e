package parser_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// FuzzParse: no input panics, and an event only ever comes from a line with
// a valid header (a level, and a time unless the line is JSON-encoded or
// written without a time column).
func FuzzParse(f *testing.F) {
	for _, name := range []string{"real-lines.txt", "seed-sample.log"} {
		for _, l := range publishedLines(f, name) {
			f.Add([]byte(l))
		}
	}
	for _, l := range []string{
		current, current + "\r\n", strings.ReplaceAll(current, "\t", "#011"), strings.ReplaceAll(current, "\t", "   "),
		"Sep  5 14:20:31 nas storagenode[123]: " + current, "2026-09-05T14:20:31.123456789Z " + current,
		"INFO\tpiecestore\tuploaded", `{"L":"INFO","T":"2026-09-05T14:20:31Z","M":"x","a":[1,{"b":null}]}`,
		"2022-01-02 03:04:05,123 INFO spawned: 'storagenode' with pid 42",
	} {
		f.Add([]byte(l))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		orig := bytes.Clone(line)
		ev, err := parser.Parse(line)
		if !bytes.Equal(orig, line) {
			t.Fatal("Parse changed its input")
		}
		if err != nil {
			if ev.Level != parser.LevelNone || ev.Message != "" || ev.Kind != parser.KindGeneric {
				t.Fatalf("an event with an error: %+v", ev)
			}
			return
		}
		if ev.Level == parser.LevelNone {
			t.Fatalf("event without a level: %q", line)
		}
		norm := line
		if bytes.IndexByte(line, '\t') < 0 {
			norm = bytes.ReplaceAll(line, []byte("#011"), []byte("\t"))
		}
		if ev.Time.IsZero() && !bytes.Contains(line, []byte("{")) && !bytes.HasPrefix(norm, []byte(ev.Level.String()+"\t")) {
			t.Fatalf("event without a header: %q -> %+v", line, ev)
		}
		if ev.Kind == parser.KindTransferOutcome && ev.Result == parser.ResultNone {
			t.Fatalf("outcome without result: %q", line)
		}
		// the same line parses the same way twice (no hidden state)
		ev2, err2 := parser.Parse(line)
		if err2 != nil || ev2.Message != ev.Message || ev2.Kind != ev.Kind || ev2.Result != ev.Result || !ev2.Time.Equal(ev.Time) {
			t.Fatalf("second parse differs: %+v vs %+v (%v)", ev, ev2, err2)
		}
	})
}

var benchLines = []string{
	current,
	"2026-09-05T14:20:32Z\tINFO\tpiecestore\tdownloaded\t{\"process\": \"storagenode\", \"piece_id\": \"QHDD2YN7WG7JNBOFX3PJZ5FZQM423KWU3JLHML5KRFWCNAO7MRJQ\", \"satellite_id\": \"" + slc + "\", \"action\": \"GET\", \"offset\": 0, \"size\": 181504, \"remote_address\": \"79.127.219.46:58210\"}",
	"2026-09-05T14:20:33Z\tINFO\tpiecestore\tdownload canceled\t{\"process\": \"storagenode\", \"piece_id\": \"G55JQHFQYHGF63SEVF2Y2WE3IX62NLD7LSHDRQR52TRKQCOSTJ4Q\", \"satellite_id\": \"" + us1 + "\", \"action\": \"GET\", \"offset\": 0, \"size\": 7936, \"remote_address\": \"172.17.0.1:48620\", \"reason\": \"downloaded size (0 bytes) does not match received message size (7936 bytes)\"}",
	"2026-09-05T14:20:34Z\tINFO\torders\tfinished\t{\"process\": \"storagenode\", \"satellite_id\": \"" + eu1 + "\", \"count\": 461}",
}

func BenchmarkParse(b *testing.B) {
	lines := make([][]byte, len(benchLines))
	size := 0
	for i, l := range benchLines {
		lines[i] = []byte(l)
		size += len(l) + 1
	}
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := parser.Parse(lines[i%len(lines)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// Lines that are not storagenode lines cost no allocation.
func BenchmarkParseUnparsed(b *testing.B) {
	line := []byte("alex@puffin ~/Library/Mobile Documents/com~apple~CloudDocs/Projects [phase8] %")
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = parser.Parse(line)
	}
}
