package web

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchtap/switchtap/sip"
)

// The greeting-latency filter of the call list (issue 13): greeting_min=S
// and greeting_max=S select the legs whose answering side first spoke at
// least S, at most S seconds after the answer (the record's
// speech.greeting_latency_seconds; the protocol's Saludo). A leg with no
// greeting latency (not answered, not recorded, or the answering side never
// spoke) has no figure to compare, so it never matches either bound.

// maxGreetingSeconds bounds a greeting filter value (a day: anything longer
// is a typing error, not a call).
const maxGreetingSeconds = 86400

// greetingRange is the filter's bounds, nil when not given.
type greetingRange struct {
	Min, Max *float64
}

// parseGreetingRange reads greeting_min and greeting_max (seconds, a
// decimal point or comma, as the console's forms accept). Every bad value
// is an error wrapping ErrInvalid that names its parameter.
func parseGreetingRange(q url.Values) (greetingRange, error) {
	var g greetingRange
	var err error
	if g.Min, err = parseSecondsParam(q, "greeting_min"); err != nil {
		return greetingRange{}, err
	}
	if g.Max, err = parseSecondsParam(q, "greeting_max"); err != nil {
		return greetingRange{}, err
	}
	if g.Min != nil && g.Max != nil && *g.Max < *g.Min {
		return greetingRange{}, fmt.Errorf("%w: greeting_max %s es menor que greeting_min %s", ErrInvalid, q.Get("greeting_max"), q.Get("greeting_min"))
	}
	return g, nil
}

// parseSecondsParam reads a plain decimal number of seconds in [0,
// maxGreetingSeconds]; absent or empty is nil. Only digits and one decimal
// separator: ParseFloat alone would take "inf", "1e3" or "0x1p3".
func parseSecondsParam(q url.Values, key string) (*float64, error) {
	v := strings.TrimSpace(q.Get(key))
	if v == "" {
		return nil, nil
	}
	bad := fmt.Errorf("%w: %s debe ser un número de segundos entre 0 y %d (por ejemplo 2,5), no %q", ErrInvalid, key, maxGreetingSeconds, clip(q.Get(key)))
	s := strings.Replace(v, ",", ".", 1)
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
		default:
			return nil, bad
		}
	}
	x, err := strconv.ParseFloat(s, 64)
	if digits == 0 || err != nil || x < 0 || x > maxGreetingSeconds || math.IsNaN(x) {
		return nil, bad
	}
	return &x, nil
}

// set says a bound is given.
func (g greetingRange) set() bool { return g.Min != nil || g.Max != nil }

// match reports whether c's greeting latency is within the bounds; with a
// bound given, a leg without the figure never matches.
func (g greetingRange) match(c *sip.Call) bool {
	if !g.set() {
		return true
	}
	l := greetingLatency(c)
	if l == nil {
		return false
	}
	return (g.Min == nil || *l >= *g.Min) && (g.Max == nil || *l <= *g.Max)
}

// greetingLatency is the record's greeting latency, nil when it has none.
func greetingLatency(c *sip.Call) *float64 {
	if c.Speech == nil {
		return nil
	}
	return c.Speech.GreetingLatencySeconds
}
