// Package geo maps remote peer IP addresses to ISO 3166-1 alpha-2 country
// codes (upper case) for the exporter's world-map panel.
//
// Lookups use, in this order: the mmdb given in Options.Path; else the
// best MaxMind GeoIP2/GeoLite2 or DB-IP City/Country database found in
// Options.SearchDirs (see DefaultSearchDirs and README.md); else a
// country database embedded in the binary (geo-whois-asn-country from
// ip-location-db, CC BY 4.0 by the NRO; see README.md), so the map works
// without any sign-up.
//
// Private, loopback, link-local, multicast, CGNAT, documentation and other
// reserved addresses are answered "ZZ" without consulting the database, as
// are addresses the database does not know. Answers are kept in a bounded
// LRU cache.
package geo

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
)

// DefaultCacheSize is the number of addresses cached when
// Options.CacheSize is 0 (about 7 MiB when full).
const DefaultCacheSize = 65536

// Options configures Open.
type Options struct {
	// Path is an explicit mmdb file. "" means: discover one in SearchDirs,
	// else use the embedded fallback. An explicit Path that cannot be used
	// is an error; there is no fallback then.
	Path string
	// SearchDirs are searched when Path is "". nil means
	// DefaultSearchDirs(); an empty non-nil slice disables discovery.
	SearchDirs []string
	// CacheSize is the LRU capacity in addresses. 0 means
	// DefaultCacheSize; a negative value disables the cache.
	CacheSize int
}

// Lookup resolves addresses to country codes. It is safe for concurrent
// use. Create it with Open and release it with Close.
type Lookup struct {
	source  string
	skipped []error

	bmu    sync.RWMutex // guards b against Close during a lookup
	b      backend      // nil once closed
	closed atomic.Bool

	mu    sync.Mutex // guards cache
	cache *lru       // nil when disabled

	hits, misses, reserved, errs atomic.Uint64
}

// Stats are counters since Open.
type Stats struct {
	Hits      uint64 // answered from the cache
	Misses    uint64 // answered by the database (every lookup when the cache is disabled)
	Evictions uint64 // cache entries dropped to stay within Capacity
	Reserved  uint64 // reserved/private/invalid addresses answered "ZZ" without lookup
	Errors    uint64 // database lookups that failed (answered "ZZ", not cached)
	Entries   int    // addresses currently cached
	Capacity  int    // cache capacity; 0 when disabled
}

// Open opens the database chosen as described for Options. A returned
// error names the file and why it cannot be used (missing, not an mmdb, no
// country data). During discovery a candidate that cannot be used is
// skipped (see Skipped) and the next one is tried.
func Open(opts Options) (*Lookup, error) {
	l := &Lookup{}
	switch {
	case opts.CacheSize == 0:
		l.cache = newLRU(DefaultCacheSize)
	case opts.CacheSize > 0:
		l.cache = newLRU(opts.CacheSize)
	}

	if opts.Path != "" {
		b, err := openFile(opts.Path)
		if err != nil {
			return nil, err
		}
		l.b, l.source = b, opts.Path
		return l, nil
	}

	dirs := opts.SearchDirs
	if dirs == nil {
		dirs = DefaultSearchDirs()
	}
	for _, p := range candidates(dirs) {
		b, err := openFile(p)
		if err != nil {
			l.skipped = append(l.skipped, err)
			continue
		}
		l.b, l.source = b, p
		return l, nil
	}

	b, err := openEmbedded()
	if err != nil {
		if len(l.skipped) > 0 {
			err = errors.Join(append([]error{err}, l.skipped...)...)
		}
		return nil, fmt.Errorf("no usable GeoIP database in %q and no embedded fallback: %w", dirs, err)
	}
	l.b, l.source = b, EmbeddedSource
	return l, nil
}

// Country returns the upper-case ISO 3166-1 alpha-2 code for addr, or "ZZ"
// when addr is invalid, reserved (see IsReserved), unknown to the
// database, or the Lookup is closed.
func (l *Lookup) Country(addr netip.Addr) string {
	a := normalize(addr)
	if isReservedNormalized(a) {
		l.reserved.Add(1)
		return Unknown
	}
	if l.closed.Load() {
		return Unknown
	}
	if l.cache != nil {
		l.mu.Lock()
		c, ok := l.cache.get(a)
		l.mu.Unlock()
		if ok {
			l.hits.Add(1)
			return c.String()
		}
	}
	l.misses.Add(1)

	l.bmu.RLock()
	if l.b == nil {
		l.bmu.RUnlock()
		return Unknown
	}
	c, err := l.b.country(a)
	l.bmu.RUnlock()
	if err != nil {
		l.errs.Add(1)
		return Unknown
	}

	if l.cache != nil {
		l.mu.Lock()
		l.cache.add(a, c)
		l.mu.Unlock()
	}
	return c.String()
}

// Source describes the database in use: its path, or EmbeddedSource.
func (l *Lookup) Source() string { return l.source }

// Skipped returns the errors for discovered database files that could not
// be used, in the order they were tried; each names its file. Callers may
// log them as warnings.
func (l *Lookup) Skipped() []error { return append([]error(nil), l.skipped...) }

// Stats returns the lookup counters.
func (l *Lookup) Stats() Stats {
	s := Stats{
		Hits:     l.hits.Load(),
		Misses:   l.misses.Load(),
		Reserved: l.reserved.Load(),
		Errors:   l.errs.Load(),
	}
	if l.cache != nil {
		l.mu.Lock()
		s.Evictions = l.cache.evictions
		s.Entries = l.cache.len()
		s.Capacity = l.cache.capacity
		l.mu.Unlock()
	}
	return s
}

// Close releases the database. Country answers "ZZ" afterwards. Calling
// Close more than once is harmless.
func (l *Lookup) Close() error {
	l.closed.Store(true)
	l.bmu.Lock()
	b := l.b
	l.b = nil
	l.bmu.Unlock()
	if b == nil {
		return nil
	}
	return b.close()
}
