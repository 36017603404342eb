package central

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/switchtap/switchtap/access"
)

// apiGet calls the API for people with a bearer token.
func (e *env) apiGet(path, token string) (int, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.http.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	buf, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, buf
}

// personToken creates an account of role and returns an API token of it.
func (e *env) personToken(name string, role access.Role) string {
	e.t.Helper()
	ctx := context.Background()
	by := access.Actor{Name: "test"}
	if err := e.s.Access().AddUser(ctx, by, name, role, "una clave bastante larga"); err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.s.Access().IssueToken(ctx, by, name, "informes")
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func TestCallsAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, func(c *Config) { c.Timezone = "America/Guatemala" })
	a := e.addBox("caja-a", "Norte")
	b := e.addBox("caja-b", "Sur")
	a.writeN(5) // invites t0 .. t0+4s (one updated: rev 2)
	b.writeN(3)
	a.drain(100)
	b.drain(100)
	tok := e.personToken("tecnico1", access.RoleTecnico)

	if st, _ := e.apiGet("/api/v1/calls", ""); st != 401 {
		t.Fatalf("no token: %d", st)
	}
	if st, _ := e.apiGet("/api/v1/calls", a.token); st != 401 {
		t.Fatalf("a box token on the API for people: %d", st)
	}
	cases := []struct {
		name  string
		query url.Values
		want  []string // box/record ids in order
	}{
		{"all", nil, []string{"a0", "b0", "a1", "b1", "a2", "b2", "a3", "a4"}},
		{"one box", url.Values{"box": {"caja-b"}}, []string{"b0", "b1", "b2"}},
		{"one office", url.Values{"office": {"Norte"}}, []string{"a0", "a1", "a2", "a3", "a4"}},
		{"time range", url.Values{"from": {t0.Add(time.Second).Format(time.RFC3339)}, "to": {t0.Add(3 * time.Second).Format(time.RFC3339)}},
			[]string{"a1", "b1", "a2", "b2"}},
		// t0 is 03:00 in Guatemala (UTC-6): the local day 2026-12-01.
		{"local day", url.Values{"from": {"2026-12-01"}, "to": {"2026-12-01"}}, []string{"a0", "b0", "a1", "b1", "a2", "b2", "a3", "a4"}},
		{"another day", url.Values{"from": {"2026-11-30"}, "to": {"2026-11-30"}}, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, body := e.apiGet("/api/v1/calls?"+tc.query.Encode(), tok)
			if st != 200 {
				t.Fatalf("status %d: %s", st, body)
			}
			var recs []map[string]any
			if err := json.Unmarshal(body, &recs); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			got := []string{}
			for _, r := range recs {
				id, _ := r["id"].(string)
				box, _ := r["box_id"].(string)
				office, _ := r["office"].(string)
				if (box == "caja-a") != (office == "Norte") || r["direction"] != "inbound" || r["transport"] != "udp" {
					t.Errorf("record %v", r)
				}
				got = append(got, box[len(box)-1:]+id[len(id)-1:])
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if st, _ := e.apiGet("/api/v1/calls?from=ayer", tok); st != 400 {
		t.Fatalf("bad from: %d", st)
	}
}

func TestBoxesAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	a := e.addBox("caja-a", "Norte")
	e.addBox("caja-b", "Sur")
	a.writeN(4)
	a.drain(2)
	e.clock.Advance(90 * time.Second)
	tok := e.personToken("admin1", access.RoleAdmin)
	if st, _ := e.apiGet("/api/v1/boxes", "stt_nonsense"); st != 401 {
		t.Fatalf("bad token: %d", st)
	}
	st, body := e.apiGet("/api/v1/boxes", tok)
	if st != 200 {
		t.Fatalf("status %d", st)
	}
	var boxes []Box
	if err := json.Unmarshal(body, &boxes); err != nil {
		t.Fatal(err)
	}
	if len(boxes) != 2 {
		t.Fatalf("%d boxes", len(boxes))
	}
	ba, bb := boxes[0], boxes[1]
	if ba.BoxID != "caja-a" || ba.Office != "Norte" || ba.Acked != uint64(len(a.outbox)) || ba.Records != int64(len(a.latest)) ||
		ba.LagSeconds == nil || *ba.LagSeconds != 90 {
		t.Errorf("box a: %s", body)
	}
	if bb.BoxID != "caja-b" || bb.Acked != 0 || bb.LastContact != nil || bb.LagSeconds != nil {
		t.Errorf("box b: %s", body)
	}
}
