package parser

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// plainRun finds the same first marked byte as the byte-at-a-time loop, at
// every position of a word and across word boundaries, for each of the 256
// byte values.
func TestPlainRun(t *testing.T) {
	slow := func(b []byte, i int) int {
		for i < len(b) && !strTable[b[i]] {
			i++
		}
		return i
	}
	for c := 0; c < 256; c++ {
		for n := 0; n <= 20; n++ {
			for at := 0; at <= n; at++ {
				b := make([]byte, n)
				for k := range b {
					b[k] = 'A' + byte(k%26)
				}
				if at < n {
					b[at] = byte(c)
				}
				for from := 0; from <= n; from++ {
					if got, want := plainRun(b, from), slow(b, from); got != want {
						t.Fatalf("byte %#x at %d of %d, from %d: %d, want %d", c, at, n, from, got, want)
					}
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, r.IntN(40))
		for k := range b {
			// mostly plain bytes, some marked, some 0x80 and above
			switch r.IntN(8) {
			case 0:
				b[k] = byte(r.IntN(0x20))
			case 1:
				b[k] = "\"\\"[r.IntN(2)]
			case 2:
				b[k] = byte(0x80 + r.IntN(0x80))
			default:
				b[k] = byte(0x20 + r.IntN(0x60))
			}
		}
		from := r.IntN(len(b) + 1)
		if got, want := plainRun(b, from), slow(b, from); got != want {
			t.Fatalf("%q from %d: %d, want %d", b, from, got, want)
		}
	}
}

// parseIPv4Port agrees with netip.ParseAddrPort wherever it answers.
func FuzzIPv4Port(f *testing.F) {
	for _, s := range []string{"1.2.3.4:28967", "255.255.255.255:65535", "0.0.0.0:0", "01.2.3.4:1",
		"1.2.3.4:080", "256.1.1.1:1", "1.2.3.4:65536", "1.2.3:4", "1.2.3.4.5:6", "[::1]:5", "1.2.3.4:",
		"1.2.3.4", "1.2.3.4:+1", "1.2.3.4:1a", "100.200.30.4:123456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseIPv4Port([]byte(s))
		want, err := netip.ParseAddrPort(s)
		if ok && (err != nil || got != want) {
			t.Fatalf("%q: %v, netip says %v (%v)", s, got, want, err)
		}
		if !ok && err == nil && want.Addr().Is4() && len(s) <= 21 && s == want.String() {
			t.Fatalf("%q: refused a plain IPv4 address and port", s)
		}
	})
}

// A timeMemo answers as parseTime does, whatever it read before.
func TestTimeMemo(t *testing.T) {
	stamps := []string{"2026-09-05T14:20:31Z", "2026-09-05T14:20:31.5Z", "2026-09-05T14:20:31.123456789Z",
		"2026-09-05T14:20:31+02:00", "2026-09-05T14:20:31+0200", "2026-09-05T14:20:31.240+0200",
		"2026-09-05T14:20:31Z5", "2026-09-05T14:20:31", "2026-09-05T14:20:31.", "2026-09-05T14:20:32Z",
		"2026-09-05T14:20:31.1234567890Z", "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2026-09-05T14:20:31-01:30"}
	var m timeMemo
	r := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		s := stamps[r.IntN(len(stamps))] + []string{"", "\tINFO", " INFO", "Z", "0"}[r.IntN(5)]
		t1, o1, n1, ok1 := m.parse([]byte(s))
		t2, o2, n2, ok2 := parseTime([]byte(s))
		if !t1.Equal(t2) || o1 != o2 || n1 != n2 || ok1 != ok2 {
			t.Fatalf("%q: memo %v %d %d %v, parseTime %v %d %d %v", s, t1, o1, n1, ok1, t2, o2, n2, ok2)
		}
	}
}

// An object reads the same whatever white space stands around its colons
// and commas (zap's `": "` and `, "` take a short path), and the same
// objects are refused.
func TestObjectWhiteSpace(t *testing.T) {
	pairs := []string{`"piece_id":"ABC"`, `"size":2319360`, `"action":"GET"`, `"x":{"y":[1,2]}`,
		`"remote_address":"1.2.3.4:5"`, `"error":null`, `"reason":"a \"b\""`}
	seps := []string{"", " ", "  ", "\t", " \t", "\n"}
	r := rand.New(rand.NewPCG(7, 8))
	for range 5000 {
		var b strings.Builder
		var canon strings.Builder
		b.WriteString("{")
		canon.WriteString("{")
		n := 1 + r.IntN(len(pairs))
		for k := range n {
			p := pairs[r.IntN(len(pairs))]
			if k > 0 {
				b.WriteString(seps[r.IntN(len(seps))] + "," + seps[r.IntN(len(seps))])
				canon.WriteString(",")
			}
			colon := strings.Index(p, ":")
			b.WriteString(seps[r.IntN(len(seps))] + p[:colon] + seps[r.IntN(len(seps))] + ":" + seps[r.IntN(len(seps))] + p[colon+1:])
			canon.WriteString(p)
		}
		b.WriteString(seps[r.IntN(len(seps))] + "}")
		canon.WriteString("}")
		var got, want fields
		okGot, okWant := parseObject([]byte(b.String()), &got, false), parseObject([]byte(canon.String()), &want, false)
		if !okGot || !okWant || got.set != want.set {
			t.Fatalf("%q: %v, %q: %v", b.String(), okGot, canon.String(), okWant)
		}
		for id := range got.set {
			if got.set[id] && (string(got.val[id].b) != string(want.val[id].b) || got.val[id].typ != want.val[id].typ) {
				t.Fatalf("%q: field %d is %q, want %q", b.String(), id, got.val[id].b, want.val[id].b)
			}
		}
	}
	for _, bad := range []string{`{"a": }`, `{"a":, "b": 1}`, `{"a": 1, }`, `{"a": 1,"b"}`, `{"a" 1}`, `{"a": 1 "b": 2}`, `{"a": 1, "b": 2`} {
		var f fields
		if parseObject([]byte(bad), &f, false) {
			t.Errorf("%q was read", bad)
		}
	}
}
