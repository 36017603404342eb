package web

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/switchtap/switchtap/sip"
)

// speechFixture is an answered, recorded leg with the speech and quality
// objects the recorder writes: five turns (the caller's and the
// receptionist's overlapping once), both directions measured.
func speechFixture(e *testEnv, id string) sip.Call {
	c := e.testCall(id, -time.Hour)
	c.Recording = &sip.Recording{File: "2026/12/01/" + id + ".wav", DurationSeconds: 20}
	c.Speech = &sip.Speech{
		GreetingLatencySeconds: f64(1.23), CallerFirstSeconds: f64(3.5),
		TalkSeconds:    sip.SideSeconds{Caller: 6.4, Callee: 7.25},
		SilenceSeconds: 7.1, OvertalkSeconds: 0.75, AnalysedSeconds: 20,
		LongestSilenceSeconds: 2.4, LongestSilenceAtSeconds: 12.6,
		Segments: []sip.SpeechSegment{
			{Side: "callee", StartSeconds: 1.23, EndSeconds: 3.6},
			{Side: "caller", StartSeconds: 3.5, EndSeconds: 7.1},
			{Side: "callee", StartSeconds: 7.4, EndSeconds: 12.6},
			{Side: "caller", StartSeconds: 15, EndSeconds: 17.8},
			{Side: "callee", StartSeconds: 18.3, EndSeconds: 18.98},
		},
	}
	c.Quality = &sip.Quality{
		Caller:      &sip.StreamQuality{JitterMeanMs: 1.24, JitterMaxMs: 6.8, LossPercent: 0, RFactor: 93.2, MOS: 4.41},
		Callee:      &sip.StreamQuality{JitterMeanMs: 3.5, JitterMaxMs: 22.05, LossPercent: 4.96, Late: 2, Duplicates: 1, RFactor: 71.4, MOS: 3.62},
		HoldSeconds: 3, HoldAudioSeconds: 2.8,
	}
	return c
}

// TestConsoleSpeechGolden: the segments' SVG of the fixture, byte for byte.
func TestConsoleSpeechGolden(t *testing.T) {
	e := newTestEnv(t)
	c, err := newConsole(e.srv)
	if err != nil {
		t.Fatal(err)
	}
	call := speechFixture(e, "s1")
	var buf bytes.Buffer
	if err := c.pages["detalle"].ExecuteTemplate(&buf, "speech-svg", newSpeechOverlay(call.Speech, call.Recording.DurationSeconds)); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	golden := filepath.Join("testdata", "console_speech.golden.svg")
	if *updateGolden {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("speech SVG differs from %s (run with -update after checking):\n%s", golden, buf.String())
	}
}

// figureCells returns the cells of the figures table's row key.
func figureCells(t *testing.T, doc *html.Node, key string) []string {
	t.Helper()
	row := find(find(doc, byID("speech-figures")), tag("tr", "data-figure", key))
	if row == nil {
		t.Fatalf("no figure row %q", key)
	}
	var out []string
	for _, td := range findAll(row, tag("td")) {
		out = append(out, textOf(td))
	}
	return out
}

// TestConsoleDetailSpeech: one rectangle per segment of the record, in its
// side's band at its seconds; the greeting marked on the waveform; the
// figures table with the record's values.
func TestConsoleDetailSpeech(t *testing.T) {
	e := newTestEnv(t)
	call := speechFixture(e, "s1")
	e.calls.add(call)
	w := e.do("GET", "/llamadas/s1", nil, e.as("tecnico"))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	doc := parsePage(t, w)
	assertNoInline(t, doc)
	svg := find(find(doc, byID("wave-box")), tag("svg", "id", "speech-segments"))
	if svg == nil || attrOf(svg, "viewBox") != "0 0 20.000 2" {
		t.Fatalf("no svg#speech-segments over the waveform spanning 20 s: %v", svg)
	}
	rects := findAll(svg, tag("rect"))
	if len(rects) != len(call.Speech.Segments) {
		t.Fatalf("%d rectangles, want %d (the record's segments)", len(rects), len(call.Speech.Segments))
	}
	for i, r := range rects {
		g := call.Speech.Segments[i]
		wantY := map[string]string{"caller": "0", "callee": "1"}[g.Side]
		if attrOf(r, "data-side") != g.Side || !hasClass(r, g.Side) || attrOf(r, "y") != wantY ||
			attrOf(r, "x") != js3(g.StartSeconds) || attrOf(r, "width") != js3(g.EndSeconds-g.StartSeconds) {
			t.Errorf("rect %d %v, want segment %+v", i, r.Attr, g)
		}
	}
	markers := map[string]string{}
	for _, m := range within(doc, byID("waveform-markers"), tag("span", "data-marker", "")) {
		markers[attrOf(m, "data-marker")] = attrOf(m, "data-offset")
	}
	if markers["answer"] != "0.000" || markers["greeting"] != "1.230" {
		t.Fatalf("markers %v", markers)
	}
	for _, tc := range []struct {
		key  string
		want []string
	}{
		{"first", []string{"3,50\u00a0s", "1,23\u00a0s"}},
		{"talk", []string{"6,40\u00a0s", "7,25\u00a0s"}},
		{"silence", []string{"7,10\u00a0s de 20,00\u00a0s"}},
		{"overtalk", []string{"0,75\u00a0s"}},
		{"longest-silence", []string{"2,40\u00a0s, desde el segundo 12,60"}},
		{"jitter", []string{"1,2 / 6,8\u00a0ms", "3,5 / 22,1\u00a0ms"}},
		{"loss", []string{"0,0\u00a0%", "5,0\u00a0% (2 tardíos, 1 duplicados)"}},
		{"mos", []string{"4,41 (R 93)", "3,62 (R 71)"}},
		{"one-way", []string{"No"}},
		{"hold", []string{"3,00\u00a0s / 2,80\u00a0s"}},
	} {
		if got := figureCells(t, doc, tc.key); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: %q, want %q", tc.key, got, tc.want)
		}
	}

	// One-way audio is flagged; a direction without audio says so.
	call.Quality.Callee, call.Quality.OneWayAudio = nil, true
	call.Speech.Segments = call.Speech.Segments[:2]
	e.calls.add(call)
	doc = parsePage(t, e.do("GET", "/llamadas/s1", nil, e.as("tecnico")))
	if n := len(findAll(find(doc, byID("speech-segments")), tag("rect"))); n != 2 {
		t.Fatalf("%d rectangles, want 2", n)
	}
	if got := figureCells(t, doc, "mos"); got[1] != "sin audio" {
		t.Errorf("mos without the callee's stream: %q", got)
	}
	if row := find(doc, tag("tr", "data-figure", "one-way")); !hasClass(row, "over") || textOf(row) != "Audio en un solo sentidoSí" {
		t.Errorf("one-way row %q", textOf(row))
	}
}

// TestConsoleDetailNoSpeech: a leg without the objects (not analysed, or
// the receptionist never spoke) draws nothing and marks no greeting.
func TestConsoleDetailNoSpeech(t *testing.T) {
	e := newTestEnv(t)
	plain := e.testCall("p1", -time.Hour)
	plain.Recording = &sip.Recording{File: "x/p1.wav", DurationSeconds: 20}
	e.calls.add(plain)
	mute := speechFixture(e, "m1")
	mute.Speech.GreetingLatencySeconds, mute.Speech.Segments = nil, nil
	e.calls.add(mute)

	doc := parsePage(t, e.do("GET", "/llamadas/p1", nil, e.as("tecnico")))
	if find(doc, byID("speech-segments")) != nil || find(doc, byID("speech-figures")) != nil {
		t.Fatal("segments or figures without speech in the record")
	}
	doc = parsePage(t, e.do("GET", "/llamadas/m1", nil, e.as("tecnico")))
	if n := len(findAll(find(doc, byID("speech-segments")), tag("rect"))); n != 0 {
		t.Fatalf("%d rectangles, want none", n)
	}
	if find(doc, tag("span", "data-marker", "greeting")) != nil {
		t.Fatal("a greeting marked where the receptionist never spoke")
	}
	if got := figureCells(t, doc, "first"); got[1] != "no habló" {
		t.Fatalf("first voice %q", got)
	}
}

// TestConsoleCallsGreeting: the Llamadas page's Saludo column and its
// filter, kept in the form, the pager and the CSV link; a bad value is the
// page's 400 naming the parameter.
func TestConsoleCallsGreeting(t *testing.T) {
	e := greetingEnv(t)
	rows := func(doc *html.Node) map[string]string {
		out := map[string]string{}
		for _, tr := range within(doc, byID("calls"), tag("tr", "data-id", "")) {
			out[attrOf(tr, "data-id")] = textOf(find(tr, func(n *html.Node) bool { return n.Data == "td" && hasClass(n, "greeting") }))
		}
		return out
	}
	doc := parsePage(t, e.do("GET", "/llamadas?from=2026-12-01", nil, e.as("tecnico")))
	assertNoInline(t, doc)
	var heads []string
	for _, th := range within(doc, byID("calls"), tag("th")) {
		heads = append(heads, textOf(th))
	}
	if got := strings.Join(heads, "|"); got != "Inicio|De|A|Recepcionista|Dirección|Timbres|Espera|Límite|Resultado|Traslado|Saludo (s)|Detalle" {
		t.Fatalf("columns %s", got)
	}
	got := rows(doc)
	want := map[string]string{"fast": "0,50", "mid": "1,20", "slow": "3,00", "mute": "—", "unrec": "—"}
	if len(got) != len(want) {
		t.Fatalf("rows %v", got)
	}
	for id, v := range want {
		if got[id] != v {
			t.Errorf("%s: Saludo %q, want %q", id, got[id], v)
		}
	}

	w := e.do("GET", "/llamadas?from=2026-12-01&greeting_min=1&greeting_max=2,5", nil, e.as("tecnico"))
	if w.Code != http.StatusOK {
		t.Fatalf("filtered: %d", w.Code)
	}
	doc = parsePage(t, w)
	if got := rows(doc); len(got) != 1 || got["mid"] != "1,20" {
		t.Fatalf("filtered rows %v, want mid", got)
	}
	if in := find(doc, tag("input", "name", "greeting_min")); attrOf(in, "value") != "1" {
		t.Errorf("greeting_min not kept in the form: %q", attrOf(in, "value"))
	}
	if in := find(doc, tag("input", "name", "greeting_max")); attrOf(in, "value") != "2,5" {
		t.Errorf("greeting_max not kept in the form: %q", attrOf(in, "value"))
	}
	u, err := url.Parse(attrOf(find(doc, byID("export-csv")), "href"))
	if err != nil || u.Query().Get("greeting_min") != "1" || u.Query().Get("greeting_max") != "2,5" {
		t.Errorf("CSV link loses the filter: %v", u)
	}

	w = e.do("GET", "/llamadas?from=2026-12-01&greeting_max=pronto", nil, e.as("tecnico"))
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "greeting_max") {
		t.Fatalf("bad value: %d", w.Code)
	}
}

// TestConsoleEvalFigures: beside Saludo the greeting latency, beside Tono
// the talk, overtalk, silence and MOS, as information: the points keep
// their three unchecked verdicts, no other point gets figures, and a call
// without the objects shows none.
func TestConsoleEvalFigures(t *testing.T) {
	e := newCPEnv(t)
	rec := speechFixture(e.testEnv, "x")
	c1, err := e.calls.Call(t.Context(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	c1.Speech, c1.Quality = rec.Speech, rec.Quality
	e.calls.add(c1)
	for _, id := range []string{"c1", "c3"} {
		if w := e.post("tecnico", "/evaluacion/abrir", url.Values{"m": {procMonth}, "id": {id}}); w.Code != http.StatusSeeOther {
			t.Fatalf("open %s = %d", id, w.Code)
		}
	}
	doc := parsePage(t, e.do("GET", evalURL(procMonth, "c1"), nil, e.as("tecnico")))
	assertNoInline(t, doc)
	form := find(doc, byID("eval-form"))
	if form == nil {
		t.Fatal("no #eval-form")
	}
	figs := map[string]string{}
	for _, p := range findAll(form, tag("p", "data-figures", "")) {
		figs[attrOf(p, "data-figures")] = textOf(p)
	}
	if len(figs) != 2 {
		t.Fatalf("figures on %d points, want saludo and tono: %v", len(figs), figs)
	}
	if s := figs["saludo"]; !strings.Contains(s, "empieza a hablar 1,23\u00a0s después de contestar") || !strings.Contains(s, "el veredicto es suyo") {
		t.Errorf("saludo figures %q", s)
	}
	for _, want := range []string{"llamante 6,40\u00a0s", "recepcionista 7,25\u00a0s", "simultánea 0,75\u00a0s", "silencio 7,10\u00a0s", "MOS estimado: llamante 4,41, recepcionista 3,62"} {
		if !strings.Contains(figs["tono"], want) {
			t.Errorf("tono figures %q lack %q", figs["tono"], want)
		}
	}
	for _, id := range []string{"saludo", "tono"} {
		pt := find(form, byID("point-"+id))
		if find(pt, byID("figures-"+id)) == nil {
			t.Errorf("%s: figures not inside its point", id)
		}
		radios := findAll(pt, tag("input", "type", "radio"))
		if len(radios) != 3 {
			t.Fatalf("%s: %d radios", id, len(radios))
		}
		for _, r := range radios {
			if _, checked := attr(r, "checked"); checked {
				t.Errorf("%s: a verdict chosen from the figures", id)
			}
		}
	}
	// The answers of the submitted evaluation show them too.
	if w := e.post("tecnico", "/evaluacion/enviar", completeForm("c1")); w.Code != http.StatusSeeOther {
		t.Fatalf("submit = %d", w.Code)
	}
	doc = parsePage(t, e.do("GET", evalURL(procMonth, "c1"), nil, e.as("tecnico")))
	if tr := find(find(doc, byID("eval-result")), tag("tr", "data-point", "saludo")); !strings.Contains(textOf(tr), "1,23\u00a0s") {
		t.Errorf("submitted saludo row %q", textOf(tr))
	}
	rows := within(doc, byID("eval-result"), tag("tr", "data-point", ""))
	if len(rows) != 7 {
		t.Fatalf("%d answer rows", len(rows))
	}
	for _, tr := range rows {
		id := attrOf(tr, "data-point")
		if has := strings.Contains(textOf(tr), "Medido en la grabación"); has != (id == "saludo" || id == "tono") {
			t.Errorf("%s: figures shown %v", id, has)
		}
	}

	doc = parsePage(t, e.do("GET", evalURL(procMonth, "c3"), nil, e.as("tecnico")))
	if n := len(findAll(doc, tag("p", "data-figures", ""))); n != 0 {
		t.Fatalf("%d figures for a call without speech", n)
	}
}
