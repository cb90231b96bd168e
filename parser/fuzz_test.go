package parser_test

import (
	"bytes"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

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

var callerRE = regexp.MustCompile(`^[A-Za-z0-9_./-]+\.go:[0-9]+$`)

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

// FuzzLineClass: every line is exactly one of blank, an event, a foreign line
// or unparsed with a reason; nothing is dropped without one. And a transfer
// written with TAB columns is the same transfer when its TABs are runs of
// spaces, with or without the caller column.
func FuzzLineClass(f *testing.F) {
	for _, name := range []string{"real-lines.txt", "seed-sample.log"} {
		for _, l := range publishedLines(f, name) {
			f.Add([]byte(l))
		}
	}
	f.Add([]byte("2025-12-21T15:43:38Z\tINFO\tpiecestore\tpiecestore/endpoint.go:300\tupload canceled\t{\"Satellite ID\": \"" + us1 + "\", \"Action\": \"PUT\"}"))
	f.Add([]byte("2022-01-02 03:04:05,123 INFO spawned: 'storagenode' with pid 42"))
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := parser.Parse(line)
		blank := len(bytes.TrimSpace(line)) == 0
		var se *parser.SyntaxError
		switch {
		case err == nil:
			if blank || ev.Level == parser.LevelNone {
				t.Fatalf("an event from a blank line or without a level: %q -> %+v", line, ev)
			}
		case errors.Is(err, parser.ErrBlank):
			if !blank {
				t.Fatalf("a non-blank line taken as blank: %q", line)
			}
		case errors.As(err, &se):
			if blank || !slices.Contains(parser.Reasons, se.Reason) {
				t.Fatalf("unparsed without a known reason (%v): %q", se.Reason, line)
			}
		default:
			t.Fatalf("neither event, blank nor unparsed: %q -> %v", line, err)
		}
		if err != nil || ev.Kind != parser.KindTransferOutcome {
			return
		}
		cols := strings.Split(string(line), "\t")
		if (len(cols) != 5 && len(cols) != 6) || !strings.HasPrefix(cols[len(cols)-1], `{"`) {
			return
		}
		for _, c := range cols[:len(cols)-1] {
			if c == "" || strings.TrimSpace(c) != c || strings.ContainsAny(c, "{}\r\n#") || strings.Contains(c, "  ") {
				return // a shape spaces cannot keep apart
			}
		}
		if !unicode.IsDigit(rune(cols[0][0])) || strings.Contains(cols[0], " ") {
			return // a prefix before the time
		}
		if len(cols) == 6 && !callerRE.MatchString(cols[3]) {
			return // with TABs any fourth column is the caller; with spaces only a caller is
		}
		for _, sep := range []string{" ", "    ", "      "} {
			spaced := strings.Join(cols, sep)
			ev2, err := parser.Parse([]byte(spaced))
			if err != nil || ev2.Kind != ev.Kind || ev2.Result != ev.Result || ev2.Action != ev.Action || ev2.Satellite != ev.Satellite {
				t.Fatalf("TABs as spaces differ:\n%q -> %v %v %v %q\n%q -> %v %v %v %q (%v)", line, ev.Kind, ev.Result, ev.Action, ev.Satellite,
					spaced, ev2.Kind, ev2.Result, ev2.Action, ev2.Satellite, err)
			}
		}
	})
}
