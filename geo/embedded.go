package geo

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/oschwald/maxminddb-golang/v2"
)

// EmbeddedSource is what Source reports when the embedded fallback
// database is in use.
const EmbeddedSource = "embedded geo-whois-asn-country (CC BY 4.0, NRO)"

// embeddedFile is the path of the compressed database inside the package,
// written by refresh.sh.
const embeddedFile = "data/geo-whois-asn-country.mmdb.gz"

//go:embed data/geo-whois-asn-country.mmdb.gz
var embeddedGzip []byte

//go:embed data/VERSION
var embeddedVersion string

// EmbeddedVersion is the npm version of
// @ip-location-db/geo-whois-asn-country-mmdb that the embedded fallback
// database was taken from; its last ten digits are the build date and hour
// (YYYYMMDDHH, UTC).
func EmbeddedVersion() string { return strings.TrimSpace(embeddedVersion) }

// maxEmbeddedSize bounds decompression (the database is about 8 MB).
const maxEmbeddedSize = 256 << 20

// embeddedDB decompresses the embedded database on first use and keeps the
// result for the life of the process; every Lookup on the fallback shares
// it read-only.
var embeddedDB = sync.OnceValues(func() ([]byte, error) {
	return gunzip(embeddedGzip)
})

func gunzip(gz []byte) ([]byte, error) {
	if len(gz) == 0 {
		return nil, errors.New("embedded database is missing (run geo/refresh.sh)")
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("embedded database %s: %w", embeddedFile, err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	buf.Grow(8 << 20)
	n, err := io.Copy(&buf, io.LimitReader(zr, maxEmbeddedSize+1))
	if err != nil {
		return nil, fmt.Errorf("embedded database %s: %w", embeddedFile, err)
	}
	if n > maxEmbeddedSize {
		return nil, fmt.Errorf("embedded database %s: larger than %d bytes", embeddedFile, maxEmbeddedSize)
	}
	return buf.Bytes(), nil
}

// openEmbedded opens the fallback database from memory.
func openEmbedded() (backend, error) {
	data, err := embeddedDB()
	if err != nil {
		return nil, fmt.Errorf("geo: %w", err)
	}
	r, err := maxminddb.OpenBytes(data)
	if err != nil {
		return nil, fmt.Errorf("geo: embedded database %s is not a MaxMind DB: %w", embeddedFile, err)
	}
	return &countryCodeBackend{r: r}, nil
}
