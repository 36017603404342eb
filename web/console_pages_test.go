package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/switchtap/switchtap/sip"
)

// consolePage is a page of the console and the roles that may see it.
type consolePage struct {
	path  string
	roles []Role
}

func consolePages() []consolePage {
	all := []Role{RoleTecnico, RoleJefe, RoleAdmin}
	return []consolePage{
		{"/envivo", all},
		{"/llamadas", all},
		{"/llamadas?from=2026-12-01&to=2026-12-01&operator=201&page=1", all},
		{"/llamadas/c1", all},
		{"/estado", all},
		{"/cuenta", all},
		{"/auditoria", []Role{RoleJefe, RoleAdmin}},
		{"/usuarios", []Role{RoleAdmin}},
	}
}

// TestConsolePagesByRole: every page renders (200, es-SV HTML, the user in
// #user, the menu of the role) for each role allowed and is refused with
// the Spanish 403 page for the others; the anonymous go to the login with
// next=, a must-change principal to /cuenta.
func TestConsolePagesByRole(t *testing.T) {
	e := newTestEnv(t)
	e.calls.add(e.testCall("c1", -time.Hour))
	principals := []struct {
		user string
		role Role
	}{{"", ""}, {"tecnico", RoleTecnico}, {"jefe", RoleJefe}, {"admin", RoleAdmin}, {"nuevo", RoleAdmin}}
	for _, pg := range consolePages() {
		for _, who := range principals {
			name := who.user
			if name == "" {
				name = "anonymous"
			}
			t.Run(strings.TrimPrefix(pg.path, "/")+"/"+name, func(t *testing.T) {
				w := e.do("GET", pg.path, nil, e.as(who.user))
				switch {
				case who.user == "":
					if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?next="+url.QueryEscape(pg.path) {
						t.Fatalf("anonymous: %d %q, want 303 to the login with next", w.Code, w.Header().Get("Location"))
					}
				case who.user == "nuevo" && pg.path != "/cuenta":
					if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/cuenta" {
						t.Fatalf("must-change: %d %q, want 303 /cuenta", w.Code, w.Header().Get("Location"))
					}
				case allowed(Principal{Role: who.role}, pg.roles...):
					if w.Code != http.StatusOK {
						t.Fatalf("status %d, want 200: %s", w.Code, w.Body.String())
					}
					doc := parsePage(t, w)
					checkLayout(t, doc, who.user, who.role, who.user == "nuevo")
				default:
					if w.Code != http.StatusForbidden {
						t.Fatalf("status %d, want 403", w.Code)
					}
					doc := parsePage(t, w)
					if h1 := find(doc, tag("h1")); h1 == nil || textOf(h1) != "Acceso denegado" {
						t.Fatalf("403 page has no Spanish title")
					}
				}
			})
		}
	}
}

// checkLayout checks the top bar: es-SV, the menu entries the role may
// use and no others, the user, the logout form.
func checkLayout(t *testing.T, doc *html.Node, user string, role Role, limited bool) {
	t.Helper()
	if h := find(doc, tag("html")); h == nil || attrOf(h, "lang") != "es-SV" {
		t.Fatal(`no <html lang="es-SV">`)
	}
	if u := find(doc, byID("user")); u == nil || textOf(u) != user {
		t.Fatalf("#user is not %q", user)
	}
	nav := find(doc, tag("nav"))
	if nav == nil {
		t.Fatal("no nav")
	}
	want := map[string]bool{
		"/envivo": !limited, "/llamadas": !limited, "/estado": !limited, "/cuenta": true,
		"/auditoria": !limited && (role == RoleJefe || role == RoleAdmin),
		"/usuarios":  !limited && role == RoleAdmin,
	}
	for href, shown := range want {
		if got := find(nav, tag("a", "href", href)) != nil; got != shown {
			t.Errorf("nav link %s shown=%v, want %v", href, got, shown)
		}
	}
	if find(doc, tag("form", "action", "/logout", "method", "post")) == nil {
		t.Error("no logout form")
	}
}

// TestConsolePostsByRole: the admin forms refuse técnico and jefe (the
// menu hides them, the handlers refuse them).
func TestConsolePostsByRole(t *testing.T) {
	e := newTestEnv(t)
	posts := []string{"/usuarios", "/usuarios/tecnico/rol", "/usuarios/tecnico/estado", "/usuarios/tecnico/clave", "/usuarios/tecnico/token"}
	for _, path := range posts {
		for _, user := range []string{"tecnico", "jefe"} {
			t.Run(path+"/"+user, func(t *testing.T) {
				w := e.do("POST", path, strings.NewReader("role=admin&name=x&password=longenough&disabled=true&label=x"), e.as(user), formBody)
				if w.Code != http.StatusForbidden {
					t.Fatalf("status %d, want 403", w.Code)
				}
			})
		}
	}
	if u := e.auth.users["tecnico"]; u.Role != RoleTecnico || u.Disabled {
		t.Fatal("a refused form changed the account")
	}
}

// formBody marks a request body as a posted form.
func formBody(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }

// TestConsoleNotFound: an unknown page and an unknown record get the
// Spanish 404 page; a request from another site to a form is refused.
func TestConsoleNotFound(t *testing.T) {
	e := newTestEnv(t)
	for _, path := range []string{"/nada", "/llamadas/desconocida", "/static/", "/static/nada.js"} {
		t.Run(path, func(t *testing.T) {
			w := e.do("GET", path, nil, e.as("tecnico"))
			if w.Code != http.StatusNotFound {
				t.Fatalf("status %d, want 404", w.Code)
			}
			if path == "/static/nada.js" {
				return // the file server's own 404
			}
			doc := parsePage(t, w)
			if h1 := find(doc, tag("h1")); h1 == nil || textOf(h1) != "Página no encontrada" {
				t.Fatalf("no Spanish 404 page: %s", w.Body.String())
			}
		})
	}
	w := e.do("POST", "/usuarios", strings.NewReader("name=x&role=admin&password=longenough"), e.as("admin"), formBody,
		header("Sec-Fetch-Site", "cross-site"))
	if w.Code != http.StatusForbidden {
		t.Fatalf("cross-site form: %d, want 403", w.Code)
	}
	if _, ok := e.auth.users["x"]; ok {
		t.Fatal("cross-site form added a user")
	}
}

// TestConsoleRoot: / goes to En vivo.
func TestConsoleRoot(t *testing.T) {
	e := newTestEnv(t)
	w := e.do("GET", "/", nil, e.as("jefe"))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/envivo" {
		t.Fatalf("/: %d %q", w.Code, w.Header().Get("Location"))
	}
}

// hostileCall is a record whose every free-text field tries to inject.
func hostileCall(e *testEnv, id string) sip.Call {
	c := e.testCall(id, -30*time.Minute)
	c.From = `<script>alert("from")</script>`
	c.FromName = `"><img src=x onerror=alert(1)>`
	c.To = `</td><style>body{}</style>`
	c.Operator = "201"
	c.EndDetail = `<b onclick="x()">`
	c.CallID = `x" onmouseover="alert(2)`
	c.Transfer = &sip.Transfer{Kind: "blind", RequestedAt: c.AnsweredAt.Add(time.Second), Target: `javascript:alert(3)`}
	return c
}

// TestConsoleNoInlineScriptOrStyle: no page has an inline script, a style
// element or attribute, an on* handler or a javascript: URL, even with
// hostile records, and every script and stylesheet is one of web/static.
func TestConsoleNoInlineScriptOrStyle(t *testing.T) {
	e := newTestEnv(t)
	c := hostileCall(e, "h1")
	e.calls.add(c, sip.LegMessage{At: c.InviteAt, Src: "10.0.0.1:5060", Dst: "10.0.0.2:5060", Method: "INVITE",
		CSeq: 1, CSeqMethod: "INVITE", Raw: "INVITE sip:<script>alert(4)</script> SIP/2.0\r\n"})
	e.hub.Event(sip.Event{Kind: sip.EventOffered, At: c.InviteAt, Call: &c})
	e.auth.Audit(t.Context(), AuditEvent{Actor: "<script>", Action: "<img onerror=x>", Detail: `"><svg onload=alert(5)>`})
	e.status.Errors = append(e.status.Errors, struct {
		At      time.Time `json:"at"`
		Message string    `json:"message"`
	}{At: e.clock.Now(), Message: "<script>alert(6)</script>"})

	pages := []struct{ user, path string }{
		{"", "/login"}, {"", "/login?next=%22%3E%3Cscript%3E"}, {"tecnico", "/nada"},
		{"admin", "/envivo"}, {"admin", "/llamadas"}, {"admin", "/llamadas/h1"}, {"admin", "/estado"},
		{"admin", "/cuenta"}, {"admin", "/usuarios"}, {"admin", "/auditoria"}, {"tecnico", "/usuarios"},
	}
	for _, pg := range pages {
		t.Run(pg.path, func(t *testing.T) {
			w := e.do("GET", pg.path, nil, e.as(pg.user))
			if w.Code >= 500 {
				t.Fatalf("status %d", w.Code)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Fatalf("content type %q", ct)
			}
			assertNoInline(t, parsePage(t, w))
		})
	}
}

// assertNoInline walks the document as the CSP would.
func assertNoInline(t *testing.T, doc *html.Node) {
	t.Helper()
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.Data {
		case "script":
			src, ok := attr(n, "src")
			if !ok || strings.TrimSpace(textOf(n)) != "" {
				t.Errorf("inline script: %q", textOf(n))
			}
			if !staticExists(src) {
				t.Errorf("script %q is not a static file", src)
			}
		case "style":
			t.Errorf("style element: %q", textOf(n))
		case "link":
			if attrOf(n, "rel") == "stylesheet" && !staticExists(attrOf(n, "href")) {
				t.Errorf("stylesheet %q is not a static file", attrOf(n, "href"))
			}
		}
		for _, a := range n.Attr {
			key := strings.ToLower(a.Key)
			if key == "style" || strings.HasPrefix(key, "on") {
				t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
			}
			if (key == "href" || key == "src" || key == "action") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
				t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
			}
		}
	}
}

// staticExists reports whether /static/<name> is an embedded file.
func staticExists(path string) bool {
	name, ok := strings.CutPrefix(path, "/static/")
	if !ok {
		return false
	}
	f, err := staticFiles.Open("static/" + name)
	if err != nil {
		return false
	}
	_ = f.Close()
	return true
}

// TestConsoleEscapesHostileFields: the hostile values come out as text,
// exactly, in the list, the detail and En vivo.
func TestConsoleEscapesHostileFields(t *testing.T) {
	e := newTestEnv(t)
	c := hostileCall(e, "h1")
	e.calls.add(c)
	for _, path := range []string{"/llamadas", "/llamadas/h1", "/envivo"} {
		t.Run(path, func(t *testing.T) {
			w := e.do("GET", path, nil, e.as("tecnico"))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d", w.Code)
			}
			if strings.Contains(w.Body.String(), "<script>alert") || strings.Contains(w.Body.String(), "<img src=x") {
				t.Fatal("a hostile field came out unescaped")
			}
			doc := parsePage(t, w)
			if !strings.Contains(textOf(doc), c.From) {
				t.Fatalf("the From %q is not shown as text", c.From)
			}
			if n := len(findAll(doc, tag("img"))) + len(findAll(doc, tag("style"))); n != 0 {
				t.Fatalf("%d injected elements", n)
			}
		})
	}
}
