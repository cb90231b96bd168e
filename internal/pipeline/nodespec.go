package pipeline

import (
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/storagenode-exporter/storagenode-exporter/internal/config"
)

// ParseNodeSpec reads NAME:SOURCE[:API], the predecessor's syntax. SOURCE
// is a file path (Windows paths such as C:\logs\node.log included), a
// host:port log stream, or - for standard input; API is an http(s) URL.
func ParseNodeSpec(s string) (NodeSpec, error) {
	name, rest, ok := strings.Cut(s, ":")
	if !ok || name == "" || rest == "" {
		return NodeSpec{}, fmt.Errorf("--node %q: want NAME:SOURCE[:API]", s)
	}
	spec := NodeSpec{Name: name}
	for _, scheme := range []string{":http://", ":https://"} {
		if i := strings.Index(rest, scheme); i >= 0 {
			spec.API = rest[i+1:]
			rest = rest[:i]
			break
		}
	}
	if rest == "" {
		return NodeSpec{}, fmt.Errorf("--node %q: no log source", s)
	}
	if _, err := os.Stat(rest); err != nil { // a file named like host:port wins
		if msg := config.CheckHostPort(rest); msg != "" {
			return NodeSpec{}, fmt.Errorf("--node %q: %s", s, msg)
		}
	}
	spec.Source, spec.Kind = rest, ClassifySource(rest)
	return spec, nil
}

// ClassifySource tells a log source's kind: "-" is standard input, a path
// (with a separator, or a Windows drive) a file, host:port a TCP stream
// unless a file of that name exists; anything else a file.
func ClassifySource(src string) SourceKind {
	if src == "-" {
		return SourceStdin
	}
	if len(src) >= 3 && src[1] == ':' && (src[2] == '\\' || src[2] == '/') &&
		('a' <= src[0]|0x20 && src[0]|0x20 <= 'z') {
		return SourceFile // C:\... or C:/...
	}
	if strings.ContainsAny(src, `/\`) {
		return SourceFile
	}
	if host, port, err := net.SplitHostPort(src); err == nil && host != "" && isDigits(port) {
		if _, err := os.Stat(src); err != nil { // a file named like host:port wins
			return SourceTCP
		}
	}
	return SourceFile
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
