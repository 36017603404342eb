package web

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestCrossOrigin: every state-changing route refuses a cross-site request
// (by Sec-Fetch-Site, and by a foreign Origin without it) with 403 before
// anything is changed; same-origin passes.
func TestCrossOrigin(t *testing.T) {
	e := newTestEnv(t)
	unsafe := []apiRoute{{method: "POST", path: "/api/v1/login", body: `{"name":"admin","password":"` + testPassword + `"}`, ok: http.StatusOK}}
	for _, rt := range testAPIRoutes() {
		if rt.method != "GET" {
			unsafe = append(unsafe, rt)
		}
	}
	for i, rt := range unsafe {
		body := rt.body
		if rt.bodyFn != nil {
			body = rt.bodyFn(100 + i)
		}
		for _, tc := range []struct {
			name string
			opts []func(*http.Request)
			want int
		}{
			{"sec-fetch-site cross-site", []func(*http.Request){header("Sec-Fetch-Site", "cross-site")}, http.StatusForbidden},
			{"sec-fetch-site same-site", []func(*http.Request){header("Sec-Fetch-Site", "same-site")}, http.StatusForbidden},
			{"foreign origin", []func(*http.Request){func(r *http.Request) { r.Header.Del("Sec-Fetch-Site") }, header("Origin", "https://evil.example")}, http.StatusForbidden},
			{"same-origin", nil, rt.ok},
		} {
			t.Run(rt.method+" "+rt.path+" "+tc.name, func(t *testing.T) {
				before := len(e.auth.entries())
				opts := append([]func(*http.Request){e.as("admin")}, tc.opts...)
				w := e.do(rt.method, rt.path, strings.NewReader(body), opts...)
				if w.Code != tc.want {
					t.Fatalf("%d, want %d: %s", w.Code, tc.want, w.Body)
				}
				if tc.want == http.StatusForbidden {
					if len(e.auth.entries()) != before {
						t.Fatal("a refused request changed state")
					}
					checkSecurityHeaders(t, w.Header(), true)
				}
			})
		}
	}
	// A GET from another site is allowed (safe method) and still needs a
	// login.
	if w := e.do("GET", "/api/v1/status", nil, header("Sec-Fetch-Site", "cross-site")); w.Code != http.StatusUnauthorized {
		t.Fatalf("cross-site GET anonymous: %d", w.Code)
	}
}

// TestLogin: success sets the cookie (HttpOnly, SameSite=Lax, Secure under
// TLS) and answers the principal; a wrong password is 401 with the fixed
// message; repeated failures lock with 429 and Retry-After; a session
// works until logout.
func TestLogin(t *testing.T) {
	e := newTestEnv(t)
	e.srv.cfg.Secure = true
	h := e.srv.Handler()
	login := func(name, pw string) *httptest.ResponseRecorder {
		return serve(h, e.request("POST", "/api/v1/login", strings.NewReader(`{"name":"`+name+`","password":"`+pw+`"}`)))
	}
	w := login("nuevo", testPassword)
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	var resp loginResponse
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || resp.Name != "nuevo" || resp.Role != RoleAdmin || !resp.MustChange || resp.Expires.IsZero() {
		t.Fatalf("%+v %v", resp, err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != sessionCookie || !cookies[0].HttpOnly || !cookies[0].Secure ||
		cookies[0].SameSite != http.SameSiteLaxMode || cookies[0].Path != "/" || cookies[0].Expires.IsZero() {
		t.Fatalf("cookie %+v", cookies)
	}
	sess := cookies[0]

	for _, tc := range []struct{ name, pw string }{{"tecnico", "wrong"}, {"nobody", "x"}, {"baja", testPassword}} {
		w := login(tc.name, tc.pw)
		if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), `"error":"nombre o contraseña incorrectos"`) || len(w.Result().Cookies()) != 0 {
			t.Fatalf("%s: %d %s", tc.name, w.Code, w.Body)
		}
	}
	// tecnico has one failure; two more lock it.
	login("tecnico", "wrong")
	w = login("tecnico", "wrong")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "300" {
		t.Fatalf("lock: %d Retry-After %q %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if w := login("tecnico", testPassword); w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), "cuenta bloqueada hasta 10:05") {
		t.Fatalf("locked, right password: %d %s", w.Code, w.Body)
	}
	e.clock.Add(fakeLock - 10*time.Second)
	if w := login("tecnico", testPassword); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "10" {
		t.Fatalf("Retry-After later: %q", w.Header().Get("Retry-After"))
	}
	e.clock.Add(10 * time.Second)
	if w := login("tecnico", testPassword); w.Code != http.StatusOK {
		t.Fatalf("after the lock: %d", w.Code)
	}

	// A malformed body.
	for _, body := range []string{"", "{", `{"name":1}`, strings.Repeat("x", maxBody+10)} {
		w := serve(h, e.request("POST", "/api/v1/login", strings.NewReader(body)))
		if w.Code != http.StatusBadRequest && w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("body %.20q: %d", body, w.Code)
		}
	}

	// The session works; must-change limits it; logout ends it.
	withSess := func(r *http.Request) { r.AddCookie(sess) }
	if w := serve(h, e.request("GET", "/api/v1/me", nil, withSess)); w.Code != http.StatusForbidden {
		t.Fatalf("must-change me: %d", w.Code)
	}
	w = serve(h, e.request("POST", "/api/v1/account/password", strings.NewReader(`{"old":"`+testPassword+`","new":"nueva clave larga"}`), withSess))
	if w.Code != http.StatusNoContent {
		t.Fatalf("password: %d %s", w.Code, w.Body)
	}
	if w := serve(h, e.request("GET", "/api/v1/me", nil, withSess)); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"must_change":false`) {
		t.Fatalf("me after change: %d %s", w.Code, w.Body)
	}
	w = serve(h, e.request("POST", "/api/v1/logout", nil, withSess))
	if w.Code != http.StatusNoContent || len(w.Result().Cookies()) != 1 || w.Result().Cookies()[0].MaxAge >= 0 {
		t.Fatalf("logout: %d %v", w.Code, w.Result().Cookies())
	}
	if w := serve(h, e.request("GET", "/api/v1/me", nil, withSess)); w.Code != http.StatusUnauthorized {
		t.Fatalf("after logout: %d", w.Code)
	}
	// A store that fails is a 500, not a 401 that would log everyone out.
	e.auth.err = errFakeDown
	if w := serve(h, e.request("GET", "/api/v1/me", nil, e.as("admin"))); w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "fake") {
		t.Fatalf("auth down: %d %s", w.Code, w.Body)
	}
}

// TestUsers: an admin lists, adds, changes and issues tokens; bad input is
// 400, a duplicate 409, an unknown name 404; a token issued works once
// shown.
func TestUsers(t *testing.T) {
	e := newTestEnv(t)
	admin := e.as("admin")
	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/api/v1/users", `{"name":"ana","role":"jefe","password":"long enough"}`, http.StatusCreated},
		{"POST", "/api/v1/users", `{"name":"ana","role":"jefe","password":"long enough"}`, http.StatusConflict},
		{"POST", "/api/v1/users", `{"name":"bea","role":"root","password":"long enough"}`, http.StatusBadRequest},
		{"POST", "/api/v1/users", `{"name":"","role":"jefe","password":"long enough"}`, http.StatusBadRequest},
		{"POST", "/api/v1/users", `{"name":"bea","role":"jefe","password":"short"}`, http.StatusBadRequest},
		{"PATCH", "/api/v1/users/ana", `{"role":"tecnico","disabled":true}`, http.StatusOK},
		{"PATCH", "/api/v1/users/ana", `{}`, http.StatusBadRequest},
		{"PATCH", "/api/v1/users/ana", `{"role":"root"}`, http.StatusBadRequest},
		{"PATCH", "/api/v1/users/nadie", `{"disabled":true}`, http.StatusNotFound},
		{"PATCH", "/api/v1/users/ana", `{"password":"otra clave larga","disabled":false}`, http.StatusOK},
		{"POST", "/api/v1/users/nadie/token", `{"label":"x"}`, http.StatusNotFound},
	} {
		t.Run(tc.method+" "+tc.path+" "+tc.body, func(t *testing.T) {
			w := e.do(tc.method, tc.path, strings.NewReader(tc.body), admin)
			if w.Code != tc.want {
				t.Fatalf("%d, want %d: %s", w.Code, tc.want, w.Body)
			}
		})
	}
	u := e.auth.users["ana"]
	if u.Role != RoleTecnico || u.Disabled || u.password != "otra clave larga" || !u.MustChange {
		t.Fatalf("ana %+v", u)
	}
	w := e.do("POST", "/api/v1/users/ana/token", strings.NewReader(`{"label":"script"}`), admin)
	var tok tokenResponse
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil || tok.Token == "" {
		t.Fatalf("token: %d %s", w.Code, w.Body)
	}
	w = e.do("GET", "/api/v1/calls", nil, header("Authorization", "Bearer "+tok.Token))
	if w.Code != http.StatusForbidden { // ana must change her password (reset by an admin)
		t.Fatalf("token of a must-change account: %d", w.Code)
	}
	e.auth.users["ana"].MustChange = false
	if w := e.do("GET", "/api/v1/calls", nil, header("Authorization", "bearer "+tok.Token)); w.Code != http.StatusOK {
		t.Fatalf("token: %d", w.Code)
	}
	var users []User
	w = e.do("GET", "/api/v1/users", nil, admin)
	if err := json.Unmarshal(w.Body.Bytes(), &users); err != nil || len(users) != 6 {
		t.Fatalf("users: %v %d", err, len(users))
	}
}

// TestPanicRecovered: a handler that panics answers 500 and the server
// goes on serving.
func TestPanicRecovered(t *testing.T) {
	e := newTestEnv(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	mux.HandleFunc("GET /api/v1/half", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "partial")
		panic("late boom")
	})
	mux.HandleFunc("GET /api/v1/fine", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := e.srv.guard(mux, false)
	w := serve(h, e.request("GET", "/api/v1/boom", nil, e.as("tecnico")))
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "error interno") || strings.Contains(w.Body.String(), "boom") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	w = serve(h, e.request("GET", "/api/v1/half", nil, e.as("tecnico")))
	if w.Code != http.StatusOK || w.Body.String() != "partial" {
		t.Fatalf("started answer: %d %q", w.Code, w.Body)
	}
	if w := serve(h, e.request("GET", "/api/v1/fine", nil, e.as("tecnico"))); w.Code != http.StatusTeapot {
		t.Fatalf("after panics: %d", w.Code)
	}
}

// TestStatus: the status is the daemon's StatusInfo as JSON, with the
// sections its contract names (capture, drops, store, disk, lamp,
// version) and every drop under drops.
func TestStatus(t *testing.T) {
	e := newTestEnv(t)
	e.status.Capture.Frames = 1234
	e.status.Lamp = "no_sip"
	e.status.Drops.KernelPackets, e.status.Drops.Calls, e.status.Drops.Records, e.status.Drops.ProvisionalRecords = 11, 12, 13, 14
	w := e.do("GET", "/api/v1/status", nil, e.as("tecnico"))
	var got StatusInfo
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.Capture.Frames != 1234 || got.Lamp != "no_sip" || got.Version != "test" {
		t.Fatalf("%d %s %v", w.Code, w.Body, err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &top); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"capture", "drops", "store", "disk", "lamp", "version"} {
		if _, ok := top[k]; !ok {
			t.Errorf("status has no %q: %s", k, w.Body)
		}
	}
	var drops map[string]uint64
	if err := json.Unmarshal(top["drops"], &drops); err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"kernel_packets": 11, "calls": 12, "records": 13, "provisional_records": 14}
	if !maps.Equal(drops, want) {
		t.Errorf("drops %v, want %v", drops, want)
	}
}

// TestSessionCookieMaxAge: the session cookie's lifetime is relative
// (Max-Age), so a browser whose clock differs from the server's keeps it
// for the session's length, not until an instant of the server's clock.
func TestSessionCookieMaxAge(t *testing.T) {
	e := newTestEnv(t)
	w := e.do("POST", "/api/v1/login", strings.NewReader(`{"name":"tecnico","password":"`+testPassword+`"}`))
	if w.Code != http.StatusOK {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	var c *http.Cookie
	for _, k := range w.Result().Cookies() {
		if k.Name == sessionCookie {
			c = k
		}
	}
	if c == nil || c.MaxAge != int(fakeSessionTTL.Seconds()) {
		t.Fatalf("session cookie %+v, want Max-Age %d", c, int(fakeSessionTTL.Seconds()))
	}
}
