package web

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleEvalBrowser: the evaluation form in headless Chromium under
// the console's CSP: from the Evaluación index the técnico opens a call,
// answers a point and types an observation, and eval.js saves the draft
// through the API by itself ("Guardado hh:mm:ss"); "Marcar momento"
// takes the player's position; after a reload the answers are there.
// Then the evaluation is submitted from the same form (the confirmation
// accepted) and shows read only; the Informe page loads. Screenshots go
// to $SWITCHTAP_ARTIFACTS when set.
func TestConsoleEvalBrowser(t *testing.T) {
	browser := consoleBrowser(t)
	e := newCPEnv(t)
	writeTestRecording(t, e.testEnv, "c1", tone(8000*4, 440, 12000), tone(8000*4, 1000, 3000))
	srv := httptest.NewServer(e.handler)
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	ctx := browser
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	step(t, ctx, "login",
		chromedp.Navigate(srv.URL+"/evaluacion?m="+procMonth),
		chromedp.WaitVisible(css(`form#login`)),
		chromedp.SendKeys(css(`input[name=name]`), "tecnico"),
		chromedp.SendKeys(css(`input[name=password]`), testPassword),
	)
	step(t, ctx, "index", chromedp.Click(css(`button[type=submit]`)),
		chromedp.WaitVisible(css(`#eval-items tr[data-id="c1"][data-status="pending"] button.open`)))
	screenshot(t, ctx, "evaluacion-indice")
	step(t, ctx, "open", chromedp.Click(css(`#eval-items tr[data-id="c1"] button.open`)),
		chromedp.WaitVisible(css(`form#eval-form`)),
		chromedp.WaitVisible(css(`canvas#waveform[data-drawn="true"]`)))
	if st := eval[string](t, ctx, `document.getElementById("save-state").getAttribute("data-state")`); st != "idle" {
		t.Fatalf("save state before typing %q, want idle (eval.js not running?)", st)
	}
	if hidden := eval[bool](t, ctx, `document.querySelector('button.mark[data-for="at-tono"]').hidden`); hidden {
		t.Fatal("the mark button stays hidden with a player")
	}

	// A verdict and an observation: saved by themselves.
	step(t, ctx, "answer",
		chromedp.Click(css(`input[name="verdict-saludo"][value="cumple"]`)),
		chromedp.Click(css(`#obs-saludo`)),
		chromedp.SendKeys(css(`#obs-saludo`), "Saludó con el nombre de la unidad"),
	)
	waitSaved(t, ctx)

	// "Marcar momento" takes the player's position (2 s of 4).
	pos := eval[float64](t, ctx, `new Promise(function (ok) {
		var a = document.getElementById("player");
		function go() { a.currentTime = 2; a.addEventListener("seeked", function () { ok(a.currentTime); }, {once: true}); }
		if (a.readyState >= 1) { go(); } else { a.addEventListener("loadedmetadata", go, {once: true}); a.load(); }
	})`)
	if pos < 1.9 || pos > 2.1 {
		t.Fatalf("player at %.2f s", pos)
	}
	step(t, ctx, "mark",
		chromedp.Click(css(`input[name="verdict-tono"][value="no_cumple"]`)),
		chromedp.Click(css(`button.mark[data-for="at-tono"]`)),
	)
	if v := eval[string](t, ctx, `document.getElementById("at-tono").value`); v != "2,0" {
		t.Fatalf("moment %q, want 2,0", v)
	}
	waitSaved(t, ctx)
	screenshot(t, ctx, "evaluacion-borrador")

	// Reload: the answers come back from the server.
	step(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(css(`form#eval-form`)))
	if !eval[bool](t, ctx, `document.querySelector('input[name="verdict-saludo"][value="cumple"]').checked`) {
		t.Error("saludo's verdict lost on reload")
	}
	if v := eval[string](t, ctx, `document.getElementById("obs-saludo").value`); v != "Saludó con el nombre de la unidad" {
		t.Errorf("observation after reload %q", v)
	}
	if v := eval[string](t, ctx, `document.getElementById("at-tono").value`); v != "2,0" {
		t.Errorf("moment after reload %q", v)
	}

	// The rest, and the submission with the confirmation accepted.
	eval[bool](t, ctx, `(function () {
		window.confirm = function () { return true; };
		document.querySelectorAll('fieldset.point').forEach(function (fs) {
			if (!fs.querySelector('input[type=radio]:checked')) {
				var r = fs.querySelector('input[type=radio][value="cumple"]');
				if (r) { r.checked = true; }
			}
		});
		return true;
	})()`)
	step(t, ctx, "submit", chromedp.Click(css(`#eval-submit`)),
		chromedp.WaitVisible(css(`#eval-result`)))
	if st := eval[string](t, ctx, `document.getElementById("evaluation").getAttribute("data-status")`); st != "submitted" {
		t.Fatalf("after submitting: %q", st)
	}
	if v := eval[string](t, ctx, `document.querySelector('#eval-result tr[data-point="tono"]').getAttribute("data-verdict")`); v != "no_cumple" {
		t.Errorf("tono %q", v)
	}
	// The answer's moment seeks the player.
	at := eval[float64](t, ctx, `new Promise(function (ok) {
		var a = document.getElementById("player");
		a.currentTime = 0;
		a.addEventListener("seeked", function () { ok(a.currentTime); }, {once: true});
		document.querySelector('#eval-result tr[data-point="tono"] button[data-seek]').click();
	})`)
	if at < 1.9 || at > 2.1 {
		t.Errorf("seek to the answer's moment went to %.2f s", at)
	}
	screenshot(t, ctx, "evaluacion-enviada")
	step(t, ctx, "informe", chromedp.Navigate(srv.URL+"/informe?m="+procMonth), chromedp.WaitVisible(css(`section#report`)))
	screenshot(t, ctx, "informe")
}

// waitSaved waits for eval.js to report the draft saved.
// It must stay saved past the debounce: a save answered while keys were
// still arriving shows "Guardado" for an instant before the next one.
func waitSaved(t *testing.T, ctx context.Context) {
	t.Helper()
	step(t, ctx, "saved", chromedp.WaitVisible(chromedp.CSS(`#save-state[data-state="saved"]`)))
	time.Sleep(1200 * time.Millisecond)
	step(t, ctx, "still saved", chromedp.WaitVisible(chromedp.CSS(`#save-state[data-state="saved"]`)))
	if txt := eval[string](t, ctx, `document.getElementById("save-state").textContent`); !strings.HasPrefix(txt, "Guardado ") || len(txt) != len("Guardado 00:00:00") {
		t.Fatalf("save state %q", txt)
	}
}
