package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkConsoleCallsPage renders Llamadas with 50 rows (a day of 200
// calls read through the fake store, one page kept).
func BenchmarkConsoleCallsPage(b *testing.B) {
	e := newTestEnv(b)
	addDay(e, 200)
	c := e.session("tecnico")
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		r := e.request("GET", "/llamadas", nil)
		r.AddCookie(c)
		e.handler.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkConsoleDetailPage renders the detail page of the ladder
// fixture (13 messages over two legs, a recording).
func BenchmarkConsoleDetailPage(b *testing.B) {
	e := newTestEnv(b)
	call, d := ladderFixture()
	e.calls.add(call, d.Messages...)
	e.calls.add(d.Linked[0].Call, d.Linked[0].Messages...)
	c := e.session("tecnico")
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		r := e.request("GET", "/llamadas/"+call.ID, nil)
		r.AddCookie(c)
		e.handler.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
