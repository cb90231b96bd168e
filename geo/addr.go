package geo

import (
	"net"
	"net/netip"
	"strings"
)

// ParseAddr extracts the IP address from a remote address as found in
// storage-node logs: "1.2.3.4:28967", "[2001:db8::1]:28967", a bare
// "1.2.3.4" or "2001:db8::1", or a bracketed "[2001:db8::1]" (brackets
// around IPv4 are tolerated, as netip.ParseAddrPort does). Surrounding
// white space is ignored. The result has no IPv6 zone and IPv4-mapped IPv6
// addresses ("::ffff:1.2.3.4") are returned as plain IPv4, so equal peers
// give equal keys. ok is false for anything else (host names included).
func ParseAddr(remote string) (addr netip.Addr, ok bool) {
	s := strings.TrimSpace(remote)
	if s == "" {
		return netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return clean(a), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return clean(ap.Addr()), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return clean(a), true
		}
		return netip.Addr{}, false
	}
	// host:port with a port that ParseAddrPort rejects (a service name, an
	// out-of-range number): the address part is still useful.
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(host); err == nil {
			return clean(a), true
		}
	}
	return netip.Addr{}, false
}

func clean(a netip.Addr) netip.Addr {
	return a.WithZone("").Unmap()
}

var (
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
)

// normalize returns the address a lookup should use: no zone, IPv4-mapped
// IPv6 unmapped, and the IPv4 address embedded in a NAT64 well-known-prefix
// (64:ff9b::/96, RFC 6052) or 6to4 (2002::/16, RFC 3056) address extracted,
// so that the embedded address is both checked for being reserved and
// looked up (the embedded fallback database has no IPv4 aliases in its
// IPv6 tree).
func normalize(a netip.Addr) netip.Addr {
	a = clean(a)
	if !a.Is6() {
		return a
	}
	b := a.As16()
	switch {
	case nat64WellKnown.Contains(a):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
	}
	return a
}

// Special-purpose ranges (IANA IPv4/IPv6 Special-Purpose Address Registries)
// that netip.Addr has no method for.
var reservedV4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network" (RFC 791)
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space / CGNAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments (RFC 6890)
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1 documentation (RFC 5737)
	netip.MustParsePrefix("192.88.99.0/24"),  // deprecated 6to4 relay anycast (RFC 7526)
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking (RFC 2544)
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2 documentation (RFC 5737)
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3 documentation (RFC 5737)
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, incl. 255.255.255.255 broadcast (RFC 1112)
}

var (
	globalUnicastV6 = netip.MustParsePrefix("2000::/3")
	reservedV6      = []netip.Prefix{
		netip.MustParsePrefix("2001::/23"),     // IETF protocol assignments, incl. Teredo (RFC 2928, 4380)
		netip.MustParsePrefix("2001:db8::/32"), // documentation (RFC 3849)
		netip.MustParsePrefix("3fff::/20"),     // documentation (RFC 9637)
	}
)

// IsReserved reports whether addr can never be located on a world map:
// invalid, unspecified, loopback, private (RFC 1918, IPv6 ULA), link-local,
// multicast, CGNAT (100.64.0.0/10), documentation, benchmarking and other
// IANA special-purpose or reserved ranges. For IPv6, everything outside the
// global unicast block 2000::/3 is reserved. IPv4-mapped IPv6 addresses are
// unmapped first, and the IPv4 address embedded in NAT64 (64:ff9b::/96) and
// 6to4 (2002::/16) addresses is what gets checked.
func IsReserved(addr netip.Addr) bool {
	return isReservedNormalized(normalize(addr))
}

func isReservedNormalized(a netip.Addr) bool {
	if !a.IsValid() || a.IsUnspecified() || a.IsLoopback() || a.IsPrivate() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() {
		return true
	}
	if a.Is4() {
		for _, p := range reservedV4 {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if !globalUnicastV6.Contains(a) {
		return true
	}
	for _, p := range reservedV6 {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
