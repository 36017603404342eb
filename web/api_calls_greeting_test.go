package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

func f64(x float64) *float64 { return &x }

// greetingEnv has five legs on 1 Dec: greeting latencies 0.5 s, 1.2 s and
// 3.0 s, one recorded where the answering side never spoke (speech, no
// latency), one never recorded (no speech at all: not answered).
func greetingEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	day := -10 * time.Hour // 2026-12-01 00:00 local
	mk := func(id string, h time.Duration, s *sip.Speech) {
		c := e.testCall(id, day+h)
		c.Speech = s
		e.calls.add(c)
	}
	mk("fast", 8*time.Hour, &sip.Speech{GreetingLatencySeconds: f64(0.5), CallerFirstSeconds: f64(2)})
	mk("mid", 9*time.Hour, &sip.Speech{GreetingLatencySeconds: f64(1.2)})
	mk("slow", 10*time.Hour, &sip.Speech{GreetingLatencySeconds: f64(3)})
	mk("mute", 11*time.Hour, &sip.Speech{CallerFirstSeconds: f64(0.8)})
	mk("unrec", 12*time.Hour, nil)
	return e
}

// TestCallsGreetingFilter: greeting_min and greeting_max bound the
// greeting latency, inclusive; a leg without one never matches a bound,
// and without bounds every leg is listed, as before.
func TestCallsGreetingFilter(t *testing.T) {
	e := greetingEnv(t)
	for _, tc := range []struct{ query, want string }{
		{"", "fast,mid,slow,mute,unrec"},
		{"greeting_min=", "fast,mid,slow,mute,unrec"},
		{"greeting_min=1", "mid,slow"},
		{"greeting_min=1.2", "mid,slow"}, // inclusive
		{"greeting_min=1,21", "slow"},    // the console's decimal comma
		{"greeting_min=0", "fast,mid,slow"},
		{"greeting_max=1.2", "fast,mid"},
		{"greeting_max=0.49", ""},
		{"greeting_min=0.5&greeting_max=2", "fast,mid"},
		{"greeting_min=1.2&greeting_max=1.2", "mid"},
		{"greeting_min=5", ""},
		{"greeting_min=%202.5%20", "slow"},
		{"greeting_min=1&operator=201", "mid,slow"},
		{"greeting_min=1&operator=202", ""},
	} {
		t.Run(tc.query, func(t *testing.T) {
			w := e.do("GET", "/api/v1/calls?from=2026-12-01&"+tc.query, nil, e.as("tecnico"))
			var got []sip.Call
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusOK {
				t.Fatalf("%d %s %v", w.Code, w.Body, err)
			}
			if ids(got) != tc.want {
				t.Fatalf("got %q, want %q", ids(got), tc.want)
			}
			// The paged answer filters the same legs.
			w = e.do("GET", "/api/v1/calls?from=2026-12-01&per_page=2&"+tc.query, nil, e.as("tecnico"))
			if w.Code != http.StatusOK || w.Header().Get("X-Total-Count") != strconv.Itoa(len(got)) {
				t.Fatalf("paged: %d total %q, want %d", w.Code, w.Header().Get("X-Total-Count"), len(got))
			}
		})
	}
}

// TestCallsGreetingBadQuery: a bad bound is a 400 naming its parameter.
func TestCallsGreetingBadQuery(t *testing.T) {
	e := greetingEnv(t)
	for _, tc := range []struct{ query, want string }{
		{"greeting_min=x", "greeting_min"},
		{"greeting_min=-1", "greeting_min"},
		{"greeting_min=1e3", "greeting_min"},
		{"greeting_min=inf", "greeting_min"},
		{"greeting_min=NaN", "greeting_min"},
		{"greeting_min=0x1p3", "greeting_min"},
		{"greeting_min=.", "greeting_min"},
		{"greeting_min=1.2.3", "greeting_min"},
		{"greeting_min=1,2,3", "greeting_min"},
		{"greeting_min=86401", "greeting_min"},
		{"greeting_max=abc", "greeting_max"},
		{"greeting_max=2s", "greeting_max"},
		{"greeting_min=3&greeting_max=1", "greeting_max"},
		{"greeting_min=" + url.QueryEscape(strings.Repeat("9", 500)), "greeting_min"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			w := e.do("GET", "/api/v1/calls?"+tc.query, nil, e.as("tecnico"))
			var body errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != http.StatusBadRequest || !strings.Contains(body.Error, tc.want) {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			if len(body.Error) > 300 {
				t.Fatalf("error echoes the whole value: %d bytes", len(body.Error))
			}
		})
	}
}
