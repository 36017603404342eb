package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchtap/switchtap/internal/testenv"
	"github.com/switchtap/switchtap/sip"
)

// The console's scripts in a real browser (headless Chromium), over the
// fakes: live.js follows the hub (a call appears, its rings grow, it goes
// away when answered and the counters follow), detail.js draws the
// waveform from the peaks, places the markers and seeks on a click. The
// daemon-wide browser test (test/e2e) does the same over a real capture;
// this one pins the scripts' own contract. Screenshots go to
// $SWITCHTAP_ARTIFACTS when set.

// consoleBrowser starts Chromium, or skips (fails under
// SWITCHTAP_REQUIRE_ALL) when it is not installed.
func consoleBrowser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test in -short")
	}
	exe, err := exec.LookPath("/usr/bin/chromium")
	if err != nil {
		exe, err = exec.LookPath("chromium")
	}
	if err != nil {
		testenv.SkipOrFail(t, "chromium is not installed (Debian package chromium)")
		return nil
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		// As test/e2e: this machine's network is closed, and Chromium's own
		// background connections (updates, sync, QUIC probes) otherwise
		// pile up refused; timers are not throttled in a loaded CI run.
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true), chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800))
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// browserStep bounds one browser step: generous, as the CI machine runs
// the lab and the central tests beside it on two cores.
const browserStep = 45 * time.Second

// step runs actions with a bound.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, browserStep)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a script expression (awaiting a promise) in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, browserStep)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// screenshot saves the page when SWITCHTAP_ARTIFACTS names a directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("SWITCHTAP_ARTIFACTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "console-"+name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleBrowser logs in through the form and checks both scripts.
func TestConsoleBrowser(t *testing.T) {
	browser := consoleBrowser(t)
	e := newTestEnv(t)
	srv := httptest.NewServer(e.handler)
	// The page's event stream stays open while the browser lives: close
	// the connections first, or Close would wait for it.
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })

	call, d := ladderFixture()
	e.calls.add(call, d.Messages...)
	e.calls.add(d.Linked[0].Call, d.Linked[0].Messages...)
	writeTestRecording(t, e, call.ID, tone(8000*4, 440, 12000), tone(8000*4, 1000, 3000))
	c, _ := e.calls.Call(t.Context(), call.ID)
	c.Recording.DurationSeconds = 4
	// The caller speaks 0.5-1.5 s, the receptionist greets at 2 s.
	c.Speech = &sip.Speech{GreetingLatencySeconds: new(2.0), AnalysedSeconds: 4, Segments: []sip.SpeechSegment{
		{Side: "caller", StartSeconds: 0.5, EndSeconds: 1.5}, {Side: "callee", StartSeconds: 2, EndSeconds: 3},
	}}
	e.calls.add(c)

	ctx := browser // its first tab
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	step(t, ctx, "login",
		chromedp.Navigate(srv.URL+"/envivo"),
		chromedp.WaitVisible(css(`form#login`)),
		chromedp.SendKeys(css(`input[name=name]`), "tecnico"),
		chromedp.SendKeys(css(`input[name=password]`), testPassword),
	)
	step(t, ctx, "submit", chromedp.Click(css(`button[type=submit]`)),
		chromedp.WaitVisible(css(`#live-status[data-connected="true"]`)))
	if user := eval[string](t, ctx, `document.getElementById("user").textContent`); user != "tecnico" {
		t.Fatalf("#user %q", user)
	}

	// A call rings; its count grows with the capture clock.
	now := e.clock.Now().UTC()
	live := e.testCall("live1", 0)
	live.From = "77778888"
	live.RingingAt, live.AnsweredAt, live.EndedAt, live.EndReason = nil, nil, nil, ""
	e.hub.Event(sip.Event{Kind: sip.EventOffered, At: now, Call: &live})
	r := now.Add(100 * time.Millisecond)
	live.RingingAt = &r
	e.hub.Event(sip.Event{Kind: sip.EventRinging, At: r, Call: &live})
	rings := `table#ringing tbody tr[data-id="live1"] td.rings`
	step(t, ctx, "row", chromedp.WaitVisible(css(rings)))
	for n := 2; n <= 5; n++ {
		e.hub.Advance(r.Add(time.Duration(n-1) * sip.DefaultRingPolicy().Cycle()))
		waitText(t, ctx, rings, fmt.Sprint(n))
	}
	if from := eval[string](t, ctx, `document.querySelector('tr[data-id="live1"] td.from').textContent`); from != "77778888" {
		t.Fatalf("td.from %q", from)
	}
	if !eval[bool](t, ctx, `document.querySelector('tr[data-id="live1"]').classList.contains("over")`) {
		t.Fatal("ring 5 is not marked over the limit")
	}
	e.hub.SetLamp("fault", "alarm")
	step(t, ctx, "lamp", chromedp.WaitVisible(css(`#lamp[data-state="fault"]`)), chromedp.WaitVisible(css(`#alarm[data-state="alarm"]`)))
	screenshot(t, ctx, "envivo")

	// Answered and ended: the row goes, the counters and the recent list follow.
	a := r.Add(26 * time.Second)
	end := a.Add(10 * time.Second)
	live.AnsweredAt, live.EndedAt, live.EndReason, live.Rings = &a, &end, sip.EndCompleted, 5
	e.calls.add(live)
	e.hub.Event(sip.Event{Kind: sip.EventAnswered, At: a, Call: &live})
	step(t, ctx, "row removed", chromedp.WaitNotPresent(css(`tr[data-id="live1"]`)))
	e.hub.Event(sip.Event{Kind: sip.EventEnded, At: end, Call: &live})
	waitText(t, ctx, `#count-offered`, "2")
	step(t, ctx, "recent", chromedp.WaitVisible(css(`table#recent tbody tr[data-id="live1"] a[href="/llamadas/live1"]`)))

	// The detail page: waveform, markers, seek, ladder.
	step(t, ctx, "detail",
		chromedp.Navigate(srv.URL+"/llamadas/"+call.ID),
		chromedp.WaitVisible(css(`canvas#waveform[data-drawn="true"]`)),
	)
	if msg := eval[string](t, ctx, `document.getElementById("waveform").getAttribute("data-error") || ""`); msg != "" {
		t.Fatalf("waveform error %q", msg)
	}
	if left := eval[string](t, ctx, `document.querySelector('#waveform-markers [data-marker="answer"]').style.left`); left != "0%" {
		t.Fatalf("answer marker at %q", left)
	}
	if left := eval[string](t, ctx, `document.querySelector('#waveform-markers [data-marker="greeting"]').style.left`); left != "50%" {
		t.Fatalf("greeting marker at %q", left)
	}
	// The segments lie over the canvas at their seconds, in their band,
	// and let the clicks through to it.
	seg := eval[string](t, ctx, `(function () {
		document.getElementById("waveform").scrollIntoView({ block: "center" });
		var c = document.getElementById("waveform").getBoundingClientRect();
		return Array.prototype.map.call(document.querySelectorAll("svg#speech-segments rect"), function (el) {
			var r = el.getBoundingClientRect();
			var hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
			return [((r.left - c.left) / c.width).toFixed(3), (r.width / c.width).toFixed(3), ((r.top - c.top) / c.height).toFixed(2), (r.height / c.height).toFixed(2), hit && hit.id].join(" ");
		}).join("|");
	})()`)
	if seg != "0.125 0.250 0.00 0.50 waveform|0.500 0.250 0.50 0.50 waveform" {
		t.Fatalf("segments on the waveform: %s", seg)
	}
	pos := eval[float64](t, ctx, `new Promise(function (ok) {
		var a = document.getElementById("player");
		function go() {
			var c = document.getElementById("waveform"), r = c.getBoundingClientRect();
			c.dispatchEvent(new MouseEvent("click", {clientX: r.left + r.width / 2, clientY: r.top + 10, bubbles: true}));
			ok(a.currentTime);
		}
		if (a.readyState >= 1) { go(); } else { a.addEventListener("loadedmetadata", go); a.load(); }
	})`)
	if pos < 1.9 || pos > 2.1 {
		t.Fatalf("a click in the middle of a 4 s waveform seeks to %.2f s", pos)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("svg#ladder g.msg").length`); n != len(d.Messages)+len(d.Linked[0].Messages) {
		t.Fatalf("%d arrows, want %d", n, len(d.Messages)+len(d.Linked[0].Messages))
	}
	step(t, ctx, "ladder click",
		chromedp.Click(css(`svg#ladder g.msg[data-index="3"]`)),
		chromedp.WaitVisible(css(`details#raw-3[open] pre`)))
	screenshot(t, ctx, "detalle")

	// The other pages, for the artifacts (and a check that they load).
	for _, page := range []string{"llamadas", "estado", "cuenta"} {
		step(t, ctx, page, chromedp.Navigate(srv.URL+"/"+page), chromedp.WaitVisible(css(`#user`)))
		screenshot(t, ctx, page)
	}
}

// waitText polls until sel's text is want.
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	got := ""
	for time.Now().Before(deadline) {
		got = eval[string](t, ctx, `(function(){var e=document.querySelector(`+"`"+sel+"`"+`);return e?e.textContent:"<none>";})()`)
		if got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s is %q, want %q", sel, got, want)
}
