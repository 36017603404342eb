package e2e_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/switchtap/switchtap/internal/testenv"
)

// stepBudget bounds one browser step (a navigation, a form, a wait).
const stepBudget = 20 * time.Second

// chromiumPath finds Debian's chromium: /usr/bin/chromium, else chromium or
// chromium-browser on PATH. The test skips (fails in CI) without one.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat("/usr/bin/chromium"); err == nil && !fi.IsDir() {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.SkipOrFail(t, "chromium is not installed (Debian package chromium)")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile and returns a
// context whose first tab is open. Everything the test does in it is
// bounded by steps derived from it; the browser ends with the test.
func newBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		// The recording must play without a click.
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(t.TempDir()),
		// The console promises to work at 1280×800.
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v", exe, err)
	}
	return ctx
}

// tab is one browser tab (and cookie jar) on the console.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string // http://127.0.0.1:PORT

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// openTab opens a tab in a browser context of its own (its own cookies),
// and records what its pages write to the console.
func openTab(t *testing.T, browser context.Context, base string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	tb := &tab{t: t, ctx: ctx, base: base}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.console = append(tb.console, m)
			tb.mu.Unlock()
		}
	}()
	return tb
}

// step returns a context bounded by stepBudget.
func (tb *tab) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(tb.ctx, stepBudget)
}

// open navigates to path and returns the document's HTTP status after
// redirects and the path it ended on.
func (tb *tab) open(path string) (int, string) {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(tb.base+path))
	if err != nil {
		tb.t.Fatalf("open %s: %v", path, err)
	}
	return tb.landed(resp)
}

// submit fills the form's fields (name → value), submits it with its
// submit button and returns where the browser landed, as open does.
func (tb *tab) submit(form string, fields map[string]string) (int, string) {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	var steps []chromedp.Action[chromedp.Void]
	for name, v := range fields {
		sel := chromedp.CSS(form + ` input[name="` + name + `"]`)
		steps = append(steps, chromedp.WaitVisible(sel), chromedp.SetValue(sel, v))
	}
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatalf("fill %s: %v", form, err)
	}
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)))
	if err != nil {
		tb.t.Fatalf("submit %s: %v", form, err)
	}
	return tb.landed(resp)
}

func (tb *tab) landed(resp *network.Response) (int, string) {
	tb.t.Helper()
	if resp == nil {
		tb.t.Fatalf("%v: no response for the document", errBrowser)
	}
	u, err := url.Parse(resp.URL)
	if err != nil {
		tb.t.Fatalf("%v: response url %q: %v", errBrowser, resp.URL, err)
	}
	p := u.Path
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return int(resp.Status), p
}

// eval evaluates expr (a promise is awaited) and decodes its value.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", clip(expr), err)
	}
	return v
}

// waitFor waits until the element sel is in the page.
func (tb *tab) waitFor(sel string, budget time.Duration) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, budget)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(sel))); err != nil {
		tb.t.Fatalf("wait for %s: %v", sel, err)
	}
}

// count returns how many elements match sel.
func (tb *tab) count(sel string) int {
	tb.t.Helper()
	return eval[int](tb, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

// fetchJSON fetches an API path with the tab's cookie and returns the HTTP
// status and the body decoded.
func fetchJSON[T any](tb *tab, path string) (int, T) {
	tb.t.Helper()
	type answer struct {
		Status int `json:"status"`
		Body   T   `json:"body"`
	}
	a := eval[answer](tb, fmt.Sprintf(`fetch(%q, {credentials: "same-origin", headers: {Accept: "application/json"}})
		.then(async r => ({status: r.status, body: r.ok ? await r.json() : null}))`, path))
	return a.Status, a.Body
}

// shoot saves a PNG of the whole page under dir and logs its path.
func (tb *tab) shoot(dir, name string) string {
	tb.t.Helper()
	ctx, cancel := tb.step()
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o600); err != nil {
		tb.t.Fatalf("save screenshot: %v", err)
	}
	tb.t.Logf("screenshot: %s", path)
	return path
}

// checkConsole fails the test for an uncaught exception or a Content
// Security Policy violation in any page of the tab (the console promises a
// strict CSP with no inline code), and logs the other messages.
func (tb *tab) checkConsole() {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	seen := map[string]int{}
	var order []string
	for _, m := range tb.console {
		text := m.String()
		switch {
		case m.IsException():
			tb.t.Errorf("page exception at %s:%d: %s", m.URL, m.Line+1, text)
		case strings.Contains(text, "Content Security Policy"):
			tb.t.Errorf("CSP violation at %s:%d: %s", m.URL, m.Line+1, text)
		default:
			line := fmt.Sprintf("console.%s %s: %s", m.Type, m.URL, text)
			if seen[line] == 0 {
				order = append(order, line)
			}
			seen[line]++
		}
	}
	for _, line := range order {
		tb.t.Logf("%s (×%d)", line, seen[line])
	}
}

// artifactsDir is where screenshots go: $SWITCHTAP_ARTIFACTS when set
// (CI collects it), else a new folder under test/e2e/artifacts/, which git
// ignores and which is kept after the test so the pictures can be seen.
func artifactsDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("SWITCHTAP_ARTIFACTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil { //nolint:gosec // G301: artifacts are for people to read
			t.Fatal(err)
		}
		return dir
	}
	if err := os.MkdirAll("artifacts", 0o755); err != nil { //nolint:gosec // G301: as above
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("artifacts", strings.ReplaceAll(t.Name(), "/", "_")+"-")
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
