package e2e_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser steps of the procedure, on top of the tab helpers of
// browser_test.go.

// procLogin opens a tab of its own (its own cookies) and logs name in. An
// account made with `user add` may have to change its password first, as
// the first admin does; then it gets password+"-nueva".
func procLogin(t *testing.T, browser context.Context, base, name, password string) *tab {
	t.Helper()
	tb := openTab(t, browser, base)
	// No page of the story may throw or break the console's CSP.
	t.Cleanup(tb.checkConsole)
	if status, path := tb.open("/login"); status != 200 || path != "/login" {
		t.Fatalf("%s: /login: %d %s", name, status, path)
	}
	_, path := tb.submit("form#login", map[string]string{"name": name, "password": password})
	if path == "/cuenta" {
		fresh := password + "-nueva"
		_, path = tb.submit(`form[action="/cuenta/clave"]`, map[string]string{"old": password, "new": fresh, "confirm": fresh})
		if errs := tb.text(".error"); errs != "" {
			t.Fatalf("%s: password change refused: %s", name, errs)
		}
	}
	if strings.HasPrefix(path, "/login") {
		t.Fatalf("%s: login refused (%s): %s", name, path, tb.text(".error"))
	}
	if user := tb.text("#user"); user != name {
		t.Errorf("%s: #user = %q after the login", name, user)
	}
	return tb
}

// text is the trimmed textContent of the first element matching sel, ""
// when there is none.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return strings.TrimSpace(eval[string](tb, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel)))
}

// formError is the text of the first error the page shows for what was
// just done, "" when none: an element of class error other than the
// Informe page's due banner, a status line (role=status) that is red when
// the month's report is overdue (from the fourth day of the next month on,
// the November of a test run in December), not a refusal.
func (tb *tab) formError() string {
	tb.t.Helper()
	return tb.text(".error:not(#due-banner)")
}

// attr is an attribute of the first element matching sel, "" when there
// is no such element or attribute.
func (tb *tab) attr(sel, name string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`((document.querySelector(%q) || {getAttribute: () => ""}).getAttribute(%q)) || ""`, sel, name))
}

// texts is the trimmed textContent of every element matching sel.
func (tb *tab) texts(sel string) []string {
	tb.t.Helper()
	return eval[[]string](tb, fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).map(e => e.textContent.trim())`, sel))
}

// attrs is an attribute of every element matching sel.
func (tb *tab) attrs(sel, name string) []string {
	tb.t.Helper()
	return eval[[]string](tb, fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).map(e => e.getAttribute(%q) || "")`, sel, name))
}

// clickTo clicks sel, which submits a form or follows a link, and returns
// where the browser landed, as open does. Confirmation dialogs
// (data-confirm, eval.js) are accepted: the person said yes.
func (tb *tab) clickTo(sel string) (int, string) {
	tb.t.Helper()
	eval[bool](tb, `(window.confirm = () => true, true)`)
	ctx, cancel := tb.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		tb.t.Fatalf("click %s: %v", sel, err)
	}
	return tb.landed(resp)
}

// click clicks sel without waiting for a navigation (a radio, a button
// handled by a script).
func (tb *tab) click(sel string) {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel))); err != nil {
		tb.t.Fatalf("click %s: %v", sel, err)
	}
}

// typeInto types text into sel with key events, as a person does, so that
// the page's input handlers run; replace empties the field first.
func (tb *tab) typeInto(sel, text string, replace bool) {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	if replace {
		// chromedp.Clear wants a text node, which an empty textarea lacks.
		eval[bool](tb, fmt.Sprintf(`(document.querySelector(%q).value = "", true)`, sel))
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text)); err != nil {
		tb.t.Fatalf("type into %s: %v", sel, err)
	}
	if got := eval[string](tb, fmt.Sprintf(`document.querySelector(%q).value`, sel)); !strings.HasSuffix(got, text) {
		tb.t.Fatalf("%s reads %q after typing %q", sel, got, text)
	}
}

// choose sets a select (or a date input) to value.
func (tb *tab) choose(sel, value string) {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), value)); err != nil {
		tb.t.Fatalf("set %s = %q: %v", sel, value, err)
	}
	if got := eval[string](tb, fmt.Sprintf(`document.querySelector(%q).value`, sel)); got != value {
		tb.t.Fatalf("%s = %q after setting %q (no such option?)", sel, got, value)
	}
}

// waitTrue waits until the expression is true in the page.
func (tb *tab) waitTrue(what, expr string, budget time.Duration) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, budget+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(budget)))
	if err != nil {
		tb.t.Fatalf("wait for %s (%s): %v", what, clip(expr), err)
	}
}

// listened is what the player did while the test listened to a call.
type listened struct {
	Duration  float64 `json:"duration"`
	Start     float64 `json:"start"`  // currentTime when play() resolved
	Before    float64 `json:"before"` // currentTime before the mark
	WallMs    float64 `json:"wallMs"` // ms of wall time from play to the mark
	Error     string  `json:"error"`
	Paused    bool    `json:"paused"`
	ReadyFrom int     `json:"readyState"`
}

// listenJS plays the recording from its start until a bit past %v
// seconds (the moment the técnico marks), and reports.
const listenJS = `(async () => {
  const a = document.getElementById("player");
  if (!a) { return {error: "no audio#player"}; }
  const until = %v;
  a.currentTime = 0;
  const t0 = performance.now();
  try { await a.play(); } catch (e) { return {error: "play(): " + e, duration: a.duration || 0}; }
  const start = a.currentTime;
  while (a.currentTime < until && !a.ended && !a.error && performance.now() - t0 < 15000) {
    await new Promise(r => setTimeout(r, 25));
  }
  return {duration: isFinite(a.duration) ? a.duration : -1, start: start, before: a.currentTime,
    wallMs: performance.now() - t0, error: a.error ? ("code " + a.error.code + ": " + a.error.message) : "",
    paused: a.paused, readyState: a.readyState};
})()`

// listenAndMark plays the call's recording in the Evaluación page until
// at seconds, presses "Marcar momento" of point while it plays, pauses,
// and returns the moment the field took (seconds). The player must have
// advanced with the wall clock: that is the listening.
func listenAndMark(t *testing.T, tb *tab, point string, at float64) float64 {
	t.Helper()
	sel := fmt.Sprintf(`button.mark[data-for="at-%s"]`, point)
	if eval[bool](tb, fmt.Sprintf(`document.querySelector(%q).hidden`, sel)) {
		t.Fatalf("%s is hidden: eval.js found no player", sel)
	}
	l := eval[listened](tb, fmt.Sprintf(listenJS, at))
	if l.Error != "" {
		t.Fatalf("audio#player: %s", l.Error)
	}
	tb.click(sel)
	after := eval[float64](tb, `(() => { const a = document.getElementById("player"); a.pause(); return a.currentTime; })()`)
	t.Logf("listened: %+v, %.3f s at the mark's end", l, after)
	if l.Paused || l.Before < at {
		t.Errorf("audio#player did not play to %.1f s: at %.3f s, paused %v", at, l.Before, l.Paused)
	}
	// Played, not jumped: the position moved with the wall clock.
	if played := l.Before - l.Start; played < 0.5*l.WallMs/1000-0.2 {
		t.Errorf("audio#player advanced %.3f s in %.0f ms of wall time", played, l.WallMs)
	}
	raw := eval[string](tb, fmt.Sprintf(`document.getElementById("at-%s").value`, point))
	v, err := strconv.ParseFloat(strings.Replace(raw, ",", ".", 1), 64)
	if err != nil || !strings.Contains(raw, ",") {
		t.Fatalf("at-%s = %q after Marcar momento, want seconds with a decimal comma", point, raw)
	}
	// The field takes the position at the click, to a tenth.
	if v < l.Before-0.05 || v > after+0.05 {
		t.Errorf("at-%s = %s, want the player's position at the click, between %.3f and %.3f", point, raw, l.Before, after)
	}
	return v
}

// shootStep saves a screenshot of the step as procedure-NN-name.png.
func shootStep(tb *tab, art string, n *int, name string) {
	tb.t.Helper()
	*n++
	tb.shoot(art, fmt.Sprintf("procedure-%02d-%s.png", *n, name))
}

// esNumber reads a figure as the console writes it ("33,33 %", "100,00",
// "—" for none): nil for none.
func esNumber(s string) (*float64, error) {
	s = strings.NewReplacer("\u00a0", "", "%", "", " ", "").Replace(s)
	if s == "" || s == "—" {
		return nil, nil
	}
	s = strings.ReplaceAll(s, ".", "")
	v, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil {
		return nil, fmt.Errorf("%w: figure %q", errBrowser, s)
	}
	return &v, nil
}

// esFixed writes v as the console and the PDF do with prec decimals: a
// decimal comma, no thousands (the test's figures stay under 1000).
func esFixed(v float64, prec int) string {
	return strings.Replace(strconv.FormatFloat(v, 'f', prec, 64), ".", ",", 1)
}
