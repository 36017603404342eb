package web

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// benchHub returns a hub with n ringing calls and subs draining
// subscribers; stop ends them.
func benchHub(b *testing.B, n, subs int) (h *Hub, t0 time.Time, idle func(), stop func()) {
	b.Helper()
	h = NewHub(sip.DefaultRingPolicy(), nil)
	t0 = time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	for i := range n {
		c := liveCall(fmt.Sprint("r", i), t0)
		// Spread the ring starts over a cycle, as real calls are.
		rt := t0.Add(time.Duration(i) * 6 * time.Second / time.Duration(n))
		c.RingingAt = &rt
		h.Event(sip.Event{Kind: sip.EventOffered, At: t0, Call: c})
		h.Event(sip.Event{Kind: sip.EventRinging, At: rt, Call: c})
	}
	var wg sync.WaitGroup
	var cancels []func()
	var chans []<-chan LiveEvent
	for range subs {
		ch, cancel := h.Subscribe()
		cancels = append(cancels, cancel)
		chans = append(chans, ch)
		wg.Go(func() {
			for range ch {
			}
		})
	}
	// idle waits, off the clock, until the subscribers have read all:
	// on a small machine they would otherwise fall behind the loop and
	// be dropped, and the benchmark would no longer send to them.
	idle = func() {
		b.StopTimer()
		for _, ch := range chans {
			for len(ch) > 0 {
				time.Sleep(10 * time.Microsecond)
			}
		}
		b.StartTimer()
	}
	return h, t0, idle, func() {
		for _, c := range cancels {
			c()
		}
		wg.Wait()
	}
}

// BenchmarkHubEventAdvance: with 1,000 calls ringing and 10 subscribers,
// one leg offered and ended plus an Advance of the capture clock by 1 ms
// (the pipeline calls Advance per frame): the cost on the capture path.
func BenchmarkHubEventAdvance(b *testing.B) {
	h, t0, idle, stop := benchHub(b, 1000, 10)
	defer stop()
	c := liveCall("x", t0)
	now := t0.Add(6 * time.Second)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%64 == 0 {
			idle()
		}
		now = now.Add(time.Millisecond)
		h.Event(sip.Event{Kind: sip.EventOffered, At: now, Call: c})
		h.Event(sip.Event{Kind: sip.EventEnded, At: now, Call: c})
		h.Advance(now)
	}
	b.StopTimer()
	if h.Dropped() != 0 {
		b.Fatalf("%d subscribers dropped", h.Dropped())
	}
}

// BenchmarkHubAdvanceSweep: Advance when it must look at every one of
// 1,000 ringing calls (one ring boundary per op), with 10 subscribers.
func BenchmarkHubAdvanceSweep(b *testing.B) {
	h, t0, idle, stop := benchHub(b, 1000, 10)
	defer stop()
	now := t0.Add(6 * time.Second)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%128 == 0 {
			idle()
		}
		// 6 ms: one call in 1,000 reaches its next ring.
		now = now.Add(6 * time.Millisecond)
		h.Advance(now)
	}
}

// BenchmarkCallsDay: GET /api/v1/calls of a day of 10,000 records, through
// the guard with a session, over the fake store.
func BenchmarkCallsDay(b *testing.B) {
	e := newTestEnv(b)
	day := e.clock.Now().Add(-10 * time.Hour)
	for i := range 10000 {
		c := e.testCall(fmt.Sprint("c", i), 0)
		c.InviteAt = day.Add(time.Duration(i) * 8 * time.Second).UTC()
		e.calls.add(c)
	}
	cookie := e.session("tecnico")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r := httptest.NewRequest("GET", "/api/v1/calls?from=2026-12-01&to=2026-12-01", nil)
		r.AddCookie(cookie)
		w := &discardWriter{h: make(http.Header)}
		e.handler.ServeHTTP(w, r)
		if w.code != 200 {
			b.Fatal(w.code)
		}
	}
}

// discardWriter is a ResponseWriter that keeps nothing of the body.
type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) {
	if d.code == 0 {
		d.code = 200
	}
	return io.Discard.Write(p)
}
func (d *discardWriter) WriteHeader(code int) { d.code = code }

// BenchmarkPeaks: the waveform of a 10-minute recording (4.8 M frames).
func BenchmarkPeaks(b *testing.B) {
	frames := 10 * 60 * 8000
	pcm := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x40\x1f\x00\x00\x00\x7d\x00\x00\x04\x00\x10\x00data")
	pcm = binary.LittleEndian.AppendUint32(pcm, uint32(4*frames))
	for i := range frames {
		pcm = binary.LittleEndian.AppendUint32(pcm, uint32(i*7919))
	}
	b.SetBytes(int64(len(pcm)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := computePeaks(bytes.NewReader(pcm), int64(len(pcm)), peaksDefault); err != nil {
			b.Fatal(err)
		}
	}
}
