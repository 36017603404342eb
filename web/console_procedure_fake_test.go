package web

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/report"
	"github.com/switchtap/switchtap/sip"
)

// Test doubles of the console's procedure pages, over H4a's fakes of the
// services (fake_procedure_test.go): a Sampler with the November sample
// those fakes know (c1, c2 of 201; c3 of 202), the three calls with a
// recording, and a document decorator that adds a fixed tabulation.
//
// The DOM contract these pages keep for test/e2e (stable ids and data-*):
//
//	/evaluacion?m=        #eval-index[data-month], table#eval-items tr[data-id][data-status]
//	                      (pending|draft|submitted|acknowledged|disputed|resolved), button.open
//	/evaluacion?m=&id=    section#evaluation[data-month][data-id][data-status][data-revision][data-form],
//	                      #eval-rings, #eval-transfer, audio#player, canvas#waveform (detail.js),
//	                      form#eval-form[data-draft-url] > fieldset.point[data-point] with
//	                      input[name=verdict-<point>], textarea[name=obs-<point>], input[name=at-<point>],
//	                      button.mark[data-for]; #measured-inmediatez[data-verdict];
//	                      #save-state[data-state] (idle|dirty|saving|saved|error);
//	                      #eval-save, #eval-submit, #eval-open; #eval-result table.eval-answers
//	                      tr[data-point][data-verdict]; table.revisions tr[data-revision];
//	                      .ack[data-ack]; form#revise-form, #reason, #revise-submit;
//	                      form#resolve-form, #resolution, #resolve-change, #resolve-submit;
//	                      #eval-prev, #eval-next, #eval-back
//	/informe?m=           section#report[data-month][data-state], #due-banner[data-due], #exports a[data-format][data-table],
//	                      #tabulation tr[data-point] td.pct td.wilson, #tabulation-by-operator tbody[data-operator],
//	                      #inmediatez-all, #observations-table, form#conclusions-form #conclusions-text,
//	                      #conclusions-save, #report-submit, form#return-form #observations #report-return,
//	                      form#approve-form #report-approve, form#action-form (#a-to, #a-instruction, #a-kind,
//	                      #a-point, #a-operator, #a-due, #action-add), table#report-actions tr[data-action],
//	                      table#follow-ups-table tr[data-action][data-improved] form.assess-form,
//	                      table#rounds tr[data-round][data-result]
//	/acciones             table#actions tr[data-action][data-status], form.assess-form
//	/calendario           table#calendar tr[data-month][data-due][data-state] (open|due|overdue|delivered|late)
//	/mias                 #evaluaciones article.my-eval[data-id][data-status] form.ack-form button.ack,
//	                      form.dispute-form textarea[name=comment] button.dispute;
//	                      #acciones table#my-actions tr[data-action] button.ack-action
//
// Buttons with data-confirm ask before they submit (eval.js).

// cpSampler is a Sampler with fixed samples; it draws nothing.
type cpSampler struct{ samples map[string]report.Sample }

var errCPNoDraw = errors.New("cp sampler: draws are not part of this fake")

func (s *cpSampler) Draw(context.Context, report.DrawRequest) (report.Sample, error) {
	return report.Sample{}, errCPNoDraw
}

func (s *cpSampler) Get(_ context.Context, month string) (report.Sample, error) {
	smp, ok := s.samples[month]
	if !ok {
		return report.Sample{}, fmt.Errorf("cp sample %s: %w", month, report.ErrNoSample)
	}
	return smp, nil
}

func (s *cpSampler) Verify(context.Context, string) (report.Verification, error) {
	return report.Verification{Match: true}, nil
}

func (s *cpSampler) Replace(context.Context, report.ReplaceRequest) (report.Sample, report.Replacement, error) {
	return report.Sample{}, report.Replacement{}, errCPNoDraw
}

// cpDocs decorates fakeDocs: tab, when set, is the document's tabulation
// (its counts kept from the fake), figures the document's figures, voice
// its voice part.
type cpDocs struct {
	inner   *fakeDocs
	tab     *report.Tabulation
	figures *report.MonthFigures
	voice   *report.VoicePart
}

func (d *cpDocs) Document(ctx context.Context, month string) (*report.Document, error) {
	doc, err := d.inner.Document(ctx, month)
	if err != nil || doc == nil {
		return doc, err
	}
	if d.tab != nil {
		t := *d.tab
		if doc.Tabulation != nil {
			t.Sampled, t.Submitted, t.Drafts, t.Pending = doc.Tabulation.Sampled, doc.Tabulation.Submitted, doc.Tabulation.Drafts, doc.Tabulation.Pending
		}
		t.Month = month
		doc.Tabulation = &t
	}
	if d.figures != nil {
		doc.Figures = d.figures
	}
	if d.voice != nil {
		doc.Voice = d.voice
	}
	return doc, nil
}

// cpEnv is a procEnv with the sample and the calls of the console tests.
type cpEnv struct {
	*procEnv
	docs *cpDocs
}

// cpCallIDs are the November sample's calls, in the sample's order.
var cpCallIDs = []string{"c1", "c2", "c3"}

func newCPEnv(t testing.TB) *cpEnv {
	t.Helper()
	pe := newProcEnv(t)
	items := []report.Item{{Rank: 1, Operator: "201", ID: "c1"}, {Rank: 2, Operator: "201", ID: "c2"}, {Rank: 1, Operator: "202", ID: "c3"}}
	pe.srv.cfg.Sample = &cpSampler{samples: map[string]report.Sample{procMonth: {Month: procMonth, N: 3, Items: items}}}
	for i, id := range cpCallIDs {
		c := pe.testCall(id, -time.Duration(48+i)*time.Hour)
		c.Operator = items[i].Operator
		c.Recording = &sip.Recording{File: "2026/11/x/" + id + ".wav", DurationSeconds: 60}
		if id == "c2" {
			req := c.AnsweredAt.Add(10 * time.Second)
			c.Transfer = &sip.Transfer{Kind: "blind", RequestedAt: req, Target: "300", Result: "completed"}
		}
		pe.calls.add(c)
	}
	ce := &cpEnv{procEnv: pe, docs: &cpDocs{inner: pe.docs}}
	pe.srv.cfg.Documents = ce.docs
	pe.handler = pe.srv.Handler()
	pe.local = pe.srv.LocalHandler()
	return ce
}

// post sends a console form as user.
func (e *cpEnv) post(user, path string, form url.Values) *httptest.ResponseRecorder {
	return e.do("POST", path, strings.NewReader(form.Encode()), e.as(user), formBody)
}

// completeForm is the evaluation form with every point answered: Cumple
// but for tono (No cumple, with an observation and a moment).
func completeForm(id string) url.Values {
	v := url.Values{"m": {procMonth}, "id": {id}}
	form, _ := report.FormByVersion(report.CurrentForm)
	for _, pt := range form.Points {
		if pt.Auto {
			continue
		}
		v.Set("verdict-"+pt.ID, "cumple")
	}
	v.Set("verdict-tono", "no_cumple")
	v.Set("obs-tono", "Tono brusco al final")
	v.Set("at-tono", "12,5")
	return v
}

// submitEval opens, fills and submits the evaluation of id through the
// console's forms.
func (e *cpEnv) submitEval(t testing.TB, id string) {
	t.Helper()
	if w := e.post("tecnico", "/evaluacion/abrir", url.Values{"m": {procMonth}, "id": {id}}); w.Code != 303 {
		t.Fatalf("open %s = %d %s", id, w.Code, w.Body)
	}
	if w := e.post("tecnico", "/evaluacion/enviar", completeForm(id)); w.Code != 303 {
		t.Fatalf("submit %s = %d %s", id, w.Code, w.Body)
	}
}
