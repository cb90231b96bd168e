package parser

import "time"

// parseTime reads a storagenode timestamp at the start of b: both layouts of
// docs/log-formats.md §2.3 (2006-01-02T15:04:05.000Z0700 before v1.83, RFC
// 3339 with whole seconds since) and any fraction of 0-9 digits, as docker
// logs -t writes. It returns the time in UTC, the offset it was written with,
// and the number of bytes read. It does not allocate.
func parseTime(b []byte) (t time.Time, offset int32, n int, ok bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, 0, 0, false
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || year < 1970 || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, 0, 0, false
	}
	i := 19
	var nsec int
	if b[i] == '.' || b[i] == ',' {
		i++
		start := i
		scale := 100000000
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			if i-start < 9 {
				nsec += int(b[i]-'0') * scale
				scale /= 10
			}
			i++
		}
		if i == start || i-start > 9 {
			return time.Time{}, 0, 0, false
		}
	}
	if i >= len(b) {
		return time.Time{}, 0, 0, false
	}
	switch b[i] {
	case 'Z':
		i++
	case '+', '-':
		sign := 1
		if b[i] == '-' {
			sign = -1
		}
		i++
		if len(b)-i < 4 {
			return time.Time{}, 0, 0, false
		}
		oh, okh := num(b[i : i+2])
		i += 2
		if b[i] == ':' {
			i++
		}
		if len(b)-i < 2 {
			return time.Time{}, 0, 0, false
		}
		om, okm := num(b[i : i+2])
		i += 2
		if !okh || !okm || oh > 23 || om > 59 {
			return time.Time{}, 0, 0, false
		}
		offset = int32(sign * (oh*3600 + om*60))
	default:
		return time.Time{}, 0, 0, false
	}
	unix := daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec) - int64(offset)
	return time.Unix(unix, int64(nsec)).UTC(), offset, i, true
}

// timeMemo remembers the last timestamp parseTime read: a node writes
// many lines a second, and comparing the text is cheaper than reading it.
// parseTime's answer depends on the n bytes it read and on no others, so a
// line that starts with those bytes has the same answer.
type timeMemo struct {
	b   [40]byte
	n   int
	t   time.Time
	off int32
}

func (m *timeMemo) parse(b []byte) (time.Time, int32, int, bool) {
	if m.n > 0 && len(b) >= m.n && string(b[:m.n]) == string(m.b[:m.n]) {
		return m.t, m.off, m.n, true
	}
	t, off, n, ok := parseTime(b)
	if ok && n <= len(m.b) {
		copy(m.b[:], b[:n])
		m.n, m.t, m.off = n, t, off
	}
	return t, off, n, ok
}

func num(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}
