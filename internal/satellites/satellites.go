// Package satellites is the one table of the public Storj satellites: their
// node IDs, the names the exporter gives them as the satellite label, and
// whether they serve traffic today (docs/log-formats.md §5.1). The parser
// names satellites with it, the exporter pre-creates the active ones'
// series from it, and the log generator writes their IDs; nothing keeps a
// second copy.
//
// It also owns what a satellite ID may become as a metric label (id.go):
// ValidID checks a node ID as Storj does (base58 with a version byte and a
// checksum), and a node's Labels keep the label values bounded however many
// IDs its log or API names.
package satellites

// Satellite is a public satellite.
type Satellite struct {
	ID     string // node ID, as logs and the node API give it
	Name   string // the satellite label's value
	Active bool   // false: decommissioned, still in old logs
}

// all lists the public satellites, the active ones first.
var all = []Satellite{
	{"12EayRS2V1kEsWESU9QMRseFhdxYxKicsiFmxrsLZHeLUtdps3S", "us1", true},
	{"12L9ZFwhzVpuEKMUNUqkaTLGzwY9G24tbiigLiXpmZWKwmcNDDs", "eu1", true},
	{"121RTSDpyNZVcEU84Ticf2L1ntiuUimbWgfATz21tuvgk3vzoA6", "ap1", true},
	{"1wFTAgs9DP5RSnCqKV1eLf6N9wtk4EAtmN5DpSxcs8EjT69tGE", "saltlake", true},
	{"12tRQrMTWUWwzwGh18i7Fqs67kmdhH9t6aToeiwbo5mfS2rUmo", "us2", false},
	{"12rfG3sh9NCWiX3ivPjq2HtdLmbqCrvHVEzJubnzFzosMuawymB", "europe-north-1", false},
	{"118UWpMCHzs6CvSgWd9BfFVjw5K9pZbJjkfZJexMtSkmKxvvAW", "stefan-benten", false},
}

var byID = func() map[string]string {
	m := make(map[string]string, len(all))
	for _, s := range all {
		m[s.ID] = s.Name
	}
	return m
}()

// All returns every public satellite, the active ones first (us1, eu1,
// ap1, saltlake), then the decommissioned ones.
func All() []Satellite { return append([]Satellite(nil), all...) }

// Active returns the satellites that serve traffic today: us1, eu1, ap1,
// saltlake, in that order.
func Active() []Satellite {
	var out []Satellite
	for _, s := range all {
		if s.Active {
			out = append(out, s)
		}
	}
	return out
}

// Name returns the name of a satellite ID ("us1"), or the ID itself when it
// is not a public satellite. "" stays "".
func Name(id string) string {
	if n, ok := byID[id]; ok {
		return n
	}
	return id
}
