package problem

import "strings"

// ParseHexName parses one of etcd's file names: len(fields) numbers
// written %016x (16 lower-case hex digits), joined by "-", then suffix.
// A WAL segment's name is "%016x-%016x.wal" (sequence, index), a .snap's
// "%016x-%016x.snap" (term, index), a .snap.db's "%016x.snap.db" (index).
// It stores the numbers in fields and reports whether name has that form.
// A field that is not hex is 0, and every field is 0 when the length,
// the dashes or the suffix are wrong.
func ParseHexName(name, suffix string, fields ...*uint64) bool {
	n := len(fields)
	for _, f := range fields {
		*f = 0
	}
	if n == 0 || len(name) != 17*n-1+len(suffix) || !strings.HasSuffix(name, suffix) {
		return false
	}
	for i := 1; i < n; i++ {
		if name[17*i-1] != '-' {
			return false
		}
	}
	ok := true
	for i, f := range fields {
		v, valid := parseHex16(name[17*i : 17*i+16])
		*f, ok = v, ok && valid
	}
	return ok
}

func parseHex16(s string) (uint64, bool) {
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
