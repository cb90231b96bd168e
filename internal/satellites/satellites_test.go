package satellites_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/satellites"
)

// The table is the one of docs/log-formats.md §5.1: the same names, IDs and
// states, row for row.
func TestTableIsTheDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/log-formats.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "### 5.1 Public satellites")
	section, _, _ = strings.Cut(section, "\n### ")
	row := regexp.MustCompile("(?m)^\\| ([a-z0-9-]+) \\| `([1-9A-HJ-NP-Za-km-z]{50,51})` \\| [^|]+ \\| ([^|]+) \\|$")
	var want []satellites.Satellite
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		want = append(want, satellites.Satellite{ID: m[2], Name: m[1], Active: strings.HasPrefix(m[3], "active")})
	}
	if len(want) != 7 {
		t.Fatalf("%d rows in the docs' table, want 7:\n%s", len(want), section)
	}
	if got := satellites.All(); !slices.Equal(got, want) {
		t.Errorf("All() = %v\ndocs: %v", got, want)
	}
}

func TestName(t *testing.T) {
	for id, want := range map[string]string{
		"12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S": "us1",
		"118UWpMCHzs6CvSgWd9BfFVjw5K9pZbJjkfZJexMtSkmKxvvAW":  "stefan-benten",
		"1PrivateSatelliteIDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx":   "1PrivateSatelliteIDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		"": "",
	} {
		if got := satellites.Name(id); got != want {
			t.Errorf("Name(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestActive(t *testing.T) {
	var names []string
	for _, s := range satellites.Active() {
		names = append(names, s.Name)
	}
	if want := []string{"us1", "eu1", "ap1", "saltlake"}; !slices.Equal(names, want) {
		t.Errorf("Active() = %v, want %v", names, want)
	}
	// callers cannot change the table
	satellites.All()[0].Name = "changed"
	satellites.Active()[0].Name = "changed"
	if satellites.Name("12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S") != "us1" || satellites.All()[0].Name != "us1" {
		t.Error("the table was changed through a returned slice")
	}
}
