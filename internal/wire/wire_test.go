package wire

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"time"
)

// The encoded bytes are what existing databases hold: pinned here.
func TestEncoding(t *testing.T) {
	ts := time.Date(2026, 12, 3, 12, 0, 0, 5, time.UTC)
	var b []byte
	b = AppendUvarint(b, 300)
	b = AppendVarint(b, -2)
	b = AppendString(b, "ab")
	b = append(b, 7)
	b = AppendTime(b, ts)
	b = AppendTime(b, time.Time{})
	want := []byte{0xac, 0x02, 0x03, 0x02, 'a', 'b', 7}
	if !bytes.HasPrefix(b, want) {
		t.Fatalf("encoded % x, want prefix % x", b, want)
	}
	d := Decoder{B: b}
	if v := d.Uvarint(); v != 300 {
		t.Errorf("Uvarint = %d", v)
	}
	if v := d.Varint(); v != -2 {
		t.Errorf("Varint = %d", v)
	}
	if v := d.String(); v != "ab" {
		t.Errorf("String = %q", v)
	}
	if v := d.Byte(); v != 7 {
		t.Errorf("Byte = %d", v)
	}
	if v := d.Time(); !v.Equal(ts) || v.Location() != time.UTC {
		t.Errorf("Time = %v", v)
	}
	if v := d.Time(); !v.IsZero() {
		t.Errorf("zero Time = %v", v)
	}
	if d.Err != nil || len(d.B) != 0 {
		t.Fatalf("err %v, %d bytes left", d.Err, len(d.B))
	}
	if got := AppendTime(nil, time.Time{}); !bytes.Equal(got, AppendVarint(nil, math.MinInt64)) {
		t.Errorf("zero time encoded % x", got)
	}
}

// Every cut of a valid encoding is an error, never a panic, and the error
// stays.
func TestTruncated(t *testing.T) {
	var b []byte
	b = AppendString(b, "piece")
	b = AppendVarint(b, 1<<40)
	b = append(b, 1)
	for n := 0; n < len(b); n++ {
		d := Decoder{B: b[:n]}
		_ = d.String()
		_ = d.Varint()
		_ = d.Byte()
		if !errors.Is(d.Err, ErrShort) {
			t.Errorf("cut at %d: err %v, want ErrShort", n, d.Err)
		}
		if v := d.Uvarint(); v != 0 || !errors.Is(d.Err, ErrShort) {
			t.Errorf("cut at %d: read after the error gave %d, %v", n, v, d.Err)
		}
	}
	d := Decoder{B: AppendUvarint(nil, 10)} // a length beyond the bytes
	if s := d.String(); s != "" || d.Err == nil {
		t.Errorf("String of a too long length = %q, %v", s, d.Err)
	}
}
