package web

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// recepEnv is a procEnv with today's calls c1 (201, recorded), c2 (202,
// recorded) and c3 (201).
func recepEnv(t *testing.T) *procEnv {
	t.Helper()
	pe := newProcEnv(t)
	for i, op := range []string{"201", "202", "201"} {
		c := pe.testCall("c"+string(rune('1'+i)), -time.Duration(3-i)*time.Hour)
		c.Operator = op
		pe.calls.add(c)
	}
	writeTestRecording(t, pe.testEnv, "c1", tone(8000, 440, 8000), tone(8000, 1000, 3000))
	writeTestRecording(t, pe.testEnv, "c2", tone(8000, 440, 8000), tone(8000, 1000, 3000))
	return pe
}

// listIDs returns the ids of a JSON call list.
func listIDs(t *testing.T, body []byte) []string {
	t.Helper()
	var calls []sip.Call
	if err := json.Unmarshal(body, &calls); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	ids := []string{}
	for _, c := range calls {
		ids = append(ids, c.ID)
	}
	return ids
}

// TestReceptionistCalls: a receptionist lists, reads, hears and sees the
// waveform of their own calls only; another's is 404 (never 403); an
// untied account sees none; the office sees all.
func TestReceptionistCalls(t *testing.T) {
	pe := recepEnv(t)
	const day = "?from=2026-12-01&to=2026-12-01"
	lists := []struct {
		who, query string
		ids        []string
	}{
		{"recep201", day, []string{"c1", "c3"}},
		{"recep201", day + "&per_page=1&page=2", []string{"c3"}},
		{"recep201", day + "&operator=202", []string{}},
		{"recep201", day + "&operator=201", []string{"c1", "c3"}},
		{"recep202", day, []string{"c2"}},
		{"recepnadie", day, []string{}},
		{"tecnico", day, []string{"c1", "c2", "c3"}},
		{"socket", day, []string{"c1", "c2", "c3"}},
	}
	for _, l := range lists {
		w, _ := pe.send("GET", "/api/v1/calls"+l.query, "", l.who)
		if w.Code != 200 {
			t.Fatalf("%s %s = %d %s", l.who, l.query, w.Code, w.Body)
		}
		if ids := listIDs(t, w.Body.Bytes()); !slices.Equal(ids, l.ids) {
			t.Errorf("%s %s sees %v, want %v", l.who, l.query, ids, l.ids)
		}
	}
	if w, _ := pe.send("GET", "/api/v1/calls"+day+"&per_page=10", "", "recep201"); w.Header().Get("X-Total-Count") != "2" {
		t.Errorf("total count for 201 = %q", w.Header().Get("X-Total-Count"))
	}
	// The CSV export: own rows only, audited.
	w, _ := pe.send("GET", "/api/v1/calls"+day+"&format=csv", "", "recep202")
	rows, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if w.Code != 200 || err != nil || len(rows) != 2 || pe.auth.count(ActionExportCalls) != 1 {
		t.Fatalf("csv as 202 = %d rows %d (%v)", w.Code, len(rows), err)
	}

	one := []struct {
		path, who string
		code      int
	}{
		{"/api/v1/calls/c1", "recep201", 200},
		{"/api/v1/calls/c2", "recep201", 404},
		{"/api/v1/calls/c2", "recep202", 200},
		{"/api/v1/calls/c1", "recepnadie", 404},
		{"/api/v1/calls/c1/recording", "recep201", 200},
		{"/api/v1/calls/c2/recording", "recep201", 404},
		{"/api/v1/calls/c1/recording", "recepnadie", 404},
		{"/api/v1/calls/c1/peaks", "recep201", 200},
		{"/api/v1/calls/c2/peaks", "recep201", 404},
		{"/api/v1/calls/c2/peaks", "recep202", 200},
		{"/api/v1/calls/c2", "jefe", 200},
		{"/api/v1/calls/nope", "recep201", 404},
	}
	for _, o := range one {
		before := pe.auth.count(ActionRecordingPlay)
		w, _ := pe.send("GET", o.path, "", o.who)
		if w.Code != o.code {
			t.Errorf("%s as %s = %d, want %d", o.path, o.who, w.Code, o.code)
		}
		if w.Code == 404 && strings.Contains(w.Body.String(), "202") {
			t.Errorf("%s as %s: the refusal names the other receptionist: %s", o.path, o.who, w.Body)
		}
		played := pe.auth.count(ActionRecordingPlay) - before
		if want := strings.HasSuffix(o.path, "/recording") && o.code == 200; played != map[bool]int{true: 1}[want] {
			t.Errorf("%s as %s: %d recording_play entries", o.path, o.who, played)
		}
	}
}

// TestReceptionistRoutes: what a receptionist may reach outside their
// calls: their account and the status yes; figures, the audit log and the
// accounts no.
func TestReceptionistRoutes(t *testing.T) {
	pe := recepEnv(t)
	cases := []struct {
		method, path, body string
		code               int
	}{
		{"GET", "/api/v1/me", "", 200},
		{"GET", "/api/v1/status", "", 200},
		{"POST", "/api/v1/account/password", `{"old":"x","new":""}`, 400},
		{"GET", "/api/v1/months/2026-11/figures", "", 403},
		{"GET", "/api/v1/audit", "", 403},
		{"GET", "/api/v1/users", "", 403},
		{"POST", "/api/v1/users", `{"name":"x","role":"admin","password":"long enough"}`, 403},
		{"GET", "/api/v1/months/2026-11/review", "", 403},
		{"POST", "/api/v1/logout", "", 204},
	}
	for _, c := range cases {
		if w, _ := pe.send(c.method, c.path, c.body, "recep201"); w.Code != c.code {
			t.Errorf("%s %s = %d %s, want %d", c.method, c.path, w.Code, w.Body, c.code)
		}
	}
}

// TestReceptionistLive: the live stream's snapshot and events carry only
// the receptionist's own calls (the lamp is everyone's).
func TestReceptionistLive(t *testing.T) {
	pe := recepEnv(t)
	t0 := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	for _, c := range []struct{ id, op string }{{"r1", "201"}, {"r2", "202"}} {
		lc := liveCall(c.id, t0)
		lc.Operator = c.op
		pe.hub.Event(sip.Event{Kind: sip.EventOffered, At: t0, Call: lc})
	}
	srv := httptest.NewServer(pe.handler)
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/live", nil)
	req.AddCookie(pe.session("recep202"))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("live = %d", resp.StatusCode)
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
			case line == "" && event != "":
				return event, data
			}
		}
		t.Fatalf("stream ended: %v", sc.Err())
		return "", ""
	}
	ev, data := next()
	var snap LiveSnapshot
	if err := json.Unmarshal([]byte(data), &snap); ev != "snapshot" || err != nil || len(snap.Ringing) != 1 || snap.Ringing[0].ID != "r2" {
		t.Fatalf("snapshot %s %s", ev, data)
	}
	for pe.hub.Subscribers() != 1 {
		time.Sleep(time.Millisecond)
	}
	// 201's answer is not sent; 202's is, then the lamp.
	for _, c := range []struct{ id, op string }{{"r1", "201"}, {"r2", "202"}} {
		lc := liveCall(c.id, t0)
		lc.Operator = c.op
		ans := t0.Add(3 * time.Second)
		lc.AnsweredAt = &ans
		pe.hub.Event(sip.Event{Kind: sip.EventAnswered, At: ans, Call: lc})
	}
	pe.hub.SetLamp("no_sip", "warning")
	ev, data = next()
	if ev != "answered" || !strings.Contains(data, `"id":"r2"`) {
		t.Fatalf("first event %s %s", ev, data)
	}
	if ev, _ = next(); ev != "lamp" {
		t.Fatalf("second event %s", ev)
	}
}

// TestLiveSnapshotFor: the office's snapshot is untouched; an untied
// receptionist's is empty.
func TestLiveSnapshotFor(t *testing.T) {
	snap := LiveSnapshot{Ringing: []LiveCall{{ID: "a", Operator: "201"}, {ID: "b", Operator: "202"}, {ID: "c"}}, Lamp: "ok"}
	cases := []struct {
		p    Principal
		want int
	}{
		{Principal{Role: RoleJefe}, 3},
		{Principal{Role: RoleAdmin, Via: "socket"}, 3},
		{Principal{Role: RoleRecepcionista, Operator: "201"}, 1},
		{Principal{Role: RoleRecepcionista}, 0},
	}
	for _, c := range cases {
		got := liveSnapshotFor(c.p, snap)
		if len(got.Ringing) != c.want || got.Lamp != "ok" {
			t.Errorf("%+v: %d calls, want %d", c.p, len(got.Ringing), c.want)
		}
	}
	if len(snap.Ringing) != 3 {
		t.Error("the hub's snapshot was changed")
	}
}
