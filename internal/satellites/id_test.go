package satellites_test

import (
	"crypto/sha256"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/storagenode-exporter/storagenode-exporter/internal/satellites"
)

// The public satellites' IDs, as the docs give them, are valid; one
// character changed, one added or removed, or one outside the alphabet
// makes each invalid.
func TestValidIDPublic(t *testing.T) {
	for _, s := range satellites.All() {
		if !satellites.ValidID(s.ID) {
			t.Errorf("%s (%s) not valid", s.ID, s.Name)
		}
		for i := range len(s.ID) {
			c := byte('2')
			if s.ID[i] == '2' {
				c = '3'
			}
			if id := s.ID[:i] + string(c) + s.ID[i+1:]; satellites.ValidID(id) {
				t.Errorf("%s: valid with character %d changed: %s", s.Name, i, id)
			}
		}
		for _, id := range []string{s.ID[1:], s.ID[:len(s.ID)-1], s.ID + "1", "1" + s.ID, s.ID[:10] + "0" + s.ID[11:], s.ID[:10] + "l" + s.ID[11:], s.ID[:10] + "é" + s.ID[12:]} {
			if satellites.ValidID(id) {
				t.Errorf("%s: %q valid", s.Name, id)
			}
		}
	}
}

// FormatID writes what ValidID accepts, with leading zero bytes as '1's,
// and gives the public satellites' IDs back from their bytes.
func TestFormatID(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		var id [32]byte
		for j := range id {
			id[j] = byte(r.Uint32())
		}
		for j := range i % 4 { // some with leading zero bytes
			id[j] = 0
		}
		version := byte(0)
		if i%7 == 0 {
			version = byte(r.Uint32())
		}
		s := satellites.FormatID(version, id)
		if !satellites.ValidID(s) || len(s) > 51 {
			t.Fatalf("FormatID(%d, %x) = %q, not valid", version, id, s)
		}
		if version == 0 && !strings.HasPrefix(s, strings.Repeat("1", 1+i%4)) {
			t.Fatalf("FormatID(0, %x) = %q: want %d leading 1s", id, s, 1+i%4)
		}
	}
	// A random text of a node ID's length is almost never valid: the
	// checksum fails (2^-32), or the length is wrong.
	valid := 0
	for range 100_000 {
		b := make([]byte, 50+r.IntN(2))
		for j := range b {
			b[j] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"[r.IntN(58)]
		}
		if satellites.ValidID(string(b)) {
			valid++
		}
	}
	if valid > 0 {
		t.Errorf("%d of 100,000 random texts valid", valid)
	}
	if satellites.ValidID("") || satellites.ValidID(strings.Repeat("1", 37)) || satellites.ValidID(strings.Repeat("z", 1<<20)) {
		t.Error("empty, all-zero or 1 MiB ID valid")
	}
}

// A node's labels: names for the public satellites, the first 16 other
// valid IDs themselves, then other; invalid and unknown.
func TestLabels(t *testing.T) {
	var l satellites.Labels
	for _, s := range satellites.All() {
		if got := l.Label(s.ID); got != s.Name {
			t.Errorf("Label(%s) = %q, want %q", s.ID, got, s.Name)
		}
	}
	if got := l.Label(""); got != "unknown" {
		t.Errorf(`Label("") = %q`, got)
	}
	for _, id := range []string{"1PrivateSatelliteIDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "other", "invalid", "us1", strings.Repeat("x", 1<<20)} {
		if got := l.Label(id); got != "invalid" {
			t.Errorf("Label(%.60q) = %q, want invalid", id, got)
		}
	}
	ids := make([]string, 40)
	for i := range ids {
		var raw [32]byte
		raw[0], raw[1] = 0x55, byte(i)
		ids[i] = satellites.FormatID(0, raw)
	}
	for round := range 2 { // the second time, each keeps its label
		for i, id := range ids {
			want := id
			if i >= 16 {
				want = "other"
			}
			if got := l.Label(id); got != want {
				t.Fatalf("round %d: Label(ids[%d]) = %q, want %q", round, i, got, want)
			}
		}
	}
	for _, v := range []string{"us1", "eu1", ids[0]} {
		if !satellites.Own(v) {
			t.Errorf("Own(%q) false", v)
		}
	}
	for _, v := range []string{"unknown", "invalid", "other"} {
		if satellites.Own(v) {
			t.Errorf("Own(%q) true", v)
		}
	}
}

// Concurrent callers (scrapes) agree: 16 IDs get their own label, once.
func TestLabelsConcurrent(t *testing.T) {
	var l satellites.Labels
	var wg sync.WaitGroup
	got := make([]map[string]int, 4)
	for g := range got {
		got[g] = map[string]int{}
		wg.Go(func() {
			for i := range 64 {
				var raw [32]byte
				raw[0] = byte(i)
				got[g][l.Label(satellites.FormatID(0, raw))]++
			}
		})
	}
	wg.Wait()
	for g := range got {
		if len(got[g]) != 17 || got[g]["other"] != 48 {
			t.Errorf("goroutine %d: %d labels, %d other; want 17 and 48", g, len(got[g]), got[g]["other"])
		}
	}
}

// Base58Check texts of 35 to 39 bytes, with a matching checksum and up to
// three leading zero bytes, are valid only at 37 bytes (version, 32, 4).
func TestValidIDLength(t *testing.T) {
	const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	encode := func(b []byte) string { // as btcutil's base58.Encode, with math/big
		var out []byte
		for n := new(big.Int).SetBytes(b); n.Sign() > 0; {
			var m big.Int
			n.DivMod(n, big.NewInt(58), &m)
			out = append(out, alphabet[m.Int64()])
		}
		for i := 0; i < len(b) && b[i] == 0; i++ {
			out = append(out, '1')
		}
		slices.Reverse(out)
		return string(out)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 5000 {
		b := make([]byte, 35+i%5)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		for j := range (i / 5) % 4 {
			b[j] = 0
		}
		h := sha256.Sum256(b[:len(b)-4])
		h = sha256.Sum256(h[:])
		copy(b[len(b)-4:], h[:])
		if s := encode(b); satellites.ValidID(s) != (len(b) == 37) {
			t.Fatalf("ValidID(%q) = %v for %d bytes", s, !(len(b) == 37), len(b))
		}
		if len(b) == 37 && b[0] != 0 && len(encode(append([]byte{1}, b...))) <= 51 {
			// a valid ID's bytes under a byte more: its last 37 bytes check
			if s := encode(append([]byte{1}, b...)); satellites.ValidID(s) {
				t.Fatalf("ValidID(%q) for 38 bytes whose last 37 are valid", s)
			}
		}
	}
	if satellites.ValidID(strings.Repeat("z", 51)) {
		t.Error("51 z's (more than 37 bytes) valid")
	}
}
