// Package esnum writes numbers as Spanish (El Salvador) readers expect on
// the console and in the exports: a decimal comma, and thousands grouped by
// a non-breaking space from five digits on (1234, 12 345).
package esnum

import (
	"strconv"
	"strings"
)

// NBSP separates the groups of digits, and a number from its unit.
const NBSP = "\u00a0"

// Int writes n with its digits grouped.
func Int(n int64) string {
	neg := n < 0
	u := uint64(n)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u, 10)
	if len(s) > 4 {
		var b strings.Builder
		head := len(s) % 3
		if head > 0 {
			b.WriteString(s[:head])
		}
		for i := head; i < len(s); i += 3 {
			if b.Len() > 0 {
				b.WriteString(NBSP)
			}
			b.WriteString(s[i : i+3])
		}
		s = b.String()
	}
	if neg {
		return "-" + s
	}
	return s
}

// Decimal writes x with prec decimals, a decimal comma and grouped digits.
func Decimal(x float64, prec int) string {
	s := strconv.FormatFloat(x, 'f', prec, 64)
	intPart, frac, hasFrac := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	if n, err := strconv.ParseInt(intPart, 10, 64); err == nil {
		intPart = Int(n)
	}
	if neg {
		intPart = "-" + intPart
	}
	if !hasFrac {
		return intPart
	}
	return intPart + "," + frac
}
