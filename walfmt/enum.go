package walfmt

import (
	"fmt"
	"strconv"
	"strings"
)

// integer is the underlying type of the enums of this package.
type integer interface {
	~int32 | ~int64 | ~uint8
}

// enumString names v from names (indexed by value), or "<typ>(<v>)" for a
// value without a name.
func enumString[T integer](names []string, typ string, v T) string {
	if v >= 0 && int64(v) < int64(len(names)) && names[v] != "" {
		return names[v]
	}
	return typ + "(" + strconv.FormatInt(int64(v), 10) + ")"
}

// parseName returns the value names gives s.
func parseName[T integer](names []string, s string) (T, bool) {
	for i, n := range names {
		if n == s && n != "" {
			return T(i), true
		}
	}
	return 0, false
}

// parseEnum is the inverse of enumString: a name, or "<typ>(<v>)".
func parseEnum[T integer](names []string, typ string, text []byte) (T, error) {
	s := string(text)
	if v, ok := parseName[T](names, s); ok {
		return v, nil
	}
	if rest, ok := strings.CutPrefix(s, typ+"("); ok {
		if num, ok := strings.CutSuffix(rest, ")"); ok {
			if v, err := strconv.ParseInt(num, 10, 32); err == nil {
				return T(v), nil
			}
		}
	}
	return 0, fmt.Errorf("walfmt: unknown %s %q", typ, s)
}
