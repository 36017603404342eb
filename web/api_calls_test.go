package web

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// callsEnv has records on 30 Nov, 1 Dec and 2 Dec (local), of several
// kinds.
func callsEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	day := -10 * time.Hour // 2026-12-01 00:00 local
	a := e.testCall("a", day+8*time.Hour)
	b := e.testCall("b", day+9*time.Hour)
	b.Operator, b.EndReason, b.WithinLimit, b.AnsweredAt, b.Rings = "202", sip.EndAbandoned, false, nil, 6
	c := e.testCall("c", day+11*time.Hour)
	c.Transfer = &sip.Transfer{Kind: "blind", Target: "202", Result: "200", TargetCallID: "d@pbx"}
	d := e.testCall("d", day+11*time.Hour+time.Minute)
	d.TransferredFrom = "c@pbx"
	d.Operator = "202"
	o := e.testCall("o", day+12*time.Hour)
	o.Direction, o.From = sip.DirectionOutbound, "=cmd|' /C calc'!A0"
	before := e.testCall("before", day-time.Second)
	after := e.testCall("after", day+24*time.Hour)
	for _, x := range []sip.Call{a, b, c, d, o, before, after} {
		e.calls.add(x)
	}
	return e
}

func ids(calls []sip.Call) string {
	var s []string
	for _, c := range calls {
		s = append(s, c.ID)
	}
	return strings.Join(s, ",")
}

// TestCallsFilters: each filter selects what it names, dates are local
// days with to inclusive, and the JSON is the records' own.
func TestCallsFilters(t *testing.T) {
	e := callsEnv(t)
	for _, tc := range []struct{ query, want string }{
		{"from=2026-12-01&to=2026-12-01", "a,b,c,d,o"},
		{"", "a,b,c,d,o"}, // today
		{"from=2026-11-30&to=2026-12-02", "before,a,b,c,d,o,after"},
		{"from=2026-12-02", "after"},
		{"to=2026-11-30", "before"},
		{"from=2026-12-01&operator=202", "b,d"},
		{"from=2026-12-01&direction=outbound", "o"},
		{"from=2026-12-01&end_reason=abandoned", "b"},
		{"from=2026-12-01&within_limit=false", "b"},
		{"from=2026-12-01&within_limit=true&direction=inbound", "a,c,d"},
		{"from=2026-12-01&transferred=true", "c"},
		{"from=2026-12-01&transferred=false&operator=201", "a,o"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			w := e.do("GET", "/api/v1/calls?"+tc.query, nil, e.as("tecnico"))
			var got []sip.Call
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusOK {
				t.Fatalf("%d %s %v", w.Code, w.Body, err)
			}
			if ids(got) != tc.want {
				t.Fatalf("got %s, want %s", ids(got), tc.want)
			}
			if w.Header().Get("X-Total-Count") != "" {
				t.Error("X-Total-Count without paging")
			}
		})
	}
	// The JSON of a record is exactly json.Marshal of it (replay --json).
	w := e.do("GET", "/api/v1/calls?from=2026-12-01&operator=202&end_reason=abandoned", nil, e.as("tecnico"))
	b, _ := json.Marshal([]sip.Call{mustCall(t, e, "b")})
	if strings.TrimSpace(w.Body.String()) != string(b) {
		t.Fatalf("JSON\n%s\nwant\n%s", w.Body, b)
	}
	// None: an empty array, not null.
	if w := e.do("GET", "/api/v1/calls?from=2025-01-01", nil, e.as("tecnico")); strings.TrimSpace(w.Body.String()) != "[]" {
		t.Fatalf("no calls: %q", w.Body)
	}
}

func mustCall(t *testing.T, e *testEnv, id string) sip.Call {
	t.Helper()
	c, err := e.calls.Call(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCallsPaging: page and per_page cut the list and X-Total-Count gives
// all matches.
func TestCallsPaging(t *testing.T) {
	e := callsEnv(t)
	for _, tc := range []struct{ query, want, total string }{
		{"per_page=2", "a,b", "5"},
		{"per_page=2&page=3", "o", "5"},
		{"per_page=2&page=4", "", "5"},
		{"page=1", "a,b,c,d,o", "5"},
		{"page=1&per_page=3&direction=inbound", "a,b,c", "4"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			w := e.do("GET", "/api/v1/calls?from=2026-12-01&"+tc.query, nil, e.as("tecnico"))
			var got []sip.Call
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if ids(got) != tc.want || w.Header().Get("X-Total-Count") != tc.total {
				t.Fatalf("got %s total %s, want %s total %s", ids(got), w.Header().Get("X-Total-Count"), tc.want, tc.total)
			}
		})
	}
}

// TestCallsBadQuery: a bad value is 400 with a message naming it.
func TestCallsBadQuery(t *testing.T) {
	e := callsEnv(t)
	for _, tc := range []struct{ query, want string }{
		{"from=2026-13-01", "from"},
		{"from=01/12/2026", "from"},
		{"from=2026-12-01&to=x", "to"},
		{"from=2026-12-02&to=2026-12-01", "anterior"},
		{"from=2020-01-01&to=2026-12-01", "rango"},
		{"direction=sideways", "direction"},
		{"end_reason=bored", "end_reason"},
		{"within_limit=yes", "within_limit"},
		{"transferred=1", "transferred"},
		{"page=0", "page"},
		{"per_page=1001", "per_page"},
		{"per_page=x", "per_page"},
		{"format=xml", "format"},
		{"operator=" + strings.Repeat("9", maxFilterLen+1), "operator"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			w := e.do("GET", "/api/v1/calls?"+tc.query, nil, e.as("tecnico"))
			var body errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != http.StatusBadRequest || !strings.Contains(body.Error, tc.want) {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
		})
	}
	_, err := parseCallFilter(url.Values{"from": {"nope"}}, time.UTC)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("parseCallFilter: %v", err)
	}
}

// TestCallsCSV: the export has the stable header, one row per record,
// defused formulas, and is audited with the filter before any row.
func TestCallsCSV(t *testing.T) {
	e := callsEnv(t)
	w := e.do("GET", "/api/v1/calls?from=2026-12-01&direction=outbound&format=csv", nil, e.as("jefe"))
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") ||
		!strings.Contains(w.Header().Get("Content-Disposition"), "llamadas_2026-12-01_2026-12-01.csv") {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	rows, err := csv.NewReader(w.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows[0], callsCSVHeader) || len(rows) != 2 {
		t.Fatalf("rows %q", rows)
	}
	row := map[string]string{}
	for i, k := range rows[0] {
		row[k] = rows[1][i]
	}
	if row["id"] != "o" || row["de"] != "'=cmd|' /C calc'!A0" || row["direccion"] != "outbound" || row["invite"] != "2026-12-01T12:00:00-06:00" || row["dentro_limite"] != "true" {
		t.Fatalf("row %v", row)
	}
	ents := e.auth.entries()
	if len(ents) != 1 || ents[0].Action != ActionExportCalls || ents[0].Actor != "jefe" || ents[0].Detail != "direction=outbound&from=2026-12-01&to=2026-12-01" {
		t.Fatalf("audit %+v", ents)
	}
}

// TestCallDetail: the detail is the record's keys plus messages ([] when
// none) and linked legs both ways of a transfer.
func TestCallDetail(t *testing.T) {
	e := callsEnv(t)
	msg := sip.LegMessage{At: e.clock.Now().UTC(), Src: "10.0.0.1:5060", Dst: "10.0.0.2:5060", Transport: "udp", Method: "INVITE", CSeq: 1, CSeqMethod: "INVITE", FromCaller: true, Raw: "INVITE sip:100@x SIP/2.0\r\n"}
	e.calls.add(mustCall(t, e, "c"), msg)
	w := e.do("GET", "/api/v1/calls/c", nil, e.as("tecnico"))
	var got map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	var rec map[string]json.RawMessage
	b, _ := json.Marshal(mustCall(t, e, "c"))
	_ = json.Unmarshal(b, &rec)
	for k, v := range rec {
		if string(got[k]) != string(v) {
			t.Errorf("key %s = %s, want %s", k, got[k], v)
		}
	}
	if len(got) != len(rec)+2 {
		t.Errorf("%d keys, want %d", len(got), len(rec)+2)
	}
	var msgs []sip.LegMessage
	if err := json.Unmarshal(got["messages"], &msgs); err != nil || !reflect.DeepEqual(msgs, []sip.LegMessage{msg}) {
		t.Fatalf("messages %s", got["messages"])
	}
	var linked []struct {
		Relation string           `json:"relation"`
		Call     sip.Call         `json:"call"`
		Messages []sip.LegMessage `json:"messages"`
	}
	if err := json.Unmarshal(got["linked"], &linked); err != nil || len(linked) != 1 || linked[0].Relation != RelationTransferTarget || linked[0].Call.ID != "d" || linked[0].Messages == nil {
		t.Fatalf("linked %s", got["linked"])
	}
	// The other way round, and a leg with nothing linked.
	d, err := e.srv.callDetail(t.Context(), "d")
	if err != nil || len(d.Linked) != 1 || d.Linked[0].Relation != RelationTransferredFrom || d.Linked[0].Call.ID != "c" {
		t.Fatalf("d: %+v %v", d.Linked, err)
	}
	w = e.do("GET", "/api/v1/calls/a", nil, e.as("tecnico"))
	if !strings.Contains(w.Body.String(), `"messages":[]`) || !strings.Contains(w.Body.String(), `"linked":[]`) {
		t.Fatalf("a: %s", w.Body)
	}
	e.calls.err = errFakeDown
	if w := e.do("GET", "/api/v1/calls/a", nil, e.as("tecnico")); w.Code != http.StatusInternalServerError {
		t.Fatalf("store down: %d", w.Code)
	}
}

// TestTodayCounters: inbound legs not created by a transfer, today only.
func TestTodayCounters(t *testing.T) {
	e := callsEnv(t)
	got, err := e.srv.todayCounters(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// a, b, c (d is a transfer's leg, o outbound, before/after other days).
	if want := (Counters{Offered: 3, WithinLimit: 2, Abandoned: 1, Transferred: 1}); got != want {
		t.Fatalf("%+v, want %+v", got, want)
	}
}

// TestAudit: jefe reads the entries of a range as JSON (not audited) and
// exports them as CSV (audited).
func TestAudit(t *testing.T) {
	e := newTestEnv(t)
	e.auth.mu.Lock()
	e.auth.appendAudit(AuditEvent{Actor: "tecnico", Action: ActionRecordingPlay, Target: "c1", Detail: "=1+1"})
	e.auth.mu.Unlock()
	w := e.do("GET", "/api/v1/audit?from=2026-12-01&to=2026-12-01", nil, e.as("jefe"))
	var ents []AuditEntry
	if err := json.Unmarshal(w.Body.Bytes(), &ents); err != nil || len(ents) != 1 || ents[0].Target != "c1" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if n := len(e.auth.entries()); n != 1 {
		t.Fatalf("viewing audited: %d entries", n)
	}
	w = e.do("GET", "/api/v1/audit?from=2026-11-30&format=csv", nil, e.as("admin"))
	if strings.Contains(w.Body.String(), "c1") {
		t.Fatalf("other day exported: %s", w.Body)
	}
	w = e.do("GET", "/api/v1/audit?format=csv", nil, e.as("admin"))
	rows, err := csv.NewReader(w.Body).ReadAll()
	if err != nil || !reflect.DeepEqual(rows[0], auditCSVHeader) || len(rows) != 4 || rows[1][5] != "'=1+1" {
		t.Fatalf("%v %q", err, rows)
	}
	if e.auth.count(ActionExportAudit) != 2 {
		t.Fatalf("exports audited %d times", e.auth.count(ActionExportAudit))
	}
	if w := e.do("GET", "/api/v1/audit?from=bad", nil, e.as("admin")); w.Code != http.StatusBadRequest {
		t.Fatalf("bad from: %d", w.Code)
	}
}
