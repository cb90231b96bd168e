package pipeline_test

import (
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/pipeline"
)

func TestParseNodeSpec(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]pipeline.NodeSpec{
		"My-Node:/var/log/storagenode.log":                        {Name: "My-Node", Source: "/var/log/storagenode.log", Kind: pipeline.SourceFile},
		"My-Node:/var/log/storagenode.log:http://localhost:14002": {Name: "My-Node", Source: "/var/log/storagenode.log", Kind: pipeline.SourceFile, API: "http://localhost:14002"},
		`Win:C:\Program Files\Storj\Storage Node\storagenode.log`: {Name: "Win", Source: `C:\Program Files\Storj\Storage Node\storagenode.log`, Kind: pipeline.SourceFile},
		`Win:C:\logs\node.log:http://127.0.0.1:14002`:             {Name: "Win", Source: `C:\logs\node.log`, Kind: pipeline.SourceFile, API: "http://127.0.0.1:14002"},
		"Remote:192.168.1.10:9999":                                {Name: "Remote", Source: "192.168.1.10:9999", Kind: pipeline.SourceTCP},
		"Remote:nas.local:9999:https://nas.local:14002":           {Name: "Remote", Source: "nas.local:9999", Kind: pipeline.SourceTCP, API: "https://nas.local:14002"},
		"V6:[2001:db8::1]:9999":                                   {Name: "V6", Source: "[2001:db8::1]:9999", Kind: pipeline.SourceTCP},
		"Piped:-":                                                 {Name: "Piped", Source: "-", Kind: pipeline.SourceStdin},
		"Rel:node.log":                                            {Name: "Rel", Source: "node.log", Kind: pipeline.SourceFile},
	} {
		got, err := pipeline.ParseNodeSpec(in)
		if err != nil || got != want {
			t.Errorf("ParseNodeSpec(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, s := range []string{"A:127.0.0.1:9999", "A:nas:9999", "A:[::1]:9999", "A:/var/log/node.log", `A:C:\logs\node.log`, "A:-",
		"A:127.0.0.1:9999:http://127.0.0.1:14002"} {
		if _, err := pipeline.ParseNodeSpec(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, bad := range []string{"", "NoSource", ":x", "A:", "A::http://x"} {
		if _, err := pipeline.ParseNodeSpec(bad); err == nil {
			t.Errorf("ParseNodeSpec(%q) accepted", bad)
		}
	}
}
