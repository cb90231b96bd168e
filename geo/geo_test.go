package geo

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// MaxMind's test databases (Apache-2.0/MIT, see ../testdata/README.md) are
// read in place or copied into t.TempDir().
const testdataDir = "../testdata/geoip"

var testDBs = []string{
	"GeoIP2-City-Test.mmdb",
	"GeoIP2-Country-Test.mmdb",
	"GeoLite2-City-Test.mmdb",
	"GeoLite2-Country-Test.mmdb",
}

func testDB(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(testdataDir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("MaxMind test database missing (expected testdata/geoip at the repository's root): %v", err)
	}
	return p
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustOpen(t testing.TB, opts Options) *Lookup {
	t.Helper()
	l, err := Open(opts)
	if err != nil {
		t.Fatalf("Open(%+v): %v", opts, err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

var ccRE = regexp.MustCompile(`^[A-Z]{2}$`)

// Values read from the MaxMind test databases (country.iso_code).
func TestMaxMindTestDatabases(t *testing.T) {
	cases := []struct {
		addr string
		want string
	}{
		{"2.125.160.216", "GB"},
		{"81.2.69.142", "GB"},
		{"81.2.69.160", "GB"},
		{"216.160.83.56", "US"},
		{"89.160.20.112", "SE"},
		{"67.43.156.1", "BT"},
		{"2001:218::", "JP"},
		{"2001:218::1", "JP"},
		{"2a02:cf40::1", "NO"},
		{"::ffff:81.2.69.142", "GB"}, // IPv4-mapped: unmapped first
		{"8.8.8.8", "ZZ"},            // not in the test data
		{"214.1.1.1", "ZZ"},          // in the test data, but without country
	}
	for _, name := range testDBs {
		t.Run(name, func(t *testing.T) {
			p := testDB(t, name)
			l := mustOpen(t, Options{Path: p})
			if l.Source() != p {
				t.Errorf("Source() = %q, want %q", l.Source(), p)
			}
			for _, c := range cases {
				if got := l.Country(netip.MustParseAddr(c.addr)); got != c.want {
					t.Errorf("Country(%s) = %q, want %q", c.addr, got, c.want)
				}
			}
			// 175.16.199.0/24 is CN in all but the GeoLite2-Country test DB.
			want := "CN"
			if name == "GeoLite2-Country-Test.mmdb" {
				want = "ZZ"
			}
			if got := l.Country(netip.MustParseAddr("175.16.199.1")); got != want {
				t.Errorf("Country(175.16.199.1) = %q, want %q", got, want)
			}
			if len(l.Skipped()) != 0 {
				t.Errorf("Skipped() = %v", l.Skipped())
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()

	missing := filepath.Join(dir, "GeoLite2-Country.mmdb")
	_, err := Open(Options{Path: missing})
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing file: err = %v, want it to name %s and say it does not exist", err, missing)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want errors.Is(err, fs.ErrNotExist)", err)
	}

	garbage := filepath.Join(dir, "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte("this is not a MaxMind database\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.mmdb")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	asn := writeMMDB(t, dir, "asn.mmdb", "GeoLite2-ASN", map[string]any{
		"autonomous_system_number":       mmdbUint32(15169),
		"autonomous_system_organization": "GOOGLE",
	})
	custom := writeMMDB(t, dir, "custom.mmdb", "Custom-Thing", map[string]any{"foo": "bar"})

	for _, c := range []struct {
		path, why string
	}{
		{garbage, "not a MaxMind DB"},
		{empty, "not a MaxMind DB"},
		{dir, "is a directory"},
		{asn, "no country data"},
		{custom, "no country data"},
	} {
		_, err := Open(Options{Path: c.path})
		if err == nil || !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.why) {
			t.Errorf("Open(%s): err = %v, want it to name the file and say %q", c.path, err, c.why)
		}
	}
}

// A database type geoip2-golang does not know is accepted when its
// records carry country_code (the embedded fallback's format), and codes
// are normalized to upper case or ZZ.
func TestOtherDatabaseShapes(t *testing.T) {
	dir := t.TempDir()
	addr := netip.MustParseAddr("8.8.8.8")
	for _, c := range []struct {
		name, dbType string
		rec          map[string]any
		want         string
	}{
		{"cc-lower.mmdb", "country ipvAll", map[string]any{"country_code": "de"}, "DE"},
		{"cc-bad.mmdb", "country ipvAll", map[string]any{"country_code": "DE", "country": "x"}, "DE"},
		{"registered.mmdb", "GeoIP2-Country", map[string]any{
			"registered_country": map[string]any{"iso_code": "FR"},
		}, "FR"},
		{"odd-code.mmdb", "GeoIP2-Country", map[string]any{
			"country": map[string]any{"iso_code": "A1"},
		}, "ZZ"},
		{"long-code.mmdb", "GeoLite2-City", map[string]any{
			"country": map[string]any{"iso_code": "USA"},
		}, "ZZ"},
	} {
		p := writeMMDB(t, dir, c.name, c.dbType, c.rec)
		l := mustOpen(t, Options{Path: p, CacheSize: -1})
		if got := l.Country(addr); got != c.want {
			t.Errorf("%s: Country(%s) = %q, want %q", c.name, addr, got, c.want)
		}
		if got := l.Country(netip.MustParseAddr("2a00:1450::1")); got != c.want {
			t.Errorf("%s: Country(2a00:1450::1) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestParseCode(t *testing.T) {
	for in, want := range map[string]string{
		"US": "US", "us": "US", "gB": "GB", "ZZ": "ZZ", "zz": "ZZ",
		"": "ZZ", "U": "ZZ", "USA": "ZZ", "A1": "ZZ", "--": "ZZ", "É": "ZZ",
	} {
		if got := parseCode(in).String(); got != want {
			t.Errorf("parseCode(%q) = %q, want %q", in, got, want)
		}
	}
	for c := code(0); c < code(len(codeStrings)); c++ {
		s := c.String()
		if s == "ZZ" && c != codeUnknown {
			continue // the letter pair Z,Z is never produced: parseCode maps "ZZ" to codeUnknown
		}
		if !ccRE.MatchString(s) || parseCode(s) != c {
			t.Fatalf("code %d: %q does not round-trip", c, s)
		}
	}
}

func TestCandidatesOrder(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	files := map[string][]string{
		a: {"dbip-city-lite-2025-03.mmdb", "dbip-country-lite-2025-01.mmdb", "GeoLite2-City.mmdb",
			"GeoIP2-City.mmdb", "GeoLite2-ASN.mmdb", "notes.txt", "other.mmdb", "geolite2-country.mmdb"},
		b: {"dbip-country-lite-2025-02.mmdb", "dbip-country-2024-12.mmdb", "GeoLite2-Country.mmdb",
			"GeoIP2-Country.mmdb", "GeoLite2-City.mmdb"},
	}
	for dir, names := range files {
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Mkdir(filepath.Join(a, "GeoLite2-Country.mmdb"), 0o755); err != nil {
		t.Fatal(err) // a directory with a database's name is not a candidate
	}
	got := candidates([]string{a, filepath.Join(a, "missing"), b})
	want := []string{
		filepath.Join(b, "GeoIP2-Country.mmdb"),
		filepath.Join(a, "GeoIP2-City.mmdb"),
		filepath.Join(b, "GeoLite2-Country.mmdb"),
		filepath.Join(a, "GeoLite2-City.mmdb"),
		filepath.Join(b, "GeoLite2-City.mmdb"),
		filepath.Join(b, "dbip-country-2024-12.mmdb"),
		filepath.Join(a, "dbip-country-lite-2025-01.mmdb"),
		filepath.Join(b, "dbip-country-lite-2025-02.mmdb"),
		filepath.Join(a, "dbip-city-lite-2025-03.mmdb"),
	}
	if !slices.Equal(got, want) {
		t.Errorf("candidates:\n got %q\nwant %q", got, want)
	}

	// Within one directory the newest dated file wins.
	c := t.TempDir()
	for _, n := range []string{"dbip-country-lite-2024-11.mmdb", "dbip-country-lite-2025-02.mmdb", "dbip-country-lite-2025-01.mmdb"} {
		if err := os.WriteFile(filepath.Join(c, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := candidates([]string{c}); len(got) != 3 || filepath.Base(got[0]) != "dbip-country-lite-2025-02.mmdb" {
		t.Errorf("dated DB-IP files: %q, want dbip-country-lite-2025-02.mmdb first", got)
	}
}

func TestDiscovery(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	dirs := []string{a, b}
	open := func() *Lookup {
		t.Helper()
		return mustOpen(t, Options{SearchDirs: dirs})
	}

	// Nothing there: embedded fallback.
	if l := open(); l.Source() != EmbeddedSource {
		t.Errorf("empty dirs: Source() = %q, want %q", l.Source(), EmbeddedSource)
	}

	copyFile(t, testDB(t, "GeoLite2-City-Test.mmdb"), filepath.Join(a, "GeoLite2-City.mmdb"))
	if l := open(); l.Source() != filepath.Join(a, "GeoLite2-City.mmdb") {
		t.Errorf("Source() = %q, want the GeoLite2 City file", l.Source())
	}

	// Country beats City of the same edition, even in a later directory.
	copyFile(t, testDB(t, "GeoLite2-Country-Test.mmdb"), filepath.Join(b, "GeoLite2-Country.mmdb"))
	l := open()
	if l.Source() != filepath.Join(b, "GeoLite2-Country.mmdb") {
		t.Errorf("Source() = %q, want the GeoLite2 Country file", l.Source())
	}
	// The GeoLite2-Country test DB has no country for 175.16.199.0/24,
	// the City one does: proves which file answers.
	if got := l.Country(netip.MustParseAddr("175.16.199.1")); got != "ZZ" {
		t.Errorf("Country(175.16.199.1) = %q from %s, want ZZ", got, l.Source())
	}
	if got := l.Country(netip.MustParseAddr("81.2.69.142")); got != "GB" {
		t.Errorf("Country(81.2.69.142) = %q, want GB", got)
	}

	// Commercial GeoIP2 beats GeoLite2.
	copyFile(t, testDB(t, "GeoIP2-City-Test.mmdb"), filepath.Join(a, "GeoIP2-City.mmdb"))
	if l := open(); l.Source() != filepath.Join(a, "GeoIP2-City.mmdb") {
		t.Errorf("Source() = %q, want the GeoIP2 City file", l.Source())
	}

	// A broken preferred candidate is skipped, and reported.
	broken := filepath.Join(b, "GeoIP2-Country.mmdb")
	if err := os.WriteFile(broken, []byte("<html>not found</html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	l = open()
	if l.Source() != filepath.Join(a, "GeoIP2-City.mmdb") {
		t.Errorf("Source() = %q, want the GeoIP2 City file after skipping %s", l.Source(), broken)
	}
	if sk := l.Skipped(); len(sk) != 1 || !strings.Contains(sk[0].Error(), broken) {
		t.Errorf("Skipped() = %v, want one error naming %s", sk, broken)
	}
	if got := l.Country(netip.MustParseAddr("175.16.199.1")); got != "CN" {
		t.Errorf("Country(175.16.199.1) = %q, want CN", got)
	}

	// Only broken candidates: embedded fallback, broken ones reported.
	c := t.TempDir()
	if err := os.WriteFile(filepath.Join(c, "GeoLite2-Country.mmdb"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, Options{SearchDirs: []string{c}})
	if l.Source() != EmbeddedSource || len(l.Skipped()) != 1 {
		t.Errorf("only broken: Source() = %q, Skipped() = %v", l.Source(), l.Skipped())
	}

	// An explicit Path wins over discovery and has no fallback.
	if l := mustOpen(t, Options{Path: testDB(t, "GeoLite2-City-Test.mmdb"), SearchDirs: dirs}); l.Source() != testDB(t, "GeoLite2-City-Test.mmdb") {
		t.Errorf("explicit path: Source() = %q", l.Source())
	}
	if _, err := Open(Options{Path: filepath.Join(a, "nope.mmdb"), SearchDirs: dirs}); err == nil {
		t.Error("explicit missing path: want an error, not a fallback")
	}
}

func TestDiscoveryWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, testDB(t, "GeoIP2-Country-Test.mmdb"), filepath.Join(dir, "GeoIP2-Country.mmdb"))
	t.Chdir(dir)
	l := mustOpen(t, Options{SearchDirs: []string{"."}})
	want, err := filepath.Abs("GeoIP2-Country.mmdb")
	if err != nil {
		t.Fatal(err)
	}
	if l.Source() != want {
		t.Errorf("Source() = %q, want %q", l.Source(), want)
	}
	if got := l.Country(netip.MustParseAddr("2.125.160.216")); got != "GB" {
		t.Errorf("Country = %q, want GB", got)
	}
}

func TestDefaultSearchDirs(t *testing.T) {
	want := []string{"/usr/share/GeoIP", "/var/lib/GeoIP", "."}
	got := DefaultSearchDirs()
	if !slices.Equal(got, want) {
		t.Errorf("DefaultSearchDirs() = %q, want %q", got, want)
	}
	got[0] = "changed"
	if DefaultSearchDirs()[0] != want[0] {
		t.Error("DefaultSearchDirs returns shared state")
	}
}

// Verified against the embedded database (npm version in data/VERSION).
func TestEmbeddedFallback(t *testing.T) {
	l := mustOpen(t, Options{SearchDirs: []string{}})
	if l.Source() != EmbeddedSource {
		t.Fatalf("Source() = %q", l.Source())
	}
	exact := []struct{ addr, want string }{
		{"8.8.8.8", "US"},
		{"1.1.1.1", "AU"},
		{"81.2.69.142", "GB"},
		{"193.0.6.139", "NL"}, // RIPE NCC
		{"2001:4860:4860::8888", "US"},
		{"::ffff:8.8.8.8", "US"},     // IPv4-mapped
		{"64:ff9b::808:808", "US"},   // NAT64 of 8.8.8.8
		{"2002:808:808::1", "US"},    // 6to4 of 8.8.8.8
		{"192.168.1.1", "ZZ"},        // the DB itself says AU here
		{"::ffff:192.168.1.1", "ZZ"}, // ... also when mapped
		{"2002:c0a8:101::1", "ZZ"},   // ... or 6to4-embedded
		{"64:ff9b::c0a8:101", "ZZ"},  // ... or NAT64-embedded
		{"100.64.1.1", "ZZ"},         // CGNAT
		{"10.0.0.1", "ZZ"},
	}
	for _, c := range exact {
		if got := l.Country(netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("Country(%s) = %q, want %q", c.addr, got, c.want)
		}
	}
	// Large allocations: some country, whichever the data says today.
	for _, s := range []string{
		"3.0.0.1", "17.0.0.1", "41.0.0.1", "58.0.0.1", "77.88.8.8", "133.0.0.1",
		"200.160.0.1", "2400:cb00::1", "2a03:2880::1", "2001:43f8::1", "196.216.2.1", "2800:3f0::1",
	} {
		if got := l.Country(netip.MustParseAddr(s)); !ccRE.MatchString(got) || got == "ZZ" {
			t.Errorf("Country(%s) = %q, want a 2-letter country", s, got)
		}
	}
	if v := EmbeddedVersion(); !regexp.MustCompile(`^\d+\.\d+\.\d{10}$`).MatchString(v) {
		t.Errorf("EmbeddedVersion() = %q", v)
	}
}

// The embedded file is an mmdb whose records all carry a
// valid country_code. Every network is walked, except in -short mode.
func TestEmbeddedDatabaseIntegrity(t *testing.T) {
	data := embeddedMMDB
	if len(data) < 1<<20 {
		t.Fatalf("embedded database is only %d bytes", len(data))
	}
	b, err := openEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	r := b.(*countryCodeBackend).r
	if r.Metadata.IPVersion != 6 {
		t.Errorf("ip_version = %d, want 6", r.Metadata.IPVersion)
	}
	limit := -1
	if testing.Short() {
		limit = 10000
	}
	n := 0
	for res := range r.Networks() {
		if n == limit {
			break
		}
		n++
		var rec countryCodeRecord
		if err := res.Decode(&rec); err != nil {
			t.Fatalf("network %v: %v", res.Prefix(), err)
		}
		if !ccRE.MatchString(rec.CountryCode) {
			t.Fatalf("network %v: country_code %q", res.Prefix(), rec.CountryCode)
		}
	}
	t.Logf("%d networks checked in %d bytes", n, len(data))
}

// fakeBackend counts lookups and answers from a table.
type fakeBackend struct {
	mu      sync.Mutex
	calls   int
	answers map[netip.Addr]string
	err     error
}

func (f *fakeBackend) country(a netip.Addr) (code, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return codeUnknown, f.err
	}
	return parseCode(f.answers[a]), nil
}

func (f *fakeBackend) close() error { return nil }

func (f *fakeBackend) nCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func newFake(size int, answers map[string]string) (*Lookup, *fakeBackend) {
	f := &fakeBackend{answers: map[netip.Addr]string{}}
	for k, v := range answers {
		f.answers[netip.MustParseAddr(k)] = v
	}
	l := &Lookup{b: f, source: "fake"}
	if size > 0 {
		l.cache = newLRU(size)
	}
	return l, f
}

var reservedAddrs = []string{
	"192.168.1.1", "10.0.0.1", "127.0.0.1", "172.17.0.1", "100.64.1.1", "100.127.255.254",
	"::1", "fe80::1", "fc00::1", "fd12:3456::1", "::ffff:192.168.1.1", "::ffff:127.0.0.1",
	"0.0.0.0", "0.1.2.3", "::", "169.254.1.1", "224.0.0.1", "239.255.255.250", "255.255.255.255",
	"240.0.0.1", "192.0.0.8", "192.0.2.1", "198.51.100.7", "203.0.113.9", "198.18.0.1", "198.19.255.1",
	"192.88.99.1", "ff02::1", "ff05::2", "2001:db8::1", "3fff::1", "2001::1", "2001:2::1",
	"100::1", "fec0::1", "5f00::1", "::1.2.3.4", "64:ff9b:1::1", "64:ff9b::a00:1", "2002:a00:1::",
	"fe80::1%eth0",
}

func TestReservedWithoutLookup(t *testing.T) {
	l, f := newFake(16, nil)
	f.err = errors.New("must not be called")
	for _, s := range reservedAddrs {
		a := netip.MustParseAddr(s)
		if !IsReserved(a) {
			t.Errorf("IsReserved(%s) = false", s)
		}
		if got := l.Country(a); got != "ZZ" {
			t.Errorf("Country(%s) = %q, want ZZ", s, got)
		}
	}
	if got := l.Country(netip.Addr{}); got != "ZZ" || !IsReserved(netip.Addr{}) {
		t.Errorf("zero Addr: Country = %q, IsReserved = %v", got, IsReserved(netip.Addr{}))
	}
	if n := f.nCalls(); n != 0 {
		t.Errorf("database consulted %d times for reserved addresses", n)
	}
	st := l.Stats()
	if st.Reserved != uint64(len(reservedAddrs)+1) || st.Hits != 0 || st.Misses != 0 || st.Entries != 0 {
		t.Errorf("Stats() = %+v", st)
	}

	for _, s := range []string{
		"8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.0", "172.32.0.1", "192.169.0.1",
		"198.17.255.255", "198.20.0.0", "223.255.255.255", "2001:4860:4860::8888", "2001:218::1",
		"2001:200::1", "2a00:1450::1", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::",
	} {
		if IsReserved(netip.MustParseAddr(s)) {
			t.Errorf("IsReserved(%s) = true, want false", s)
		}
	}
}

func TestCountryWithFake(t *testing.T) {
	l, f := newFake(8, map[string]string{"8.8.8.8": "us", "9.9.9.9": "CH", "2001:4860::1": "US"})
	for _, c := range []struct{ addr, want string }{
		{"8.8.8.8", "US"}, {"::ffff:8.8.8.8", "US"}, {"9.9.9.9", "CH"}, {"2001:4860::1", "US"},
		{"2001:4860::1%eth0", "US"}, {"4.4.4.4", "ZZ"}, {"4.4.4.4", "ZZ"},
	} {
		if got := l.Country(netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("Country(%s) = %q, want %q", c.addr, got, c.want)
		}
	}
	// 8.8.8.8 (twice via mapping), 9.9.9.9, 2001:4860::1 (twice via zone), 4.4.4.4 (twice).
	if n := f.nCalls(); n != 4 {
		t.Errorf("backend calls = %d, want 4", n)
	}
	if st := l.Stats(); st.Hits != 3 || st.Misses != 4 || st.Entries != 4 || st.Capacity != 8 {
		t.Errorf("Stats() = %+v, want 3 hits, 4 misses, 4 entries", st)
	}

	// Errors answer ZZ and are not cached.
	l2, f2 := newFake(8, nil)
	f2.err = errors.New("boom")
	a := netip.MustParseAddr("8.8.8.8")
	for range 3 {
		if got := l2.Country(a); got != "ZZ" {
			t.Errorf("Country on error = %q", got)
		}
	}
	if st := l2.Stats(); st.Errors != 3 || st.Misses != 3 || st.Entries != 0 {
		t.Errorf("Stats() after errors = %+v", st)
	}
}

func TestCacheDisabled(t *testing.T) {
	l, f := newFake(0, map[string]string{"8.8.8.8": "US"})
	a := netip.MustParseAddr("8.8.8.8")
	for range 5 {
		if got := l.Country(a); got != "US" {
			t.Fatalf("Country = %q", got)
		}
	}
	if f.nCalls() != 5 {
		t.Errorf("backend calls = %d, want 5", f.nCalls())
	}
	if st := l.Stats(); st.Capacity != 0 || st.Hits != 0 || st.Misses != 5 {
		t.Errorf("Stats() = %+v", st)
	}

	l2 := mustOpen(t, Options{Path: testDB(t, "GeoIP2-Country-Test.mmdb"), CacheSize: -1})
	if st := l2.Stats(); st.Capacity != 0 {
		t.Errorf("CacheSize -1: Capacity = %d", st.Capacity)
	}
	l3 := mustOpen(t, Options{Path: testDB(t, "GeoIP2-Country-Test.mmdb")})
	if st := l3.Stats(); st.Capacity != DefaultCacheSize {
		t.Errorf("CacheSize 0: Capacity = %d, want %d", st.Capacity, DefaultCacheSize)
	}
}

func addrN(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{8, byte(i >> 16), byte(i >> 8), byte(i)})
}

func TestLRUEvictionOrder(t *testing.T) {
	a, b, c, d := addrN(1), addrN(2), addrN(3), addrN(4)
	cache := newLRU(3)
	cache.add(a, parseCode("AA"))
	cache.add(b, parseCode("BB"))
	cache.add(c, parseCode("CC"))
	if got := cache.keys(); !slices.Equal(got, []netip.Addr{c, b, a}) {
		t.Fatalf("keys = %v, want [c b a]", got)
	}
	if v, ok := cache.get(a); !ok || v.String() != "AA" {
		t.Fatalf("get(a) = %v, %v", v, ok)
	}
	cache.add(d, parseCode("DD")) // evicts b, the least recently used
	if got := cache.keys(); !slices.Equal(got, []netip.Addr{d, a, c}) {
		t.Fatalf("keys = %v, want [d a c]", got)
	}
	if _, ok := cache.get(b); ok {
		t.Fatal("b still cached")
	}
	cache.add(c, parseCode("CX")) // update moves to front, no eviction
	if got := cache.keys(); !slices.Equal(got, []netip.Addr{c, d, a}) {
		t.Fatalf("keys = %v, want [c d a]", got)
	}
	if v, _ := cache.get(c); v.String() != "CX" {
		t.Fatalf("get(c) = %v after update", v)
	}
	if cache.len() != 3 || cache.evictions != 1 {
		t.Fatalf("len = %d, evictions = %d", cache.len(), cache.evictions)
	}

	one := newLRU(1)
	one.add(a, 1)
	one.add(b, 2)
	if got := one.keys(); !slices.Equal(got, []netip.Addr{b}) {
		t.Fatalf("capacity 1: keys = %v", got)
	}
}

// The LRU agrees with a naive reference model over random operations and
// never exceeds its bound.
func TestLRUAgainstModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, capacity := range []int{1, 2, 7, 64} {
		cache := newLRU(capacity)
		var model []netip.Addr // most recent first
		vals := map[netip.Addr]code{}
		for i := range 5000 {
			k := addrN(rng.IntN(capacity * 3))
			if rng.IntN(2) == 0 {
				v := code(1 + rng.IntN(676))
				cache.add(k, v)
				model = slices.DeleteFunc(model, func(x netip.Addr) bool { return x == k })
				model = slices.Insert(model, 0, k)
				if len(model) > capacity {
					delete(vals, model[capacity])
					model = model[:capacity]
				}
				vals[k] = v
			} else {
				got, ok := cache.get(k)
				want, wok := vals[k]
				if ok != wok || got != want {
					t.Fatalf("cap %d op %d: get(%v) = %v,%v want %v,%v", capacity, i, k, got, ok, want, wok)
				}
				if ok {
					model = slices.DeleteFunc(model, func(x netip.Addr) bool { return x == k })
					model = slices.Insert(model, 0, k)
				}
			}
			if cache.len() > capacity {
				t.Fatalf("cap %d: len %d", capacity, cache.len())
			}
		}
		if got := cache.keys(); !slices.Equal(got, model) {
			t.Fatalf("cap %d: keys %v, model %v", capacity, got, model)
		}
	}
}

func TestLookupCacheBound(t *testing.T) {
	l := mustOpen(t, Options{Path: testDB(t, "GeoIP2-City-Test.mmdb"), CacheSize: 2})
	x := netip.MustParseAddr("81.2.69.142")
	y := netip.MustParseAddr("216.160.83.56")
	z := netip.MustParseAddr("2001:218::1")
	for _, a := range []netip.Addr{x, y, x, z} { // miss, miss, hit, miss (evicts y)
		l.Country(a)
	}
	if st := l.Stats(); st.Hits != 1 || st.Misses != 3 || st.Evictions != 1 || st.Entries != 2 || st.Capacity != 2 {
		t.Errorf("Stats() = %+v", st)
	}
	if got := l.Country(x); got != "GB" { // hit
		t.Errorf("Country(x) = %q", got)
	}
	if got := l.Country(y); got != "US" { // miss: was evicted
		t.Errorf("Country(y) = %q", got)
	}
	if st := l.Stats(); st.Hits != 2 || st.Misses != 4 || st.Evictions != 2 || st.Entries != 2 {
		t.Errorf("Stats() = %+v", st)
	}
	for i := range 1000 {
		l.Country(addrN(i))
	}
	if st := l.Stats(); st.Entries != 2 {
		t.Errorf("Entries = %d, want bound 2", st.Entries)
	}
}

func TestConcurrentLookups(t *testing.T) {
	cases := []struct{ addr, want string }{
		{"2.125.160.216", "GB"}, {"81.2.69.142", "GB"}, {"216.160.83.56", "US"},
		{"2001:218::1", "JP"}, {"89.160.20.112", "SE"}, {"2a02:cf40::1", "NO"},
		{"192.168.1.1", "ZZ"}, {"8.8.8.8", "ZZ"}, {"::ffff:81.2.69.142", "GB"},
	}
	for _, size := range []int{3, 0, -1} { // thrashing, default, disabled
		t.Run(fmt.Sprint("cache", size), func(t *testing.T) {
			l := mustOpen(t, Options{Path: testDB(t, "GeoIP2-City-Test.mmdb"), CacheSize: size})
			var wg sync.WaitGroup
			errc := make(chan string, 8)
			for g := range 8 {
				wg.Go(func() {
					for i := range 500 {
						c := cases[(g+i)%len(cases)]
						if got := l.Country(netip.MustParseAddr(c.addr)); got != c.want {
							select {
							case errc <- fmt.Sprintf("Country(%s) = %q, want %q", c.addr, got, c.want):
							default:
							}
							return
						}
						if i%100 == 0 {
							_ = l.Stats()
						}
					}
				})
			}
			wg.Wait()
			close(errc)
			for e := range errc {
				t.Error(e)
			}
			st := l.Stats()
			if st.Hits+st.Misses+st.Reserved != 8*500 {
				t.Errorf("Stats() = %+v, want hits+misses+reserved = %d", st, 8*500)
			}
		})
	}

	// Embedded fallback, and Close racing with lookups.
	l, err := Open(Options{SearchDirs: []string{}, CacheSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				got := l.Country(netip.AddrFrom4([4]byte{8, 8, byte(g), byte(i)}))
				if !ccRE.MatchString(got) {
					t.Errorf("Country = %q", got)
					return
				}
			}
		})
	}
	wg.Go(func() { _ = l.Close() })
	wg.Wait()
	if got := l.Country(netip.MustParseAddr("8.8.8.8")); got != "ZZ" {
		t.Errorf("after Close: Country = %q, want ZZ", got)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestParseAddr(t *testing.T) {
	cases := []struct {
		in   string
		want string // "" = not ok
	}{
		{"1.2.3.4:28967", "1.2.3.4"},
		{"1.2.3.4", "1.2.3.4"},
		{" 79.1.2.3:28967\n", "79.1.2.3"},
		{"[2001:db8::1]:28967", "2001:db8::1"},
		{"[2001:db8::1]", "2001:db8::1"},
		{"2001:db8::1", "2001:db8::1"},
		{"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
		{"[::ffff:1.2.3.4]:28967", "1.2.3.4"},
		{"::ffff:1.2.3.4", "1.2.3.4"},
		{"[fe80::1%eth0]:28967", "fe80::1"},
		{"fe80::1%eth0", "fe80::1"},
		{"[::1]:0", "::1"},
		{"1.2.3.4:http", "1.2.3.4"},
		{"1.2.3.4:99999", "1.2.3.4"},
		{"", ""},
		{"   ", ""},
		{"garbage", ""},
		{"example.com:28967", ""},
		{"1.2.3", ""},
		{"1.2.3.4.5", ""},
		{"256.1.1.1:28967", ""},
		{"[1.2.3.4]:28967", "1.2.3.4"}, // netip.ParseAddrPort accepts it
		{"[1.2.3.4]", "1.2.3.4"},
		{"[2001:db8::1", ""},
		{"2001:db8::1]:28967", ""},
		{"2001:db8::1:28967", ""},
		{"[]:28967", ""},
		{"[]", ""},
		{":28967", ""},
		{"1.2.3.4:", "1.2.3.4"},
	}
	for _, c := range cases {
		got, ok := ParseAddr(c.in)
		if c.want == "" {
			if ok {
				t.Errorf("ParseAddr(%q) = %v, true; want not ok", c.in, got)
			}
			continue
		}
		if !ok || got != netip.MustParseAddr(c.want) {
			t.Errorf("ParseAddr(%q) = %v, %v; want %s", c.in, got, ok, c.want)
		}
	}
}

// benchAddrs returns n deterministic public IPv4 addresses.
func benchAddrs(n int) []netip.Addr {
	rng := rand.New(rand.NewPCG(7, 11))
	out := make([]netip.Addr, 0, n)
	for len(out) < n {
		a := netip.AddrFrom4([4]byte{byte(rng.IntN(224)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
		if !IsReserved(a) {
			out = append(out, a)
		}
	}
	return out
}

func BenchmarkCountryCached(b *testing.B) {
	l := mustOpen(b, Options{SearchDirs: []string{}})
	addrs := benchAddrs(1024)
	for _, a := range addrs {
		l.Country(a)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		l.Country(addrs[i&1023])
	}
	b.StopTimer()
	if st := l.Stats(); st.Misses != 1024 {
		b.Fatalf("unexpected misses: %+v", st)
	}
}

func BenchmarkCountryUncached(b *testing.B) {
	addrs := benchAddrs(1 << 16)
	for _, c := range []struct{ name, path string }{
		{"embedded", ""},
		{"GeoIP2-City-Test", filepath.Join(testdataDir, "GeoIP2-City-Test.mmdb")},
	} {
		b.Run(c.name, func(b *testing.B) {
			l := mustOpen(b, Options{Path: c.path, SearchDirs: []string{}, CacheSize: -1})
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				l.Country(addrs[i&(1<<16-1)])
			}
		})
	}
}

// The embedded database's codes, remembered by record, are the codes a
// fresh decode of each address's record gives, and what is remembered
// stays within maxRecordCodes.
func TestRecordCodes(t *testing.T) {
	b, err := openEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	defer b.close()
	cb := b.(*countryCodeBackend)
	countries := map[code]bool{}
	for _, a := range append(benchAddrs(20000), netip.MustParseAddr("2a00:1450:4001:80b::200e"), netip.MustParseAddr("2001:db8::1")) {
		for range 2 { // decoded, then remembered
			got, err := cb.country(a)
			if err != nil {
				t.Fatal(err)
			}
			var rec countryCodeRecord
			if err := cb.r.Lookup(a).Decode(&rec); err != nil {
				t.Fatal(err)
			}
			if want := parseCode(rec.CountryCode); got != want {
				t.Fatalf("%s: %s, its record says %s", a, got, want)
			}
			countries[got] = true
		}
	}
	if n := len(cb.byOffset); n == 0 || n > maxRecordCodes || len(countries) < 100 {
		t.Fatalf("%d records remembered, %d countries seen", n, len(countries))
	}
}
