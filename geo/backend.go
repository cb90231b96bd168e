package geo

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"sync"

	"github.com/oschwald/geoip2-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2"
)

// backend answers country lookups for normalized, non-reserved addresses.
// Implementations must be safe for concurrent use.
type backend interface {
	country(netip.Addr) (code, error)
	close() error
}

// geoip2Backend reads MaxMind GeoIP2/GeoLite2 and DB-IP City or Country
// databases through geoip2-golang. It uses the country where the address
// is located and falls back to the registered country when the former is
// absent (e.g. some anycast or satellite ranges).
type geoip2Backend struct {
	r *geoip2.Reader
}

func (b *geoip2Backend) country(a netip.Addr) (code, error) {
	rec, err := b.r.Country(a)
	if err != nil {
		return codeUnknown, err
	}
	if c := parseCode(rec.Country.ISOCode); c != codeUnknown {
		return c, nil
	}
	return parseCode(rec.RegisteredCountry.ISOCode), nil
}

func (b *geoip2Backend) close() error { return b.r.Close() }

// countryCodeBackend reads databases whose records are maps with a
// "country_code" string, such as the ip-location-db family (the embedded
// fallback) and IPinfo Lite.
type countryCodeBackend struct {
	r *maxminddb.Reader
	// byOffset holds the code of each record decoded so far, by its offset
	// in the database: networks share few records (one per country in
	// the embedded database), and decoding one is most of a lookup's cost.
	// At most maxRecordCodes are kept, whatever the database.
	mu       sync.RWMutex
	byOffset map[uintptr]code
}

// maxRecordCodes bounds countryCodeBackend.byOffset (about 1 MB).
const maxRecordCodes = 1 << 15

type countryCodeRecord struct {
	CountryCode string `maxminddb:"country_code"`
}

func newCountryCodeBackend(r *maxminddb.Reader) *countryCodeBackend {
	return &countryCodeBackend{r: r, byOffset: map[uintptr]code{}}
}

func (b *countryCodeBackend) country(a netip.Addr) (code, error) {
	res := b.r.Lookup(a)
	if err := res.Err(); err != nil {
		return codeUnknown, err
	}
	if !res.Found() {
		return codeUnknown, nil
	}
	off := res.Offset()
	b.mu.RLock()
	c, ok := b.byOffset[off]
	b.mu.RUnlock()
	if ok {
		return c, nil
	}
	var rec countryCodeRecord
	if err := res.Decode(&rec); err != nil {
		return codeUnknown, err
	}
	c = parseCode(rec.CountryCode)
	b.mu.Lock()
	if len(b.byOffset) < maxRecordCodes {
		b.byOffset[off] = c
	}
	b.mu.Unlock()
	return c, nil
}

func (b *countryCodeBackend) close() error { return b.r.Close() }

// probeRecords is how many networks openFile decodes, for a database type
// geoip2-golang does not know, before deciding it has no country_code data.
const probeRecords = 64

// openFile opens the mmdb at path. Errors name the file and say why it
// cannot be used; a missing file's error wraps fs.ErrNotExist.
func openFile(path string) (backend, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("geo: %s: database file does not exist: %w", path, err)
	case err != nil:
		return nil, fmt.Errorf("geo: %s: %w", path, err)
	case fi.IsDir():
		return nil, fmt.Errorf("geo: %s: is a directory, not an mmdb file", path)
	case fi.Size() == 0:
		return nil, fmt.Errorf("geo: %s: empty file, not a MaxMind DB (mmdb)", path)
	}

	r, err := geoip2.Open(path)
	var unknownType geoip2.UnknownDatabaseTypeError
	switch {
	case errors.As(err, &unknownType):
		if r != nil {
			_ = r.Close()
		}
		return openCountryCode(path, unknownType.DatabaseType)
	case err != nil:
		if r != nil {
			_ = r.Close()
		}
		var invalid maxminddb.InvalidDatabaseError
		if errors.As(err, &invalid) {
			return nil, fmt.Errorf("geo: %s: not a MaxMind DB (mmdb) file: %w", path, err)
		}
		return nil, fmt.Errorf("geo: %s: cannot open: %w", path, err)
	}

	// Known type: make sure it supports country lookups (City, Country,
	// Enterprise do; ASN, ISP, Domain, Anonymous-IP ... do not).
	probe := netip.IPv4Unspecified()
	if r.Metadata().IPVersion == 6 {
		probe = netip.IPv6Unspecified()
	}
	if _, err := r.Country(probe); err != nil {
		var invalid geoip2.InvalidMethodError
		dbType := r.Metadata().DatabaseType
		_ = r.Close()
		if errors.As(err, &invalid) {
			return nil, fmt.Errorf("geo: %s: database type %q has no country data", path, dbType)
		}
		return nil, fmt.Errorf("geo: %s: database type %q: lookup failed: %w", path, dbType, err)
	}
	return &geoip2Backend{r: r}, nil
}

// openCountryCode opens a database of a type geoip2-golang does not know
// and accepts it if its records carry "country_code".
func openCountryCode(path, dbType string) (backend, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geo: %s: cannot open: %w", path, err)
	}
	n := 0
	for res := range r.Networks() {
		if n++; n > probeRecords {
			break
		}
		var rec countryCodeRecord
		if res.Decode(&rec) == nil && parseCode(rec.CountryCode) != codeUnknown {
			return newCountryCodeBackend(r), nil
		}
	}
	_ = r.Close()
	return nil, fmt.Errorf("geo: %s: database type %q has no country data (neither a GeoIP2/GeoLite2/DB-IP City or Country database nor records with country_code)", path, dbType)
}
