package central

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchtap/switchtap/access"
	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/sip"
)

// person is a browser-like client of the console: a cookie jar, and no
// redirect followed (the tests look at them).
type person struct {
	e    *env
	name string
	c    *http.Client
}

// login adds an account of role and logs it in through web's
// POST /api/v1/login on the central server.
func (e *env) login(name string, role access.Role) *person {
	e.t.Helper()
	const pw = "una clave bastante larga"
	if err := e.s.Access().AddUser(context.Background(), access.Actor{Name: "test"}, name, role, pw); err != nil {
		e.t.Fatal(err)
	}
	p := &person{e: e, name: name, c: &http.Client{Jar: &jar{m: map[string]*http.Cookie{}}, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	st, body := p.do("POST", "/api/v1/login", map[string]string{"name": name, "password": pw})
	if st != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", name, st, body)
	}
	return p
}

// jar keeps cookies by name whatever their expiry: the server's clock
// is the fixture's, not the machine's, so net/http/cookiejar would take
// the session for expired.
type jar struct {
	mu sync.Mutex
	m  map[string]*http.Cookie
}

func (j *jar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cs {
		if c.MaxAge < 0 || c.Value == "" {
			delete(j.m, c.Name)
			continue
		}
		j.m[c.Name] = &http.Cookie{Name: c.Name, Value: c.Value}
	}
}

func (j *jar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []*http.Cookie
	for _, c := range j.m {
		out = append(out, c)
	}
	return out
}

// do sends a request with a JSON body (nil: none) and returns the answer.
func (p *person) do(method, path string, body any) (int, []byte) {
	p.e.t.Helper()
	resp := p.req(method, path, body)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (p *person) req(method, path string, body any) *http.Response {
	p.e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.e.http.URL+path, rd)
	if err != nil {
		p.e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.c.Do(req)
	if err != nil {
		p.e.t.Fatal(err)
	}
	return resp
}

// must is do that fails the test on another status than want.
func (p *person) must(want int, method, path string, body any) []byte {
	p.e.t.Helper()
	st, b := p.do(method, path, body)
	if st != want {
		p.e.t.Fatalf("%s %s %s: %d, want %d: %s", p.name, method, path, st, want, b)
	}
	return b
}

// office chooses the console's office.
func (p *person) office(o string) {
	p.e.t.Helper()
	resp := p.req("GET", PathOffice+"?o="+url.QueryEscape(o), nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		p.e.t.Fatalf("choose office %q: %d to %q", o, resp.StatusCode, resp.Header.Get("Location"))
	}
}

// callIDs lists the ids GET /api/v1/calls answers on the console.
func (p *person) callIDs(query string) []string {
	p.e.t.Helper()
	var calls []sip.Call
	if err := json.Unmarshal(p.must(http.StatusOK, "GET", "/api/v1/calls?from=2026-11-01&to=2026-11-30"+query, nil), &calls); err != nil {
		p.e.t.Fatal(err)
	}
	ids := make([]string, len(calls))
	for i, c := range calls {
		ids[i] = c.ID
	}
	return ids
}

// boxesOf counts the ids by box.
func boxesOf(ids []string) map[string]int {
	m := map[string]int{}
	for _, id := range ids {
		b, _, _ := SplitID(id)
		m[b]++
	}
	return m
}

// inMonth counts the box's legs of the fixture's month.
func (fb *fixtureBox) inMonth() int {
	from, to, _ := report.MonthRange(fixtureMonth, fixtureZone)
	n := 0
	for _, c := range fb.calls {
		if !c.InviteAt.Before(from) && c.InviteAt.Before(to) {
			n++
		}
	}
	return n
}

// TestConsoleOffices: the office cookie switches what the console's
// GET /api/v1/calls answers, the office parameter overrides it for one
// request, a bearer token still gets the central API's own answer, and
// the chooser needs a login.
func TestConsoleOffices(t *testing.T) {
	e, a, b := twoOffices(t)
	p := e.login("tecnica", access.RoleTecnico)

	all := boxesOf(p.callIDs(""))
	if all["box-a"] != a.inMonth() || all["box-b"] != b.inMonth() || len(all) != 2 {
		t.Errorf("all offices by default: %v, want box-a %d and box-b %d", all, a.inMonth(), b.inMonth())
	}
	p.office("Oficina Norte")
	if got := boxesOf(p.callIDs("")); got["box-a"] != a.inMonth() || len(got) != 1 {
		t.Errorf("Oficina Norte: %v", got)
	}
	if got := boxesOf(p.callIDs("&office=" + url.QueryEscape("Oficina Sur"))); got["box-b"] != b.inMonth() || len(got) != 1 {
		t.Errorf("office=Oficina Sur over the Norte cookie: %v", got)
	}
	if st, _ := p.do("GET", "/api/v1/calls?office=Atlantida", nil); st != http.StatusNotFound {
		t.Errorf("unknown office: %d", st)
	}
	// Another office's call does not exist in this office's console.
	p.must(http.StatusNotFound, "GET", "/api/v1/calls/box-b~leg-0001", nil)
	p.must(http.StatusOK, "GET", "/api/v1/calls/box-a~leg-0001", nil)
	page := string(p.must(http.StatusOK, "GET", "/llamadas/box-a~leg-0001", nil))
	if !strings.Contains(page, a.call("leg-0001").From) {
		t.Errorf("detail page of box-a~leg-0001 lacks its caller")
	}
	// Every page says whose records it shows; the first page is the month.
	if !strings.Contains(page, `id="banner"`) || !strings.Contains(page, "Oficina: Oficina Norte") || !strings.Contains(page, `href="/oficina"`) {
		t.Errorf("detail page has no office banner")
	}
	home := p.req("GET", "/", nil)
	home.Body.Close()
	if home.Header.Get("Location") != "/mes" {
		t.Errorf("home: %d %q, want /mes", home.StatusCode, home.Header.Get("Location"))
	}
	p.office("*")
	if got := boxesOf(p.callIDs("")); len(got) != 2 {
		t.Errorf("back to all offices: %v", got)
	}

	list := string(p.must(http.StatusOK, "GET", PathOffice, nil))
	for _, o := range []string{"Oficina Norte", "Oficina Sur", "Todas las oficinas"} {
		if !strings.Contains(list, o) {
			t.Errorf("office page lacks %q", o)
		}
	}
	// The central API keeps its contract for a bearer token.
	tok := e.personToken("script", access.RoleTecnico)
	st, body := e.apiGet("/api/v1/calls?from=2026-11-01&to=2026-11-30&office="+url.QueryEscape("Oficina Sur"), tok)
	var recs []map[string]any
	if st != http.StatusOK || json.Unmarshal(body, &recs) != nil || len(recs) != b.inMonth() || recs[0]["box_id"] != "box-b" {
		t.Errorf("central API with a token: %d, %d records", st, len(recs))
	}
	// No login, no chooser; no choosing an office no box is in.
	anon := &person{e: e, name: "anon", c: &http.Client{CheckRedirect: p.c.CheckRedirect}}
	resp := anon.req("GET", PathOffice+"?o=Oficina+Norte", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" || len(resp.Cookies()) != 0 {
		t.Errorf("anonymous chooser: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if st, _ := p.do("GET", PathOffice+"?o=Atlantida", nil); st != http.StatusNotFound {
		t.Errorf("choosing an unknown office: %d", st)
	}
	// The receiver's routes are the receiver's.
	if r := a.cursor(); r.status != http.StatusOK || r.acked != uint64(len(a.outbox)) {
		t.Errorf("cursor behind the console: %+v", r)
	}
}

// TestConsoleStatus: the Estado of an office is its boxes' contact.
func TestConsoleStatus(t *testing.T) {
	e, _, _ := twoOffices(t)
	p := e.login("jefa", access.RoleJefe)
	var st struct {
		Lamp    string `json:"lamp"`
		Capture struct {
			Source string `json:"source"`
			Up     bool   `json:"up"`
		} `json:"capture"`
		Store struct {
			CallsStored int `json:"calls_stored"`
		} `json:"store"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	read := func(q string) {
		t.Helper()
		st.Errors = nil
		if err := json.Unmarshal(p.must(http.StatusOK, "GET", "/api/v1/status"+q, nil), &st); err != nil {
			t.Fatal(err)
		}
	}
	read("?office=" + url.QueryEscape("Oficina Norte"))
	if st.Lamp != "ok" || !st.Capture.Up || st.Store.CallsStored != e.count("SELECT count(*) FROM calls WHERE box_id = 'box-a'") {
		t.Errorf("Norte in contact: %+v", st)
	}
	e.clock.Advance(staleContact + time.Minute)
	read("")
	if st.Lamp != "fault" || st.Capture.Up || len(st.Errors) != 2 || !strings.Contains(st.Errors[0].Message, "sin contacto") {
		t.Errorf("all boxes out of contact: %+v", st)
	}
}

// TestConsoleProcedure: the month's procedure on the central console
// for one office: the técnico draws the sample, evaluates every sampled
// call and submits the report, the jefe approves it; each step audited in
// the central's log, the other office untouched. A recording uploaded by
// the box plays (audited); one left on its box says so.
func TestConsoleProcedure(t *testing.T) {
	e, a, _ := twoOffices(t)
	wav := testWAV(t, 1)
	a.upload(wav, "leg-0001", "leg-0006", "leg-0008")
	tec := e.login("tecnica", access.RoleTecnico)
	jefa := e.login("jefa", access.RoleJefe)
	tec.office("Oficina Norte")
	jefa.office("Oficina Norte")
	const m = "/api/v1/months/" + fixtureMonth

	var smp report.Sample
	if err := json.Unmarshal(tec.must(http.StatusCreated, "POST", m+"/sample", map[string]any{"seed": "7"}), &smp); err != nil {
		t.Fatal(err)
	}
	if smp.FrameSize != 3 || len(smp.Items) == 0 {
		t.Fatalf("sample: frame %d, %d items", smp.FrameSize, len(smp.Items))
	}
	var answers []report.Answer
	for _, pt := range []string{report.PointSaludo, report.PointTono, report.PointConcision, report.PointPaciencia, report.PointTraslado, report.PointAmabilidad} {
		answers = append(answers, report.Answer{Point: pt, Verdict: report.VerdictCumple})
	}
	answers[1].Verdict, answers[1].Observation = report.VerdictNoCumple, "tono cortante"
	for _, it := range smp.Items {
		if !strings.HasPrefix(it.ID, "box-a~") {
			t.Errorf("Norte's sample has %s", it.ID)
		}
		ev := m + "/evaluations/" + it.ID
		tec.must(http.StatusOK, "POST", ev, nil)
		tec.must(http.StatusOK, "PUT", ev+"/draft", map[string]any{"answers": answers})
		tec.must(http.StatusOK, "POST", ev+"/submit", nil)
	}
	tec.must(http.StatusOK, "PUT", m+"/review/conclusions", map[string]string{"conclusions": "Mejorar el tono."})
	tec.must(http.StatusOK, "POST", m+"/review/submit", nil)
	jefa.must(http.StatusOK, "POST", m+"/review/approve", nil)

	var rv report.Review
	if err := json.Unmarshal(jefa.must(http.StatusOK, "GET", m+"/review", nil), &rv); err != nil {
		t.Fatal(err)
	}
	if rv.State != report.ReviewApproved {
		t.Errorf("Norte's review: %s", rv.State)
	}
	if err := json.Unmarshal(jefa.must(http.StatusOK, "GET", m+"/review?office="+url.QueryEscape("Oficina Sur"), nil), &rv); err != nil {
		t.Fatal(err)
	}
	if rv.State == report.ReviewApproved {
		t.Error("Sur's review approved with Norte's")
	}
	var doc report.Document
	if err := json.Unmarshal(jefa.must(http.StatusOK, "GET", m+"/report", nil), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Office != "Oficina Norte" || len(doc.Evaluations) != len(smp.Items) || doc.Tabulation == nil {
		t.Errorf("Norte's document: office %q, %d evaluations", doc.Office, len(doc.Evaluations))
	}
	xlsx := jefa.must(http.StatusOK, "GET", m+"/report/export?format=xlsx", nil)
	if !bytes.HasPrefix(xlsx, []byte("PK")) {
		t.Errorf("export is not an XLSX: % x", xlsx[:min(8, len(xlsx))])
	}

	// The recording on the server plays, and each play is audited.
	got := tec.must(http.StatusOK, "GET", "/api/v1/calls/box-a~leg-0001/recording?format=stored", nil)
	if !bytes.Equal(got, wav) {
		t.Errorf("played %d bytes, uploaded %d", len(got), len(wav))
	}
	tec.must(http.StatusOK, "GET", "/api/v1/calls/box-a~leg-0006/recording", nil)
	var none struct {
		NotRecordable string `json:"not_recordable"`
	}
	if err := json.Unmarshal(tec.must(http.StatusNotFound, "GET", "/api/v1/calls/box-a~leg-0009/recording", nil), &none); err != nil || none.NotRecordable != NoCentralRecording {
		t.Errorf("recording left on the box: %+v %v", none, err)
	}

	audited := map[string][]string{}
	err := e.s.Access().AuditRange(context.Background(), time.Time{}, time.Now().AddDate(10, 0, 0), func(en access.Entry) error {
		audited[en.Action] = append(audited[en.Action], en.Actor+" "+en.Target)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	plays := strings.Join(audited["recording_play"], ",")
	if !strings.Contains(plays, "tecnica box-a~leg-0001") || !strings.Contains(plays, "tecnica box-a~leg-0006") {
		t.Errorf("plays audited: %q", plays)
	}
	if len(audited["evaluation_submit"]) != len(smp.Items) || len(audited["report_approve"]) != 1 || len(audited["report_submit"]) != 1 {
		t.Errorf("procedure audited: %d submits, %v approve, %v report submit",
			len(audited["evaluation_submit"]), audited["report_approve"], audited["report_submit"])
	}
}
