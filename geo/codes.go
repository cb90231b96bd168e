package geo

// code is a country code packed into a small integer: 0 is "ZZ"-unknown and
// 1+(a-'A')*26+(b-'A') is the two upper-case letters a, b. Packing keeps the
// LRU entries free of pointers and lets Country return interned strings, so a
// cache hit does not allocate.
type code uint16

// Unknown is returned for reserved, private, unknown and unparsable
// addresses. ZZ is the ISO 3166 user-assigned code commonly used for
// "unknown or unspecified country".
const Unknown = "ZZ"

const codeUnknown code = 0

var codeStrings = func() [1 + 26*26]string {
	var t [1 + 26*26]string
	t[codeUnknown] = Unknown
	for a := 0; a < 26; a++ {
		for b := 0; b < 26; b++ {
			t[1+a*26+b] = string([]byte{byte('A' + a), byte('A' + b)})
		}
	}
	return t
}()

func (c code) String() string {
	if int(c) >= len(codeStrings) {
		return Unknown
	}
	return codeStrings[c]
}

// parseCode turns a database value into a code. Anything that is not
// exactly two ASCII letters (after upper-casing) is unknown, and so is
// "ZZ" itself, which maps to the same value.
func parseCode(s string) code {
	if len(s) != 2 {
		return codeUnknown
	}
	a, b := upper(s[0]), upper(s[1])
	if a < 'A' || a > 'Z' || b < 'A' || b > 'Z' {
		return codeUnknown
	}
	if a == 'Z' && b == 'Z' {
		return codeUnknown
	}
	return code(1 + int(a-'A')*26 + int(b-'A'))
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}
