// Command gen writes the Grafana dashboards of grafana/ from the builders of
// grafana/internal/gen:
//
//	go run ./grafana/gen -out grafana
//
// or `go generate ./grafana`. With -check it writes nothing and exits 1 when
// a committed file differs from the generated one.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/storagenode-exporter/storagenode-exporter/grafana/internal/gen"
)

func main() {
	out := flag.String("out", "grafana", "directory to write the dashboard JSON files to")
	check := flag.Bool("check", false, "only report files that are not up to date")
	flag.Parse()
	if err := run(*out, *check); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string, check bool) error {
	files, err := gen.Dashboards()
	if err != nil {
		return err
	}
	stale := 0
	for _, f := range files {
		path := filepath.Join(dir, f.Name)
		if check {
			old, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(old, f.JSON) {
				fmt.Fprintf(os.Stderr, "%s is not up to date\n", path)
				stale++
			}
			continue
		}
		if err := os.WriteFile(path, f.JSON, 0o644); err != nil {
			return err
		}
	}
	if stale > 0 {
		return fmt.Errorf("%d file(s) not up to date: run go generate ./grafana", stale)
	}
	return nil
}
