package web

import (
	"encoding/json"
	"testing"
)

// TestUsersOperator: a recepcionista account needs a configured
// receptionist, an office account takes none; PATCH ties, moves and (by
// leaving the role) unties it, each through Auth.SetOperator.
func TestUsersOperator(t *testing.T) {
	pe := newProcEnv(t)
	cases := []struct {
		name, method, path, body string
		code                     int
		// operator is the account's operator afterwards ("-": not
		// checked).
		user, operator string
	}{
		{"recepcionista without operator", "POST", "/api/v1/users", `{"name":"ana","role":"recepcionista","password":"long enough"}`, 400, "", "-"},
		{"unknown operator", "POST", "/api/v1/users", `{"name":"ana","role":"recepcionista","password":"long enough","operator":"299"}`, 400, "", "-"},
		{"operator on a técnico", "POST", "/api/v1/users", `{"name":"ana","role":"tecnico","password":"long enough","operator":"201"}`, 400, "", "-"},
		{"recepcionista", "POST", "/api/v1/users", `{"name":"ana","role":"recepcionista","password":"long enough","operator":"201"}`, 201, "ana", "201"},
		{"técnico", "POST", "/api/v1/users", `{"name":"beto","role":"tecnico","password":"long enough"}`, 201, "beto", ""},
		{"move to 202", "PATCH", "/api/v1/users/ana", `{"operator":"202"}`, 200, "ana", "202"},
		{"untie while recepcionista", "PATCH", "/api/v1/users/ana", `{"operator":""}`, 400, "ana", "202"},
		{"operator on an office account", "PATCH", "/api/v1/users/beto", `{"operator":"201"}`, 400, "beto", ""},
		{"role recepcionista without operator", "PATCH", "/api/v1/users/beto", `{"role":"recepcionista"}`, 400, "beto", ""},
		{"role recepcionista with operator", "PATCH", "/api/v1/users/beto", `{"role":"recepcionista","operator":"201"}`, 200, "beto", "201"},
		{"leaving the role unties", "PATCH", "/api/v1/users/ana", `{"role":"jefe"}`, 200, "ana", ""},
		{"unknown account", "PATCH", "/api/v1/users/nadie", `{"operator":"201"}`, 404, "", "-"},
		{"only an admin", "PATCH", "/api/v1/users/ana", `{"operator":"201"}`, 403, "", "-"},
	}
	for _, c := range cases {
		who := "admin"
		if c.name == "only an admin" {
			who = "jefe"
		}
		w, _ := pe.send(c.method, c.path, c.body, who)
		if w.Code != c.code {
			t.Fatalf("%s: %d %s, want %d", c.name, w.Code, w.Body, c.code)
		}
		if c.operator == "-" {
			continue
		}
		pe.auth.mu.Lock()
		got := pe.auth.users[c.user].Operator
		pe.auth.mu.Unlock()
		if got != c.operator {
			t.Fatalf("%s: operator of %s = %q, want %q", c.name, c.user, got, c.operator)
		}
		if c.code < 300 {
			var u User
			if err := json.Unmarshal(w.Body.Bytes(), &u); err != nil || u.Operator != c.operator {
				t.Fatalf("%s: answer %s", c.name, w.Body)
			}
		}
	}
	// user_operator changes: ana tied, moved and untied, beto tied.
	if n := pe.auth.count("user_operator"); n != 4 {
		t.Errorf("%d user_operator entries, want 4", n)
	}
	// A new recepcionista logs in tied to their receptionist.
	w, _ := pe.send("GET", "/api/v1/calls?from=2026-12-01", "", "beto")
	if w.Code != 200 {
		t.Errorf("beto lists calls: %d", w.Code)
	}
}
