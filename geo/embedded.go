package geo

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// EmbeddedSource is what Source reports when the embedded fallback
// database is in use.
const EmbeddedSource = "embedded geo-whois-asn-country (CC BY 4.0, NRO)"

// embeddedFile is the path of the database inside the package, written by
// refresh.sh.
const embeddedFile = "data/geo-whois-asn-country.mmdb"

// embeddedMMDB is the database as it stands in the binary: stored
// uncompressed, it is read in place, from pages of the executable the
// kernel loads as lookups touch them. Nothing is decompressed at start
// (gunzipping it took 0.1-0.15 s of every serve's and ingest's start), and
// none of it is in the Go heap, so it counts neither toward the collector's
// goal nor toward a soft memory limit.
//
//go:embed data/geo-whois-asn-country.mmdb
var embeddedMMDB []byte

//go:embed data/VERSION
var embeddedVersion string

// EmbeddedVersion is the npm version of
// @ip-location-db/geo-whois-asn-country-mmdb that the embedded fallback
// database was taken from; its last ten digits are the build date and hour
// (YYYYMMDDHH, UTC).
func EmbeddedVersion() string { return strings.TrimSpace(embeddedVersion) }

// openEmbedded opens the fallback database from memory.
func openEmbedded() (backend, error) {
	if len(embeddedMMDB) == 0 {
		return nil, errors.New("geo: the embedded database is missing (run geo/refresh.sh)")
	}
	r, err := maxminddb.OpenBytes(embeddedMMDB)
	if err != nil {
		return nil, fmt.Errorf("geo: embedded database %s is not a MaxMind DB: %w", embeddedFile, err)
	}
	return newCountryCodeBackend(r), nil
}
