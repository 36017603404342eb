package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// fakeAggregates is the store's aggregates: Aggregates keeps to [from,
// to) as storage.Store does, and remembers the ranges asked.
type fakeAggregates struct {
	mu    sync.Mutex
	as    []sip.Aggregate
	asked [][2]time.Time
	// err fails the read after failAfter aggregates.
	err       error
	failAfter int
}

func (f *fakeAggregates) Aggregates(ctx context.Context, from, to time.Time, fn func(sip.Aggregate) error) error {
	f.mu.Lock()
	f.asked = append(f.asked, [2]time.Time{from, to})
	as, err, failAfter := f.as, f.err, f.failAfter
	f.mu.Unlock()
	n := 0
	for _, a := range as {
		if a.Period.Before(from) || !a.Period.Before(to) {
			continue
		}
		if err != nil && n == failAfter {
			return err
		}
		if err := fn(a); err != nil {
			return err
		}
		n++
	}
	if err != nil && n == failAfter {
		return err
	}
	return ctx.Err()
}

// aggregatesEnv is a server whose store holds aggregates around 1–2
// December 2026 in testLocation (UTC−6): the local day 1 December is
// [06:00Z 1 Dec, 06:00Z 2 Dec).
func aggregatesEnv(t *testing.T) (*testEnv, *fakeAggregates) {
	t.Helper()
	e := newTestEnv(t)
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	agg := func(period, source, reason string, legs int, flood bool) sip.Aggregate {
		p := at(period)
		return sip.Aggregate{Period: p, Source: source, Reason: reason, Legs: legs,
			First: p.Add(time.Second), Last: p.Add(59*time.Second + 999*time.Millisecond), Flood: flood}
	}
	f := &fakeAggregates{as: []sip.Aggregate{
		agg("2026-12-01T05:59:00Z", "192.0.2.66", "timeout", 4, true), // 30 Nov, 23:59 local
		agg("2026-12-01T06:00:00Z", "192.0.2.66", "timeout", 12000, true),
		agg("2026-12-01T06:00:00Z", "198.51.100.9", "486", 3, false),
		agg("2026-12-02T05:59:00Z", "192.0.2.66", "evicted", 1, true), // 1 Dec, 23:59 local
		agg("2026-12-02T06:00:00Z", "192.0.2.66", "timeout", 9, true), // 2 Dec
	}}
	e.srv.cfg.Aggregates = f
	e.handler = e.srv.Handler()
	e.local = e.srv.LocalHandler()
	return e, f
}

func decodeAggregateArray(t *testing.T, body string) []sip.Aggregate {
	t.Helper()
	var as []sip.Aggregate
	if err := json.Unmarshal([]byte(body), &as); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return as
}

// TestAggregatesDays: from and to are local days (to inclusive), as for
// /api/v1/calls; none given is today; the answer is the stored aggregates
// of those days as stored, an empty array when there are none.
func TestAggregatesDays(t *testing.T) {
	e, f := aggregatesEnv(t)
	tests := []struct {
		name  string
		query string
		// want are indexes into f.as.
		want []int
	}{
		{"one day", "from=2026-12-01&to=2026-12-01", []int{1, 2, 3}},
		{"from only", "from=2026-12-01", []int{1, 2, 3}},
		{"to only", "to=2026-12-02", []int{4}},
		{"two days", "from=2026-11-30&to=2026-12-01", []int{0, 1, 2, 3}},
		{"today", "", []int{1, 2, 3}}, // the clock is 1 Dec 2026, 10:00 local
		{"none", "from=2025-01-01&to=2025-01-31", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do("GET", "/api/v1/aggregates?"+tc.query, nil, e.as("tecnico"))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			got := decodeAggregateArray(t, w.Body.String())
			if tc.want == nil && got == nil {
				t.Errorf("no aggregates must be [], not %s", w.Body)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d aggregates, want %d: %s", len(got), len(tc.want), w.Body)
			}
			for i, j := range tc.want {
				g, x := got[i], f.as[j]
				if !g.Period.Equal(x.Period) || !g.First.Equal(x.First) || !g.Last.Equal(x.Last) ||
					g.Source != x.Source || g.Reason != x.Reason || g.Legs != x.Legs || g.Flood != x.Flood {
					t.Errorf("aggregate %d = %+v, want %+v", i, g, x)
				}
			}
		})
	}
}

// TestAggregatesKeys: the JSON keys are sip.Aggregate's (the contract
// `switchtap calls --aggregates --json` prints).
func TestAggregatesKeys(t *testing.T) {
	e, _ := aggregatesEnv(t)
	w := e.do("GET", "/api/v1/aggregates?from=2026-11-30&to=2026-11-30", nil, e.as("jefe"))
	want := `[{"period":"2026-12-01T05:59:00Z","source":"192.0.2.66","reason":"timeout","legs":4,` +
		`"first_invite_at":"2026-12-01T05:59:01Z","last_invite_at":"2026-12-01T05:59:59.999Z","flood":true}]` + "\n"
	if w.Code != http.StatusOK || w.Body.String() != want {
		t.Errorf("%d %s\nwant %s", w.Code, w.Body, want)
	}
}

// TestAggregatesRangeErrors: a bad day, a reversed range or one over a
// year is a 400 naming it, and the store is not read.
func TestAggregatesRangeErrors(t *testing.T) {
	e, f := aggregatesEnv(t)
	tests := []struct{ query, want string }{
		{"from=2026-13-01", "from"},
		{"from=2026-12-01&to=1%20dic", "to"},
		{"from=2026-12-01T00:00:00Z", "from"},
		{"from=2026-12-02&to=2026-12-01", "anterior"},
		{"from=2025-01-01&to=2026-12-01", "366"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			w := e.do("GET", "/api/v1/aggregates?"+tc.query, nil, e.as("admin"))
			if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), tc.want) {
				t.Errorf("status %d %s, want 400 naming %q", w.Code, w.Body, tc.want)
			}
		})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.asked) != 0 {
		t.Errorf("the store was read for a bad query: %v", f.asked)
	}
}

// TestAggregatesRoles: the office roles read them; a receptionist does
// not (the legs of an aggregate never reached anyone), nor does anyone
// without a login. The role table (TestRoutesByPrincipal) covers the
// rest of the principals.
func TestAggregatesRoles(t *testing.T) {
	e, _ := aggregatesEnv(t)
	e.auth.addUser("recep", RoleRecepcionista, testPassword).Operator = "201"
	tests := []struct {
		who  string
		want int
	}{
		{"tecnico", http.StatusOK},
		{"jefe", http.StatusOK},
		{"admin", http.StatusOK},
		{"recep", http.StatusForbidden},
		{"", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.who, func(t *testing.T) {
			if w := e.do("GET", "/api/v1/aggregates?from=2026-12-01", nil, e.as(tc.who)); w.Code != tc.want {
				t.Errorf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
		})
	}
}

// TestAggregatesSocket: the local socket serves them to its peer (what
// `switchtap calls --aggregates` asks while the daemon holds the store),
// and nothing without peer credentials.
func TestAggregatesSocket(t *testing.T) {
	e, _ := aggregatesEnv(t)
	r := e.request("GET", "/api/v1/aggregates?from=2026-12-01&to=2026-12-01", nil)
	if w := serve(e.local, r); w.Code != http.StatusUnauthorized {
		t.Fatalf("no peer: %d %s", w.Code, w.Body)
	}
	r = e.request("GET", "/api/v1/aggregates?from=2026-12-01&to=2026-12-01", nil)
	r = r.WithContext(WithPeer(r.Context(), 1000))
	w := serve(e.local, r)
	if w.Code != http.StatusOK {
		t.Fatalf("peer: %d %s", w.Code, w.Body)
	}
	if got := decodeAggregateArray(t, w.Body.String()); len(got) != 3 || got[0].Legs != 12000 {
		t.Errorf("peer got %s", w.Body)
	}
	r = e.request("GET", "/api/v1/aggregates?from=2026-12-02&to=2026-12-01", nil)
	r = r.WithContext(WithPeer(r.Context(), 1000))
	if w := serve(e.local, r); w.Code != http.StatusBadRequest {
		t.Errorf("peer, reversed range: %d %s", w.Code, w.Body)
	}
}

// TestAggregatesNotServed: a server without aggregates (the central one)
// answers 404 in JSON, which the command turns into "the daemon does not
// serve them" rather than an empty list.
func TestAggregatesNotServed(t *testing.T) {
	e := newTestEnv(t)
	w := e.do("GET", "/api/v1/aggregates?from=2026-12-01", nil, e.as("admin"))
	if w.Code != http.StatusNotFound || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Errorf("status %d %q: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
}

// TestAggregatesStoreFails: a store failing at once is a clean 500; one
// failing after the first aggregate cuts the array, so that no client
// takes it for the whole answer.
func TestAggregatesStoreFails(t *testing.T) {
	e, f := aggregatesEnv(t)
	down := errors.New("store down")
	tests := []struct {
		name      string
		failAfter int
		code      int
	}{
		{"at once", 0, http.StatusInternalServerError},
		{"mid-answer", 1, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.mu.Lock()
			f.err, f.failAfter = down, tc.failAfter
			f.mu.Unlock()
			w := e.do("GET", "/api/v1/aggregates?from=2026-12-01", nil, e.as("admin"))
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.code, w.Body)
			}
			if strings.Contains(w.Body.String(), "store down") {
				t.Errorf("the cause is shown: %s", w.Body)
			}
			if tc.code == http.StatusOK {
				var as []sip.Aggregate
				if json.Unmarshal(w.Body.Bytes(), &as) == nil {
					t.Errorf("a cut answer is valid JSON: %s", w.Body)
				}
			}
		})
	}
}
