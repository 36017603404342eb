package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// liveCall returns a record of a leg invited at at.
func liveCall(id string, at time.Time) *sip.Call {
	return &sip.Call{ID: id, CallID: id + "@pbx", From: "2222", To: "100", Operator: "201", Direction: sip.DirectionInbound, InviteAt: at}
}

// recv returns the next event or fails after a second.
func recv(t *testing.T, ch <-chan LiveEvent) LiveEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return ev
	case <-time.After(time.Second):
		t.Fatal("no event")
	}
	return LiveEvent{}
}

// TestHubRings: offered, ringing, then rings growing with the capture clock
// driven by Advance (one event per new ring, none between), answered
// removes the call from the snapshot.
func TestHubRings(t *testing.T) {
	ring := sip.DefaultRingPolicy() // 2 s on, 4 s off: a ring every 6 s
	h := NewHub(ring, nil)
	ch, cancel := h.Subscribe()
	defer cancel()
	t0 := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	c := liveCall("a", t0)
	h.Event(sip.Event{Kind: sip.EventOffered, At: t0, Call: c})
	if ev := recv(t, ch); ev.Kind != LiveKindOffered || ev.Call.ID != "a" || ev.Call.RingingAt != nil {
		t.Fatalf("%+v", ev)
	}
	rt := t0.Add(200 * time.Millisecond)
	c.RingingAt = &rt
	h.Event(sip.Event{Kind: sip.EventRinging, At: rt, Call: c})
	// The hub copied: a later change of the shared record is not seen.
	c.From = "changed"
	if ev := recv(t, ch); ev.Kind != LiveKindRinging || ev.Call.Rings != 1 || !ev.Call.RingingAt.Equal(rt) || ev.Call.From != "2222" {
		t.Fatalf("%+v", ev)
	}
	var rings []int
	for s := time.Duration(0); s <= 25*time.Second; s += 500 * time.Millisecond {
		h.Advance(rt.Add(s))
	drain:
		for {
			select {
			case ev := <-ch:
				if ev.Kind != LiveKindRings || !ev.Call.At.Equal(rt.Add(s)) {
					t.Fatalf("%+v", ev)
				}
				rings = append(rings, ev.Call.Rings)
			default:
				break drain
			}
		}
	}
	// Rings start at 0, 6, 12, 18, 24 s: counts 2..5 after the first.
	if fmt.Sprint(rings) != "[2 3 4 5]" {
		t.Fatalf("rings %v", rings)
	}
	snap := h.Snapshot()
	if len(snap.Ringing) != 1 || snap.Ringing[0].Rings != 5 || snap.Ringing[0].WithinLimit || !snap.Ringing[0].At.Equal(t0) {
		t.Fatalf("snapshot %+v", snap)
	}
	at := rt.Add(26 * time.Second)
	c.AnsweredAt, c.Rings = &at, 5
	h.Event(sip.Event{Kind: sip.EventAnswered, At: at, Call: c})
	if ev := recv(t, ch); ev.Kind != LiveKindAnswered || ev.Call.Rings != 5 {
		t.Fatalf("%+v", ev)
	}
	if len(h.Snapshot().Ringing) != 0 {
		t.Fatal("answered call still in snapshot")
	}
	h.Advance(at.Add(time.Minute))
	select {
	case ev := <-ch:
		t.Fatalf("event after answer: %+v", ev)
	default:
	}
	// Media events are not published; the lamp only on change.
	h.Event(sip.Event{Kind: sip.EventMedia, At: at, Call: c})
	h.SetLamp("ok", "off")
	h.SetLamp("fault", "alarm")
	h.SetLamp("fault", "alarm")
	if ev := recv(t, ch); ev.Kind != LiveKindLamp || ev.Lamp != (LiveLamp{"fault", "alarm"}) {
		t.Fatalf("%+v", ev)
	}
	select {
	case ev := <-ch:
		t.Fatalf("unexpected %+v", ev)
	default:
	}
}

// TestHubSlowSubscriber: a subscriber that never reads is dropped (channel
// closed, counted) and Event never blocks; the others go on.
func TestHubSlowSubscriber(t *testing.T) {
	h := NewHub(sip.DefaultRingPolicy(), nil)
	slow, cancelSlow := h.Subscribe()
	defer cancelSlow()
	fast, cancelFast := h.Subscribe()
	defer cancelFast()
	got := make(chan int)
	ack := make(chan struct{})
	go func() {
		n := 0
		for range fast {
			n++
			ack <- struct{}{}
		}
		got <- n
	}()
	t0 := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	const events = 3 * subscriberBuffer
	for i := range events {
		done := make(chan struct{})
		go func() {
			h.Event(sip.Event{Kind: sip.EventOffered, At: t0, Call: liveCall(fmt.Sprint(i), t0)})
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Event blocked on a slow subscriber")
		}
		<-ack
	}
	if h.Dropped() != 1 || h.Subscribers() != 1 {
		t.Fatalf("dropped %d, %d subscribers", h.Dropped(), h.Subscribers())
	}
	n := 0
	for range slow {
		n++
	}
	if n != subscriberBuffer {
		t.Fatalf("slow got %d before its close, want %d", n, subscriberBuffer)
	}
	cancelFast()
	if n := <-got; n != events {
		t.Fatalf("fast got %d of %d", n, events)
	}
	cancelFast() // twice is harmless
}

// TestHubBounded: the ringing set stops at its bound and counts the rest.
func TestHubBounded(t *testing.T) {
	h := NewHub(sip.DefaultRingPolicy(), nil)
	t0 := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	for i := range maxLiveCalls + 5 {
		c := liveCall(fmt.Sprint(i), t0)
		h.Event(sip.Event{Kind: sip.EventOffered, At: t0, Call: c})
		c.RingingAt = &t0
		h.Event(sip.Event{Kind: sip.EventRinging, At: t0, Call: c})
	}
	if n := len(h.Snapshot().Ringing); n != maxLiveCalls || h.Overflow() != 10 {
		t.Fatalf("%d kept, %d overflow", n, h.Overflow())
	}
}

// TestLiveSSE: the stream starts with a snapshot, then sends the hub's
// events and heartbeats as Server-Sent Events, and ends with the client.
func TestLiveSSE(t *testing.T) {
	e := newTestEnv(t)
	t0 := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	ringing := liveCall("r1", t0)
	e.hub.Event(sip.Event{Kind: sip.EventOffered, At: t0, Call: ringing})
	ringing.RingingAt = &t0
	e.hub.Event(sip.Event{Kind: sip.EventRinging, At: t0, Call: ringing})

	a := newAPI(e.srv)
	a.heartbeat = 20 * time.Millisecond
	rt := newRouter()
	a.routes(rt)
	srv := httptest.NewServer(e.srv.guard(rt.mux, false))
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/live", nil)
	req.AddCookie(e.session("tecnico"))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	sc := bufio.NewScanner(resp.Body)
	next := func() (event, data string) {
		t.Helper()
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = strings.TrimPrefix(line, "data: ")
			case strings.HasPrefix(line, ": "):
				return "heartbeat", ""
			case line == "" && event != "":
				return event, data
			}
		}
		t.Fatalf("stream ended: %v", sc.Err())
		return "", ""
	}
	ev, data := next()
	var snap LiveSnapshot
	if err := json.Unmarshal([]byte(data), &snap); ev != "snapshot" || err != nil || len(snap.Ringing) != 1 || snap.Ringing[0].ID != "r1" || snap.Lamp != "ok" {
		t.Fatalf("%s %s", ev, data)
	}
	for e.hub.Subscribers() != 1 {
		time.Sleep(time.Millisecond)
	}
	e.hub.Advance(t0.Add(7 * time.Second))
	e.hub.SetLamp("no_sip", "warning")
	want := []string{"rings", "lamp"}
	var got []string
	heartbeats := 0
	for len(got) < len(want) || heartbeats == 0 {
		ev, data := next()
		if ev == "heartbeat" {
			heartbeats++
			continue
		}
		got = append(got, ev)
		var m map[string]any
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if ev == "rings" {
			for _, k := range []string{"id", "call_id", "from", "to", "operator", "direction", "at", "ringing_at", "rings", "within_limit", "end_reason"} {
				if _, ok := m[k]; !ok {
					t.Errorf("rings event lacks %q: %s", k, data)
				}
			}
			if m["rings"] != 2.0 {
				t.Errorf("rings %v", m["rings"])
			}
		}
		if ev == "lamp" && (m["lamp"] != "no_sip" || m["alarm"] != "warning") {
			t.Errorf("lamp %s", data)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	cancel()
	deadline := time.Now().Add(2 * time.Second)
	for e.hub.Subscribers() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("subscription not ended with the client")
		}
		time.Sleep(time.Millisecond)
	}
}
