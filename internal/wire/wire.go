// Package wire is the small binary encoding of the states the sink commits
// with its rows (the pairing's and the sink reader's): unsigned and signed
// varints (encoding/binary's), length-prefixed strings, single bytes and
// times as Unix nanoseconds. The bytes are those databases already hold;
// a change here is a change of their format.
package wire

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// AppendUvarint appends v as an unsigned varint.
func AppendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

// AppendVarint appends v as a signed (zig-zag) varint.
func AppendVarint(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

// AppendString appends s's length as an unsigned varint, then s.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendTime appends t as Unix nanoseconds (a signed varint), the zero
// time as math.MinInt64.
func AppendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, math.MinInt64)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

// ErrShort is a Decoder's error when its bytes end before a value does.
var ErrShort = errors.New("truncated")

// Decoder reads values from B in the order they were appended. After the
// first error every read returns the zero value and Err keeps that error,
// so a decode checks Err once at its end.
type Decoder struct {
	B   []byte // what is left to read
	Err error
}

// Byte reads one byte.
func (d *Decoder) Byte() byte {
	if d.Err != nil || len(d.B) == 0 {
		d.Err = ErrShort
		return 0
	}
	c := d.B[0]
	d.B = d.B[1:]
	return c
}

// Uvarint reads an unsigned varint.
func (d *Decoder) Uvarint() uint64 { return varint(d, binary.Uvarint) }

// Varint reads a signed varint.
func (d *Decoder) Varint() int64 { return varint(d, binary.Varint) }

func varint[T uint64 | int64](d *Decoder, read func([]byte) (T, int)) T {
	if d.Err != nil {
		return 0
	}
	v, n := read(d.B)
	if n <= 0 {
		d.Err = ErrShort
		return 0
	}
	d.B = d.B[n:]
	return v
}

// String reads a string AppendString wrote.
func (d *Decoder) String() string {
	n := d.Uvarint()
	if d.Err != nil || uint64(len(d.B)) < n {
		d.Err = ErrShort
		return ""
	}
	s := string(d.B[:n])
	d.B = d.B[n:]
	return s
}

// Time reads a time AppendTime wrote (in UTC).
func (d *Decoder) Time() time.Time {
	v := d.Varint()
	if v == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}
