package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/sip"
)

// smpKV is an in-memory report.KV.
type smpKV struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (k *smpKV) Get(_ context.Context, key []byte) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[string(key)]
	return append([]byte(nil), v...), ok, nil
}

func (k *smpKV) Set(_ context.Context, key, val []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[string(key)] = append([]byte(nil), val...)
	return nil
}

func (k *smpKV) Scan(_ context.Context, prefix []byte, fn func(key, val []byte) error) error {
	k.mu.Lock()
	var keys []string
	for key := range k.m {
		if strings.HasPrefix(key, string(prefix)) {
			keys = append(keys, key)
		}
	}
	k.mu.Unlock()
	sort.Strings(keys)
	for _, key := range keys {
		if err := fn([]byte(key), k.m[key]); err != nil {
			return err
		}
	}
	return nil
}

func (k *smpKV) Batch(ctx context.Context, set [][2][]byte, del [][]byte) error {
	for _, kv := range set {
		_ = k.Set(ctx, kv[0], kv[1])
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, key := range del {
		delete(k.m, string(key))
	}
	return nil
}

// smpKeep is an in-memory report.Keeper.
type smpKeep struct {
	mu sync.Mutex
	m  map[string]string
}

func (k *smpKeep) SetKeep(_ context.Context, id, reason string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[id] = reason
	return nil
}

func (k *smpKeep) Kept(_ context.Context, id string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.m[id], nil
}

// newSampleEnv is a testEnv with a report.Sampler over the fake store and
// 20 November calls (12 to 201, 8 to 202) with a recording.
func newSampleEnv(t *testing.T) (*testEnv, *smpKeep) {
	t.Helper()
	e := newTestEnv(t)
	for i := range 20 {
		c := e.testCall(fmt.Sprintf("n%02d", i), -time.Duration(24+i)*time.Hour)
		if i%5 >= 3 {
			c.Operator = "202"
		}
		c.Recording = &sip.Recording{File: "2026/11/x/" + c.ID + ".wav"}
		e.calls.add(c)
	}
	keep := &smpKeep{m: map[string]string{}}
	smp, err := report.NewSampler(e.calls, &smpKV{m: map[string][]byte{}}, keep, e.loc, report.SampleOptions{},
		slog.New(slog.NewTextHandler(io.Discard, nil)), report.WithSamplerClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	e.srv.cfg.Sample = smp
	e.handler = e.srv.Handler()
	e.local = e.srv.LocalHandler()
	return e, keep
}

// TestAPISample walks the API: who may draw, the conflict of a second
// draw, a redraw with a reason, read, verify, replace, each change audited.
func TestAPISample(t *testing.T) {
	e, keep := newSampleEnv(t)
	const base = "/api/v1/months/2026-11/sample"
	steps := []struct {
		name, method, path, body string
		auth                     func(*http.Request)
		code                     int
	}{
		{"nothing yet", "GET", base, "", e.as("tecnico"), http.StatusNotFound},
		{"admin may not draw", "POST", base, `{}`, e.as("admin"), http.StatusForbidden},
		{"anonymous", "POST", base, `{}`, e.as(""), http.StatusUnauthorized},
		{"bad month", "POST", "/api/v1/months/2026-13/sample", `{}`, e.as("tecnico"), http.StatusBadRequest},
		{"empty month", "POST", "/api/v1/months/2026-10/sample", `{}`, e.as("tecnico"), http.StatusBadRequest},
		{"bad seed", "POST", base, `{"seed":"-1"}`, e.as("tecnico"), http.StatusBadRequest},
		{"tecnico draws", "POST", base, `{"seed":"18446744073709551615"}`, e.as("tecnico"), http.StatusCreated},
		{"second draw refused", "POST", base, `{}`, e.as("jefe"), http.StatusConflict},
		{"redraw without reason", "POST", base, `{"redraw":true}`, e.as("jefe"), http.StatusBadRequest},
		{"jefe redraws", "POST", base, `{"redraw":true,"reason":"marco incompleto","seed":7}`, e.as("jefe"), http.StatusCreated},
		{"admin reads", "GET", base, "", e.as("admin"), http.StatusOK},
		{"verify", "GET", base + "/verify", "", e.as("tecnico"), http.StatusOK},
		{"admin may not replace", "POST", base + "/replace", `{"id":"x","reason":"y"}`, e.as("admin"), http.StatusForbidden},
		{"replace unknown", "POST", base + "/replace", `{"id":"nope","reason":"y"}`, e.as("tecnico"), http.StatusBadRequest},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var body io.Reader
			if st.body != "" {
				body = strings.NewReader(st.body)
			}
			w := e.do(st.method, st.path, body, st.auth)
			if w.Code != st.code {
				t.Fatalf("%s %s = %d %s, want %d", st.method, st.path, w.Code, w.Body, st.code)
			}
		})
	}
	if n := e.auth.count(ActionSampleDraw); n != 1 {
		t.Errorf("%d draw entries, want 1", n)
	}
	if n := e.auth.count(ActionSampleRedraw); n != 1 {
		t.Errorf("%d redraw entries, want 1", n)
	}
	var smp report.Sample
	w := e.do("GET", base, nil, e.as("tecnico"))
	if err := json.Unmarshal(w.Body.Bytes(), &smp); err != nil {
		t.Fatal(err)
	}
	if smp.Seed != 7 || smp.DrawnBy != "jefe" || smp.Redraw != "marco incompleto" || smp.FrameSize != 20 || !strings.Contains(w.Body.String(), `"seed":"7"`) {
		t.Fatalf("sample %s", w.Body)
	}
	first := smp.Items[0]
	w = e.do("POST", base+"/replace", strings.NewReader(`{"id":"`+first.ID+`","reason":"inaudible"}`), e.as("tecnico"))
	if w.Code != http.StatusOK {
		t.Fatalf("replace = %d %s", w.Code, w.Body)
	}
	var rep sampleReplaceResponse
	if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Replacement.OldID != first.ID || rep.Replacement.By != "tecnico" || keep.m[rep.Replacement.NewID] != "muestra 2026-11" {
		t.Fatalf("replacement %+v keep %q", rep.Replacement, keep.m[rep.Replacement.NewID])
	}
	if n := e.auth.count(ActionSampleReplace); n != 1 {
		t.Errorf("%d replace entries, want 1", n)
	}
	var v report.Verification
	w = e.do("GET", base+"/verify", nil, e.as("tecnico"))
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || !v.Match {
		t.Fatalf("verify %s %v", w.Body, err)
	}
	// A record added to the month: verify answers 200 with match false.
	c := e.testCall("n99", -30*24*time.Hour+time.Hour)
	c.Recording = &sip.Recording{File: "x.wav"}
	e.calls.add(c)
	w = e.do("GET", base+"/verify", nil, e.as("tecnico"))
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || v.Match || len(v.Added) != 1 {
		t.Fatalf("verify after change %s %v", w.Body, err)
	}
}

// TestAPISampleSocket: the local socket (the CLI) may draw; the audit
// names the peer.
func TestAPISampleSocket(t *testing.T) {
	e, _ := newSampleEnv(t)
	r := httptest.NewRequest("POST", "/api/v1/months/2026-11/sample", strings.NewReader(`{"seed":"1"}`))
	r = r.WithContext(WithPeer(r.Context(), 1000))
	w := httptest.NewRecorder()
	e.local.ServeHTTP(w, r)
	if w.Code != http.StatusCreated {
		t.Fatalf("socket draw = %d %s", w.Code, w.Body)
	}
	es := e.auth.entries()
	if last := es[len(es)-1]; last.Action != ActionSampleDraw || last.Actor != "local:1000" || last.Target != "muestra 2026-11" {
		t.Fatalf("audit %+v", last)
	}
}

// TestAPISampleAuditDown: a draw that cannot be audited is answered 503.
func TestAPISampleAuditDown(t *testing.T) {
	e, _ := newSampleEnv(t)
	e.auth.setAuditErr(errFakeDown)
	w := e.do("POST", "/api/v1/months/2026-11/sample", strings.NewReader(`{}`), e.as("tecnico"))
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("draw with audit down = %d %s", w.Code, w.Body)
	}
}

// TestConsoleSample: the Muestra page before and after a draw from its
// form, the items linking to their detail, and the forms only for the
// técnico and the jefe.
func TestConsoleSample(t *testing.T) {
	e, _ := newSampleEnv(t)
	w := e.do("GET", "/muestra", nil, e.as("tecnico")) // default: November
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `id="no-sample"`) || !strings.Contains(w.Body.String(), `id="draw-form"`) {
		t.Fatalf("empty page = %d %s", w.Code, w.Body)
	}
	form := url.Values{"m": {"2026-11"}, "seed": {"42"}}.Encode()
	w = e.do("POST", "/muestra", strings.NewReader(form), e.as("jefe"), header("Content-Type", "application/x-www-form-urlencoded"))
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/muestra?") {
		t.Fatalf("draw form = %d %s", w.Code, w.Body)
	}
	w = e.do("GET", w.Header().Get("Location"), nil, e.as("jefe"))
	body := w.Body.String()
	for _, want := range []string{`id="frame-hash"`, `<code id="seed">42</code>`, `id="allocation"`, `href="/llamadas/n`, "Se sorteó la muestra", `name="redraw"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	w = e.do("GET", "/muestra?m=2026-11", nil, e.as("admin"))
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `id="draw-form"`) || strings.Contains(w.Body.String(), "/muestra/reemplazo") {
		t.Fatalf("admin sees the forms: %d", w.Code)
	}
	w = e.do("POST", "/muestra", strings.NewReader(form), e.as("admin"), header("Content-Type", "application/x-www-form-urlencoded"))
	if w.Code != http.StatusForbidden {
		t.Fatalf("admin draw = %d", w.Code)
	}
	// Drawing again from the form without redraw: 409 on the page.
	w = e.do("POST", "/muestra", strings.NewReader(form), e.as("jefe"), header("Content-Type", "application/x-www-form-urlencoded"))
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "ya tiene muestra") {
		t.Fatalf("second draw = %d", w.Code)
	}
	w = e.do("GET", "/muestra?m=2026-11&verificar=1", nil, e.as("tecnico"))
	if !strings.Contains(w.Body.String(), `data-match="true"`) {
		t.Fatalf("verification not shown: %s", w.Body)
	}
	w = e.do("GET", "/muestra?m=nov", nil, e.as("tecnico"))
	if w.Code != http.StatusBadRequest {
		t.Fatalf("bad month = %d", w.Code)
	}
}
