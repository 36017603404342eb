package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/switchtap/switchtap/report"
)

// TestAPIReport: the document and its tabulation, who reads them.
func TestAPIReport(t *testing.T) {
	pe := newProcEnv(t)
	pe.submitAll(t)
	pe.send("POST", evBase+"/c1/revise", `{"reason":"r","answers":`+answersJSON(report.VerdictNoCumple)+`}`, "tecnico")
	for who, code := range map[string]int{"tecnico": 200, "jefe": 200, "admin": 200, "socket": 200, "recep201": 403, "recepnadie": 403, "": 401} {
		w, _ := pe.send("GET", "/api/v1/months/2026-11/report", "", who)
		if w.Code != code {
			t.Errorf("report as %q = %d %s", who, w.Code, w.Body)
			continue
		}
		if code != 200 {
			continue
		}
		var d report.Document
		if err := json.Unmarshal(w.Body.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		if d.Month != procMonth || len(d.Evaluations) != 3 || d.Tabulation == nil || d.Tabulation.Submitted != 3 || d.Evaluations[0].Revision != 2 {
			t.Fatalf("document %s", w.Body)
		}
	}
	w, _ := pe.send("GET", "/api/v1/months/2026-11/tabulation", "", "admin")
	var tab report.Tabulation
	if err := json.Unmarshal(w.Body.Bytes(), &tab); w.Code != 200 || err != nil || tab.Sampled != 3 || tab.Submitted != 3 {
		t.Fatalf("tabulation = %d %s", w.Code, w.Body)
	}
	// October has no sample: a document without tabulation.
	if w, _ := pe.send("GET", "/api/v1/months/2026-10/tabulation", "", "jefe"); w.Code != 404 {
		t.Errorf("tabulation without sample = %d", w.Code)
	}
	if w, _ := pe.send("GET", "/api/v1/months/2026-10/report", "", "jefe"); w.Code != 200 {
		t.Errorf("report without sample = %d", w.Code)
	}
	if w, _ := pe.send("GET", "/api/v1/months/2026-00/report", "", "jefe"); w.Code != 400 {
		t.Errorf("report of a bad month = %d", w.Code)
	}
	if w, _ := pe.send("GET", "/api/v1/months/2026-11/tabulation", "", "recep202"); w.Code != 403 {
		t.Errorf("tabulation as a receptionist = %d", w.Code)
	}
	pe.docs.err = errFakeDown
	if w, _ := pe.send("GET", "/api/v1/months/2026-11/report", "", "jefe"); w.Code != 500 {
		t.Errorf("report with the documents down = %d", w.Code)
	}
}

// TestAPIReportExport: each format as an attachment, audited before it is
// sent with the format and the table; bad formats and tables; who may.
func TestAPIReportExport(t *testing.T) {
	pe := newProcEnv(t)
	pe.submitAll(t)
	const base = "/api/v1/months/2026-11/report/export"
	cases := []struct {
		query, who string
		code       int
		ctype      string
		file, body string
		detail     string
	}{
		{"?format=xlsx", "jefe", 200, "spreadsheetml", "informe_2026-11.xlsx", "xlsx  2026-11 evaluaciones=3", "format=xlsx"},
		{"?format=pdf", "admin", 200, "application/pdf", "informe_2026-11.pdf", "pdf  2026-11", "format=pdf"},
		{"?format=csv", "tecnico", 200, "text/csv", "informe_2026-11_resumen.csv", "csv resumen 2026-11", "format=csv table=resumen"},
		{"?format=csv&table=tabulacion", "socket", 200, "text/csv", "informe_2026-11_tabulacion.csv", "csv tabulacion", "format=csv table=tabulacion"},
		{"?format=csv&table=secretos", "jefe", 400, "", "", "", ""},
		{"?format=pdf&table=muestra", "jefe", 400, "", "", "", ""},
		{"?format=docx", "jefe", 400, "", "", "", ""},
		{"", "jefe", 400, "", "", "", ""},
		{"?format=pdf", "recep201", 403, "", "", "", ""},
		{"?format=pdf", "", 401, "", "", "", ""},
	}
	for _, c := range cases {
		before := pe.auth.count(ActionExportReport)
		w, atHeader := pe.send("GET", base+c.query, "", c.who)
		if w.Code != c.code {
			t.Errorf("%s as %q = %d %s", c.query, c.who, w.Code, w.Body)
			continue
		}
		if c.code != 200 {
			if pe.auth.count(ActionExportReport) != before {
				t.Errorf("%s: a refused export was audited", c.query)
			}
			continue
		}
		if ct := w.Header().Get("Content-Type"); !strings.Contains(ct, c.ctype) {
			t.Errorf("%s: content type %q", c.query, ct)
		}
		if cd := w.Header().Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, c.file) {
			t.Errorf("%s: disposition %q", c.query, cd)
		}
		if !strings.HasPrefix(w.Body.String(), c.body) {
			t.Errorf("%s: body %q", c.query, w.Body)
		}
		last := atHeader[len(atHeader)-1]
		if last.Action != ActionExportReport || last.Target != "informe 2026-11" || last.Detail != c.detail {
			t.Errorf("%s: audit before the answer %+v", c.query, last)
		}
	}
	// An export that fails is a clean 500, not audited, no attachment.
	pe.exports.err = errFakeDown
	before := pe.auth.count(ActionExportReport)
	w, _ := pe.send("GET", base+"?format=pdf", "", "jefe")
	if w.Code != 500 || w.Header().Get("Content-Disposition") != "" || pe.auth.count(ActionExportReport) != before {
		t.Errorf("failing export = %d %q", w.Code, w.Header().Get("Content-Disposition"))
	}
	pe.exports.err = nil
	pe.auth.setAuditErr(errFakeDown)
	w, _ = pe.send("GET", base+"?format=xlsx", "", "jefe")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Content-Disposition") != "" || strings.Contains(w.Body.String(), "xlsx") {
		t.Errorf("export with the audit down = %d %s", w.Code, w.Body)
	}
}

// BenchmarkAPIReport is GET /report of a month with 400 submitted
// evaluations (the whole document encoded).
func BenchmarkAPIReport(b *testing.B) {
	pe := newProcEnv(b)
	pe.docs.extra = 400
	tok := pe.auth.newSession("jefe")
	w0, _ := pe.send("GET", "/api/v1/months/2026-11/report", "", "jefe")
	if w0.Code != http.StatusOK {
		b.Fatalf("report = %d", w0.Code)
	}
	b.SetBytes(int64(w0.Body.Len()))
	b.ReportAllocs()
	for b.Loop() {
		r := pe.request("GET", "/api/v1/months/2026-11/report", nil)
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: tok})
		w := &discardWriter{h: make(http.Header)}
		pe.handler.ServeHTTP(w, r)
		if w.code != http.StatusOK {
			b.Fatalf("report = %d", w.code)
		}
	}
}
