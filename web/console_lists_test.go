package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/switchtap/switchtap/sip"
)

// addDay stores n calls of today, a minute apart from 00:05 local, the
// odd ones by receptionist 202 and outbound.
func addDay(e *testEnv, n int) {
	day := time.Date(2026, 12, 1, 0, 5, 0, 0, testLocation)
	for i := range n {
		c := e.testCall(fmt.Sprintf("d%03d", i), day.Add(time.Duration(i)*time.Minute).Sub(e.clock.Now()))
		if i%2 == 1 {
			c.Operator, c.Direction = "202", sip.DirectionOutbound
		}
		e.calls.add(c)
	}
}

// rowIDs returns the data-id of the rows of table#id.
func rowIDs(doc *html.Node, id string) []string {
	var ids []string
	for _, tr := range within(doc, byID(id), tag("tr", "data-id", "")) {
		ids = append(ids, attrOf(tr, "data-id"))
	}
	return ids
}

// TestConsoleCallsPaging: 50 rows a page in INVITE order, each with its
// detail link; the pager's links and the CSV link keep the filters.
func TestConsoleCallsPaging(t *testing.T) {
	e := newTestEnv(t)
	addDay(e, 130)
	tests := []struct {
		query       string
		rows        int
		first, last string
	}{
		{"", 50, "d000", "d049"},
		{"?page=3", 30, "d100", "d129"},
		{"?operator=202&page=2", 15, "d101", "d129"},
		{"?direction=outbound&operator=202", 50, "d001", "d099"},
		{"?from=2026-11-30&to=2026-11-30", 0, "", ""},
		{"?page=9", 0, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			w := e.do("GET", "/llamadas"+tc.query, nil, e.as("tecnico"))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
			doc := parsePage(t, w)
			ids := rowIDs(doc, "calls")
			if len(ids) != tc.rows {
				t.Fatalf("%d rows, want %d", len(ids), tc.rows)
			}
			if tc.rows > 0 && (ids[0] != tc.first || ids[len(ids)-1] != tc.last) {
				t.Fatalf("rows %s…%s, want %s…%s", ids[0], ids[len(ids)-1], tc.first, tc.last)
			}
			for _, tr := range within(doc, byID("calls"), tag("tr", "data-id", "")) {
				if find(tr, func(n *html.Node) bool {
					return n.Data == "a" && hasClass(n, "detail") && attrOf(n, "href") == "/llamadas/"+attrOf(tr, "data-id")
				}) == nil {
					t.Fatal("a row has no a.detail link")
				}
			}
			q, _ := url.ParseQuery(strings.TrimPrefix(tc.query, "?"))
			q.Del("page")
			if find(doc, func(n *html.Node) bool { return n.Data == "nav" && hasClass(n, "pager") }) == nil {
				t.Fatal("no nav.pager")
			}
			for _, a := range within(doc, func(n *html.Node) bool { return n.Data == "nav" && hasClass(n, "pager") }, tag("a", "href", "")) {
				u, _ := url.Parse(attrOf(a, "href"))
				got := u.Query()
				if u.Path != "/llamadas" || got.Get("page") == "" {
					t.Fatalf("pager link %q", attrOf(a, "href"))
				}
				got.Del("page")
				if got.Encode() != q.Encode() {
					t.Fatalf("pager link %q lost the filters %q", attrOf(a, "href"), q.Encode())
				}
			}
			exp := find(doc, tag("a", "id", "export-csv"))
			u, _ := url.Parse(attrOf(exp, "href"))
			got := u.Query()
			if u.Path != "/api/v1/calls" || got.Get("format") != "csv" {
				t.Fatalf("export link %q", attrOf(exp, "href"))
			}
			got.Del("format")
			if got.Encode() != q.Encode() {
				t.Fatalf("export link %q does not carry the filters %q", attrOf(exp, "href"), q.Encode())
			}
		})
	}
}

// TestConsoleCallsFilters: the form shows what was asked, with the
// receptionists of the configuration; a bad filter says what is wrong.
func TestConsoleCallsFilters(t *testing.T) {
	e := newTestEnv(t)
	addDay(e, 3)
	w := e.do("GET", "/llamadas?operator=202&within_limit=false&transferred=true&from=2026-12-01", nil, e.as("jefe"))
	doc := parsePage(t, w)
	f := find(doc, tag("form", "id", "filters"))
	if f == nil {
		t.Fatal("no form#filters")
	}
	selected := func(name string) string {
		sel := find(f, tag("select", "name", name))
		if o := find(sel, tag("option", "selected", "")); o != nil {
			return attrOf(o, "value")
		}
		return ""
	}
	if selected("operator") != "202" || selected("within_limit") != "false" || selected("transferred") != "true" || selected("direction") != "" {
		t.Fatal("the form does not show the filters asked")
	}
	if n := len(findAll(find(f, tag("select", "name", "operator")), tag("option"))); n != 3 {
		t.Fatalf("%d receptionist options, want Todas + 2", n)
	}
	for _, in := range append(findAll(f, tag("input")), findAll(f, tag("select"))...) {
		if find(f, tag("label", "for", attrOf(in, "id"))) == nil {
			t.Errorf("%s has no label", attrOf(in, "name"))
		}
	}
	if got := rowIDs(doc, "calls"); len(got) != 0 {
		t.Fatalf("rows %v for no transferred call", got)
	}
	w = e.do("GET", "/llamadas?from=ayer", nil, e.as("jefe"))
	if w.Code != http.StatusBadRequest {
		t.Fatalf("bad date: %d", w.Code)
	}
	el := find(parsePage(t, w), func(n *html.Node) bool { return hasClass(n, "error") })
	if el == nil || !strings.Contains(textOf(el), `from "ayer"`) {
		t.Fatalf("no message naming the bad value")
	}
}

// TestConsoleLivePage: the ringing table from the hub's snapshot, the
// lamp, the counters of todayCounters, the recent ended calls; and
// /envivo/resumen gives the same figures to live.js.
func TestConsoleLivePage(t *testing.T) {
	e := newTestEnv(t)
	addDay(e, 12) // d000..d011: inbound (within limit) the even ones
	ab := e.testCall("ab1", -time.Minute)
	abEnd := ab.InviteAt.Add(40 * time.Second)
	ab.AnsweredAt, ab.EndedAt, ab.EndReason, ab.WithinLimit, ab.Rings = nil, &abEnd, sip.EndAbandoned, false, 6
	e.calls.add(ab)
	tr := e.testCall("tr1", -2*time.Minute)
	tr.Transfer = &sip.Transfer{Kind: "blind", RequestedAt: tr.AnsweredAt.Add(time.Second), Target: "205"}
	e.calls.add(tr)
	leg2 := e.testCall("tr2", -time.Minute)
	leg2.TransferredFrom = tr.CallID
	e.calls.add(leg2)

	now := e.clock.Now().UTC()
	ringing := e.testCall("live1", 0)
	ringing.From, ringing.To = "77778888", "100"
	ringing.RingingAt, ringing.AnsweredAt, ringing.EndedAt, ringing.EndReason = nil, nil, nil, ""
	e.hub.Event(sip.Event{Kind: sip.EventOffered, At: now, Call: &ringing})
	r := now.Add(100 * time.Millisecond)
	ringing.RingingAt = &r
	e.hub.Event(sip.Event{Kind: sip.EventRinging, At: r, Call: &ringing})
	e.hub.Advance(r.Add(25 * time.Second))
	e.hub.SetLamp("no_sip", "alarm")

	w := e.do("GET", "/envivo", nil, e.as("tecnico"))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	doc := parsePage(t, w)
	row := find(doc, tag("tr", "data-id", "live1"))
	if row == nil || find(doc, tag("table", "id", "ringing")) == nil {
		t.Fatal("the ringing call is not in table#ringing")
	}
	cellText := func(cls string) string {
		if td := find(row, func(n *html.Node) bool { return n.Data == "td" && hasClass(n, cls) }); td != nil {
			return textOf(td)
		}
		return "<none>"
	}
	// 25 s of ringing at 6 s a cycle: ring 5 started (DESIGN.md rings).
	if cellText("rings") != "5" || cellText("from") != "77778888" || cellText("to") != "100" || !hasClass(row, "over") {
		t.Fatalf("row: rings %q from %q to %q", cellText("rings"), cellText("from"), cellText("to"))
	}
	if l := find(doc, byID("lamp")); attrOf(l, "data-state") != "no_sip" {
		t.Fatal("#lamp state")
	}
	if a := find(doc, byID("alarm")); attrOf(a, "data-state") != "alarm" {
		t.Fatal("#alarm state")
	}
	if s := find(doc, byID("live-status")); attrOf(s, "data-connected") != "false" {
		t.Fatal("#live-status")
	}
	n, err := e.srv.todayCounters(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n.Offered != 8 || n.WithinLimit != 7 || n.Abandoned != 1 || n.Transferred != 1 {
		t.Fatalf("fixture counters %+v", n)
	}
	for id, want := range map[string]int{"count-offered": n.Offered, "count-within": n.WithinLimit, "count-abandoned": n.Abandoned, "count-transferred": n.Transferred} {
		if el := find(doc, byID(id)); el == nil || textOf(el) != fmt.Sprint(want) {
			t.Errorf("#%s is not %d", id, want)
		}
	}
	recent := rowIDs(doc, "recent")
	if len(recent) != recentEnded || recent[0] != "ab1" {
		t.Fatalf("recent %v: want the %d last ended, newest first", recent, recentEnded)
	}
	if find(find(doc, byID("recent")), tag("a", "href", "/llamadas/ab1")) == nil {
		t.Fatal("recent row has no detail link")
	}

	w = e.do("GET", "/envivo/resumen", nil, e.as("tecnico"))
	var sum summaryJSON
	if err := json.Unmarshal(w.Body.Bytes(), &sum); err != nil || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("resumen: %v %s", err, w.Body.String())
	}
	if sum.Counters.Offered != n.Offered || sum.Counters.WithinLimit != n.WithinLimit || len(sum.Recent) != recentEnded || sum.Recent[0].ID != "ab1" || !sum.Recent[0].Over {
		t.Fatalf("resumen %+v", sum)
	}
	if w := e.do("GET", "/envivo/resumen", nil); w.Code == http.StatusOK {
		t.Fatal("resumen without a login")
	}
}

// TestConsoleStatusPage: the figures of cfg.Status().
func TestConsoleStatusPage(t *testing.T) {
	e := newTestEnv(t)
	last := e.clock.Now().Add(-90 * time.Second)
	e.status.Capture.LastSIP = &last
	e.status.Capture.KernelDropped = 12345
	e.status.Drops.ProvisionalRecords = 3
	e.status.Disk.RetentionDays, e.status.Disk.RetentionMaxB = 90, 20<<30
	e.status.Lamp, e.status.Fault = "fault", "store write failing"
	e.status.Now = e.clock.Now()
	w := e.do("GET", "/estado", nil, e.as("tecnico"))
	doc := parsePage(t, w)
	if el := find(doc, byID("kernel-dropped")); el == nil || textOf(el) != "12\u00a0345" || !hasClass(el, "state-bad") {
		t.Fatal("kernel drops")
	}
	if el := find(doc, byID("provisional-dropped")); el == nil || textOf(el) != "3" || !hasClass(el, "state-bad") {
		t.Fatal("provisional records dropped")
	}
	text := textOf(doc)
	for _, want := range []string{"hasta 90 días o 20,0\u00a0GiB", "01/12/2026 09:58:30 (hace 1\u00a0min)", "store write failing"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q", want)
		}
	}
	if l := find(doc, byID("lamp")); attrOf(l, "data-state") != "fault" {
		t.Fatal("lamp")
	}
}

// TestConsoleUsers: add, duplicate, role, disable, reset, token (shown
// once), each through Auth with the admin as actor.
func TestConsoleUsers(t *testing.T) {
	e := newTestEnv(t)
	post := func(path string, v url.Values) *httptest.ResponseRecorder {
		return e.do("POST", path, strings.NewReader(v.Encode()), e.as("admin"), formBody)
	}
	w := post("/usuarios", url.Values{"name": {"ana"}, "role": {"jefe"}, "password": {"clave larga"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/usuarios?hecho=alta" {
		t.Fatalf("add: %d %q", w.Code, w.Header().Get("Location"))
	}
	if u := e.auth.users["ana"]; u == nil || u.Role != RoleJefe {
		t.Fatal("user not added")
	}
	w = post("/usuarios", url.Values{"name": {"ana"}, "role": {"jefe"}, "password": {"clave larga"}})
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "Ya existe un usuario con ese nombre.") {
		t.Fatalf("duplicate: %d", w.Code)
	}
	if w := post("/usuarios", url.Values{"name": {"bob"}, "role": {"root"}, "password": {"clave larga"}}); w.Code != http.StatusBadRequest {
		t.Fatalf("bad role: %d", w.Code)
	}
	if w := post("/usuarios/ana/rol", url.Values{"role": {"tecnico"}}); w.Code != http.StatusSeeOther || e.auth.users["ana"].Role != RoleTecnico {
		t.Fatalf("role: %d", w.Code)
	}
	if w := post("/usuarios/ana/estado", url.Values{"disabled": {"true"}}); w.Code != http.StatusSeeOther || !e.auth.users["ana"].Disabled {
		t.Fatalf("disable: %d", w.Code)
	}
	if w := post("/usuarios/ana/clave", url.Values{"password": {"nueva clave"}}); w.Code != http.StatusSeeOther || e.auth.users["ana"].password != "nueva clave" {
		t.Fatalf("reset: %d", w.Code)
	}
	if w := post("/usuarios/nadie/rol", url.Values{"role": {"tecnico"}}); w.Code != http.StatusNotFound {
		t.Fatalf("unknown user: %d", w.Code)
	}
	w = post("/usuarios/ana/token", url.Values{"label": {"script"}})
	if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("token: %d", w.Code)
	}
	in := find(parsePage(t, w), tag("input", "id", "new-token"))
	if in == nil || e.auth.tokens[attrOf(in, "value")] != "ana" {
		t.Fatal("the token shown is not the one issued")
	}
	if !strings.Contains(w.Body.String(), "no se volverá a mostrar") {
		t.Fatal("no warning that the token is shown once")
	}
	if strings.Contains(e.do("GET", "/usuarios", nil, e.as("admin")).Body.String(), attrOf(in, "value")) {
		t.Fatal("the token is shown again")
	}
	for _, a := range []string{"user_add", "user_role", "user_disable", "user_password", "token_issued"} {
		if e.auth.count(a) != 1 {
			t.Errorf("%s audited %d times", a, e.auth.count(a))
		}
	}
	doc := parsePage(t, e.do("GET", "/usuarios?hecho=rol", nil, e.as("admin")))
	if len(findAll(doc, tag("tr", "data-name", ""))) != 6 {
		t.Fatal("not every account listed")
	}
	if el := find(doc, func(n *html.Node) bool { return hasClass(n, "notice") }); el == nil || textOf(el) != "Se cambió el rol." {
		t.Fatal("no flash")
	}
}

// TestConsoleAudit: newest first, paged, within the range, with the CSV
// export of the same range.
func TestConsoleAudit(t *testing.T) {
	e := newTestEnv(t)
	for i := range 120 {
		_ = e.auth.Audit(t.Context(), AuditEvent{Actor: "tecnico", Action: ActionRecordingPlay, Target: fmt.Sprint("c", i)})
		e.clock.Add(time.Second)
	}
	w := e.do("GET", "/auditoria", nil, e.as("jefe"))
	doc := parsePage(t, w)
	rows := within(doc, byID("audit"), tag("tr", "data-seq", ""))
	if len(rows) != auditPerPage || attrOf(rows[0], "data-seq") != "120" || attrOf(rows[49], "data-seq") != "71" {
		t.Fatalf("%d rows from %s", len(rows), attrOf(rows[0], "data-seq"))
	}
	if !strings.Contains(textOf(rows[0]), "Reproducción de grabación") {
		t.Fatal("action not named in Spanish")
	}
	rows = within(parsePage(t, e.do("GET", "/auditoria?page=3", nil, e.as("admin"))), byID("audit"), tag("tr", "data-seq", ""))
	if len(rows) != 20 || attrOf(rows[19], "data-seq") != "1" {
		t.Fatalf("last page: %d rows", len(rows))
	}
	exp := find(doc, tag("a", "id", "export-audit-csv"))
	if exp == nil || attrOf(exp, "href") != "/api/v1/audit?format=csv&from=2026-11-25&to=2026-12-01" {
		t.Fatalf("export %q", attrOf(exp, "href"))
	}
	rows = within(parsePage(t, e.do("GET", "/auditoria?from=2026-11-01&to=2026-11-30", nil, e.as("admin"))), byID("audit"), tag("tr", "data-seq", ""))
	if len(rows) != 0 {
		t.Fatal("entries outside the range")
	}
	if w := e.do("GET", "/auditoria?from=x", nil, e.as("admin")); w.Code != http.StatusBadRequest {
		t.Fatalf("bad range: %d", w.Code)
	}
}

// TestConsoleUsersRecepcionista: a recepcionista account is tied to a
// configured receptionist when it is made and when its role changes; the
// receptionist is refused without one, with an unknown one, and on another
// role, and leaves with the role.
func TestConsoleUsersRecepcionista(t *testing.T) {
	e := newTestEnv(t)
	post := func(path string, v url.Values) *httptest.ResponseRecorder {
		return e.do("POST", path, strings.NewReader(v.Encode()), e.as("admin"), formBody)
	}
	op := e.srv.cfg.Operators[0]
	for _, bad := range []url.Values{
		{"name": {"rosa"}, "role": {"recepcionista"}, "password": {"clave larga"}},
		{"name": {"rosa"}, "role": {"recepcionista"}, "operator": {"nadie"}, "password": {"clave larga"}},
	} {
		if w := post("/usuarios", bad); w.Code != http.StatusBadRequest || e.auth.users["rosa"] != nil {
			t.Fatalf("%v: %d, user %v", bad, w.Code, e.auth.users["rosa"])
		}
	}
	w := post("/usuarios", url.Values{"name": {"rosa"}, "role": {"recepcionista"}, "operator": {op}, "password": {"clave larga"}})
	if w.Code != http.StatusSeeOther || e.auth.users["rosa"] == nil || e.auth.users["rosa"].Operator != op {
		t.Fatalf("add recepcionista: %d %+v", w.Code, e.auth.users["rosa"])
	}
	page := e.do("GET", "/usuarios", nil, e.as("admin")).Body.String()
	if !strings.Contains(page, "Recepcionista · "+op) || !strings.Contains(page, `id="nu-operator"`) {
		t.Error("the list does not show the account's receptionist, or the form has no receptionist choice")
	}
	if w := post("/usuarios/rosa/rol", url.Values{"role": {"tecnico"}}); w.Code != http.StatusSeeOther || e.auth.users["rosa"].Operator != "" {
		t.Fatalf("to tecnico: %d, operator %q kept", w.Code, e.auth.users["rosa"].Operator)
	}
	if w := post("/usuarios/rosa/rol", url.Values{"role": {"recepcionista"}}); w.Code != http.StatusBadRequest || e.auth.users["rosa"].Role != RoleTecnico {
		t.Fatalf("back without a receptionist: %d, role %s", w.Code, e.auth.users["rosa"].Role)
	}
}

// TestConsoleHomeAndBanner: a server with another home (the central
// server's /mes) sends the root and a login there, and shows its banner
// on every page.
func TestConsoleHomeAndBanner(t *testing.T) {
	e := newTestEnv(t)
	if w := e.do("GET", "/", nil, e.as("tecnico")); w.Header().Get("Location") != "/envivo" {
		t.Fatalf("default home: %q", w.Header().Get("Location"))
	}
	cfg := e.srv.cfg
	cfg.Home = "/mes"
	cfg.Banner = &Banner{Text: "Oficina: Norte", Link: "/oficina", LinkText: "cambiar de oficina"}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv, e.handler = srv, srv.Handler()
	if w := e.do("GET", "/", nil, e.as("tecnico")); w.Header().Get("Location") != "/mes" {
		t.Errorf("home: %q, want /mes", w.Header().Get("Location"))
	}
	doc := parsePage(t, e.do("GET", "/estado", nil, e.as("tecnico")))
	b := find(doc, byID("banner"))
	if b == nil || !strings.Contains(textOf(b), "Oficina: Norte") || !strings.Contains(textOf(b), "cambiar de oficina") {
		t.Fatal("no banner with the office and its link")
	}
	if attrOf(find(doc, func(n *html.Node) bool { return hasClass(n, "product") }), "href") != "/mes" {
		t.Error("the product link does not lead home")
	}
	w := e.do("POST", "/login", strings.NewReader(url.Values{"name": {"tecnico"}, "password": {testPassword}}.Encode()), formBody)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/mes" {
		t.Errorf("after login: %d %q, want /mes", w.Code, w.Header().Get("Location"))
	}
}
