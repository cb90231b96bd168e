package parser_test

import (
	"strings"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/parser"
)

// The caller column (--log.caller, docs/log-formats.md §2.1) sits between the
// logger and the message. Separated by TABs it was always read; separated by
// runs of spaces (a pasted or re-indented log) it used to end up in the
// message, so "upload canceled" was neither a transfer nor unparsed.
func TestCallerColumnWithSpaces(t *testing.T) {
	// testdata/logs/real-lines.txt line 108, with the caller column
	// (docs/log-formats.md §2.1) added.
	const fields = `{"Process": "storagenode", "Piece ID": "VKEVYEKTPFUNEGQWKX56S4QILEOXOQFE7IZMGZS2TVPPIQRPN5UQ", "Satellite ID": "12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S", "Action": "PUT", "Remote Address": "172.17.0.1:53694", "Size": 2293760}`
	tab := "2025-12-21T15:43:38Z\tINFO\tpiecestore\tpiecestore/endpoint.go:300\tupload canceled\t" + fields
	for name, line := range map[string]string{
		"tabs":            tab,
		"runs of spaces":  "2025-12-21T15:43:38Z  INFO    piecestore      piecestore/endpoint.go:300      upload canceled " + fields,
		"4 spaces":        strings.ReplaceAll(tab, "\t", "    "),
		"one space":       strings.ReplaceAll(tab, "\t", " "),
		"modular logger":  "2025-12-21T15:43:38Z  INFO    piecestore:endpoint      piecestore/endpoint.go:300      upload canceled " + fields,
		"unnamed, spaces": "2025-12-21T15:43:38Z  INFO    cmd/storagenode/main.go:120      Configuration loaded",
		"unnamed, tabs":   "2025-12-21T15:43:38Z\tINFO\tcmd/storagenode/main.go:120\tConfiguration loaded",
	} {
		t.Run(name, func(t *testing.T) {
			ev, err := parser.Parse([]byte(line))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if strings.HasPrefix(name, "unnamed") {
				if ev.Message != "Configuration loaded" || ev.Logger != "" {
					t.Fatalf("logger %q message %q, want no logger and %q", ev.Logger, ev.Message, "Configuration loaded")
				}
				return
			}
			if ev.Kind != parser.KindTransferOutcome || ev.Result != parser.Canceled || ev.Action != parser.PUT || ev.Size != 2293760 {
				t.Fatalf("got kind %v result %v action %v size %d message %q, want a canceled PUT of 2293760 bytes",
					ev.Kind, ev.Result, ev.Action, ev.Size, ev.Message)
			}
			if ev.Message != "upload canceled" {
				t.Fatalf("message %q", ev.Message)
			}
		})
	}
}
