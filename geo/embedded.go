package geo

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
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
// it read-only. The result lives outside the Go heap where the platform
// allows (offHeap), so that its 8 MB count neither toward the garbage
// collector's goal nor toward a soft memory limit (serve's 40 MiB, ingest's
// 32 MiB), which it would otherwise make the collector run ever more often.
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
	// A gzip member ends with the uncompressed size (ISIZE, RFC 1952), so
	// the memory is taken once, at its size.
	size := int64(binary.LittleEndian.Uint32(gz[len(gz)-4:]))
	if size > maxEmbeddedSize {
		return nil, fmt.Errorf("embedded database %s: larger than %d bytes", embeddedFile, maxEmbeddedSize)
	}
	buf, err := offHeap(int(size))
	if err != nil {
		return nil, fmt.Errorf("embedded database %s: %w", embeddedFile, err)
	}
	if _, err := io.ReadFull(zr, buf); err != nil {
		freeOffHeap(buf)
		return nil, fmt.Errorf("embedded database %s: %w", embeddedFile, err)
	}
	// The end, where the checksum is checked, and nothing beyond the size.
	if n, err := io.Copy(io.Discard, io.LimitReader(zr, 1)); err != nil || n != 0 {
		freeOffHeap(buf)
		if err == nil {
			err = errors.New("longer than its gzip trailer says")
		}
		return nil, fmt.Errorf("embedded database %s: %w", embeddedFile, err)
	}
	return readOnly(buf), nil
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
	return newCountryCodeBackend(r), nil
}
