package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// loginForm posts the login form.
func loginForm(e *testEnv, name, password, next string) *http.Response {
	v := url.Values{"name": {name}, "password": {password}}
	if next != "" {
		v.Set("next", next)
	}
	w := e.do("POST", "/login", strings.NewReader(v.Encode()), formBody)
	return w.Result()
}

// TestConsoleLoginForm: the form has the fields the browser test fills.
func TestConsoleLoginForm(t *testing.T) {
	e := newTestEnv(t)
	w := e.do("GET", "/login?next=%2Fllamadas", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	doc := parsePage(t, w)
	f := find(doc, tag("form", "id", "login"))
	if f == nil {
		t.Fatal("no form#login")
	}
	if find(f, tag("input", "name", "name")) == nil || find(f, tag("input", "name", "password", "type", "password")) == nil ||
		find(f, tag("button", "type", "submit")) == nil {
		t.Fatal("form#login lacks name, password or submit")
	}
	if n := find(f, tag("input", "name", "next")); n == nil || attrOf(n, "value") != "/llamadas" {
		t.Fatal("next is not carried in the form")
	}
	for _, in := range findAll(f, tag("input")) {
		if attrOf(in, "type") == "hidden" {
			continue
		}
		if find(doc, tag("label", "for", attrOf(in, "id"))) == nil {
			t.Errorf("input %s has no label", attrOf(in, "name"))
		}
	}
	// Someone already logged in goes on.
	w = e.do("GET", "/login?next=%2Festado", nil, e.as("jefe"))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/estado" {
		t.Fatalf("logged in: %d %q", w.Code, w.Header().Get("Location"))
	}
}

// TestConsoleLogin: success sets the cookie and goes to next or En vivo;
// failure shows one message whatever was wrong; the lockout says until
// when, in local time.
func TestConsoleLogin(t *testing.T) {
	tests := []struct {
		name, user, password, next string
		status                     int
		location, errText          string
	}{
		{name: "ok", user: "tecnico", password: testPassword, status: 303, location: "/envivo"},
		{name: "ok with next", user: "jefe", password: testPassword, next: "/llamadas?from=2026-11-01&operator=201", status: 303, location: "/llamadas?from=2026-11-01&operator=201"},
		{name: "must change", user: "nuevo", password: testPassword, next: "/llamadas", status: 303, location: "/cuenta"},
		{name: "wrong password", user: "tecnico", password: "nope", status: 401, errText: "Nombre o contraseña incorrectos"},
		{name: "unknown user", user: "nadie", password: testPassword, status: 401, errText: "Nombre o contraseña incorrectos"},
		{name: "disabled", user: "baja", password: testPassword, status: 401, errText: "Nombre o contraseña incorrectos"},
		{name: "empty", status: 401, errText: "Nombre o contraseña incorrectos"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			res := loginForm(e, tc.user, tc.password, tc.next)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			var cookie *http.Cookie
			for _, c := range res.Cookies() {
				if c.Name == sessionCookie {
					cookie = c
				}
			}
			if tc.location != "" {
				if got := res.Header.Get("Location"); got != tc.location {
					t.Fatalf("location %q, want %q", got, tc.location)
				}
				if cookie == nil || cookie.Value == "" || !cookie.HttpOnly {
					t.Fatal("no HttpOnly session cookie")
				}
				// The cookie opens the pages.
				w := e.do("GET", "/estado", nil, func(r *http.Request) { r.AddCookie(cookie) })
				if tc.user != "nuevo" && w.Code != http.StatusOK {
					t.Fatalf("the new session does not open /estado: %d", w.Code)
				}
				return
			}
			if cookie != nil {
				t.Fatal("a failed login set a cookie")
			}
			w := e.do("POST", "/login", strings.NewReader(url.Values{"name": {tc.user}, "password": {tc.password}}.Encode()), formBody)
			doc := parsePage(t, w)
			el := find(doc, func(n *html.Node) bool { return hasClass(n, "error") })
			if el == nil || textOf(el) != tc.errText {
				t.Fatalf(".error is not %q: %s", tc.errText, w.Body.String())
			}
			if in := find(doc, tag("input", "name", "password")); attrOf(in, "value") != "" {
				t.Fatal("the password is echoed back")
			}
		})
	}
}

// TestConsoleLoginLocked: after the fake's three failures the account is
// locked for five minutes: "Cuenta bloqueada hasta 10:05" (10:00 in El
// Salvador), even with the right password.
func TestConsoleLoginLocked(t *testing.T) {
	e := newTestEnv(t)
	for range fakeMaxFails - 1 {
		if res := loginForm(e, "tecnico", "nope", ""); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure: %d", res.StatusCode)
		}
	}
	for _, pw := range []string{"nope", testPassword} {
		w := e.do("POST", "/login", strings.NewReader(url.Values{"name": {"tecnico"}, "password": {pw}}.Encode()), formBody)
		if w.Code != http.StatusTooManyRequests {
			t.Fatalf("locked: %d", w.Code)
		}
		el := find(parsePage(t, w), func(n *html.Node) bool { return hasClass(n, "error") })
		if el == nil || textOf(el) != "Cuenta bloqueada hasta 10:05" {
			t.Fatalf("lock message: %v", el)
		}
	}
}

// TestConsoleLoginOpenRedirect: next must be a path of this site; any
// other goes to En vivo.
func TestConsoleLoginOpenRedirect(t *testing.T) {
	for _, next := range []string{
		"//evil.example", "https://evil.example/", "http:evil.example", "/\\evil.example", "\\\\evil.example",
		"/\t/evil.example", "/\n/evil.example", "javascript:alert(1)", "evil.example", "/login", "//", " /llamadas",
	} {
		t.Run(next, func(t *testing.T) {
			e := newTestEnv(t)
			res := loginForm(e, "tecnico", testPassword, next)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/envivo" {
				t.Fatalf("next %q: %d %q, want 303 /envivo", next, res.StatusCode, res.Header.Get("Location"))
			}
			w := e.do("GET", "/login?next="+url.QueryEscape(next), nil)
			if in := find(parsePage(t, w), tag("input", "name", "next")); in == nil || attrOf(in, "value") != "" {
				t.Fatalf("the form carries next %q", attrOf(in, "value"))
			}
		})
	}
}

// TestConsoleLogout ends the session: the cookie is cleared and the old
// token no longer opens a page.
func TestConsoleLogout(t *testing.T) {
	e := newTestEnv(t)
	c := e.session("tecnico")
	w := e.do("POST", "/logout", nil, func(r *http.Request) { r.AddCookie(c) })
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login" {
		t.Fatalf("logout: %d %q", w.Code, w.Header().Get("Location"))
	}
	cleared := false
	for _, ck := range w.Result().Cookies() {
		cleared = cleared || (ck.Name == sessionCookie && ck.Value == "" && ck.MaxAge < 0)
	}
	if !cleared {
		t.Fatal("the cookie is not cleared")
	}
	if w := e.do("GET", "/envivo", nil, func(r *http.Request) { r.AddCookie(c) }); w.Code != http.StatusSeeOther {
		t.Fatalf("old session still opens pages: %d", w.Code)
	}
	if e.auth.count(ActionLogout) != 1 {
		t.Fatal("logout not passed to Auth")
	}
}

// TestConsoleChangePassword: the confirmation must match, the old password
// must be right, and a forced change frees the account.
func TestConsoleChangePassword(t *testing.T) {
	tests := []struct {
		name, old, new, confirm string
		status                  int
		errText                 string
	}{
		{"mismatch", testPassword, "otra clave larga", "otra clave largo", 400, "La confirmación no coincide con la contraseña nueva."},
		{"wrong old", "nope", "otra clave larga", "otra clave larga", 403, "La contraseña actual no es correcta."},
		{"weak", testPassword, "corta", "corta", 400, "La contraseña nueva no es válida: weak or unchanged password."},
		{"empty", testPassword, "", "", 400, "Escriba la contraseña nueva."},
		{"ok", testPassword, "otra clave larga", "otra clave larga", 303, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			c := e.session("nuevo")
			with := func(r *http.Request) { r.AddCookie(c) }
			body := url.Values{"old": {tc.old}, "new": {tc.new}, "confirm": {tc.confirm}}.Encode()
			w := e.do("POST", "/cuenta/clave", strings.NewReader(body), with, formBody)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if tc.status != http.StatusSeeOther {
				el := find(parsePage(t, w), func(n *html.Node) bool { return hasClass(n, "error") })
				if el == nil || textOf(el) != tc.errText {
					t.Fatalf("error %v, want %q", el, tc.errText)
				}
				if e.auth.users["nuevo"].MustChange != true {
					t.Fatal("a failed change cleared MustChange")
				}
				return
			}
			if w.Header().Get("Location") != "/cuenta?hecho=1" {
				t.Fatalf("location %q", w.Header().Get("Location"))
			}
			if w := e.do("GET", "/envivo", nil, with); w.Code != http.StatusOK {
				t.Fatalf("after the change /envivo gives %d", w.Code)
			}
			w = e.do("GET", "/cuenta?hecho=1", nil, with)
			if el := find(parsePage(t, w), func(n *html.Node) bool { return hasClass(n, "notice") }); el == nil {
				t.Fatal("no confirmation")
			}
		})
	}
}

// TestSafeNext checks the redirect filter directly.
func TestSafeNext(t *testing.T) {
	tests := map[string]string{
		"/llamadas":             "/llamadas",
		"/llamadas/abc?x=1#y":   "/llamadas/abc?x=1#y",
		"/%2F%2Fevil":           "/%2F%2Fevil",
		"":                      "",
		"//evil":                "",
		"///evil":               "",
		"/\\evil":               "",
		"/a\\b":                 "",
		"https://evil/":         "",
		"/\x7f":                 "",
		"/\u00a0ok":             "/\u00a0ok",
		"/logout":               "",
		"/login?next=/estado":   "",
		"/envivo\r\nSet-Cookie": "",
	}
	for in, want := range tests {
		t.Run(in, func(t *testing.T) {
			if got := safeNext(in); got != want {
				t.Fatalf("safeNext(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

// FuzzSafeNext: whatever comes in, what comes out is "" or a path of this
// site that no browser reads as another host.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/llamadas", "//evil", "/\\evil", "/\t/evil", "https://x", "/a?b=//c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := safeNext(in)
		if out == "" {
			return
		}
		if out != in {
			t.Fatalf("safeNext changed %q to %q", in, out)
		}
		// What a browser does first: strip tabs and newlines, "\" as "/".
		b := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(out)
		if !strings.HasPrefix(b, "/") || strings.HasPrefix(b, "//") {
			t.Fatalf("safeNext let %q through", in)
		}
		u, err := url.Parse(b)
		if err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("safeNext let %q through (host %q)", in, u.Host)
		}
	})
}
