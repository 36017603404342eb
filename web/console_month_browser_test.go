package web

import (
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleMonthBrowser opens the Mes page in headless Chromium under
// the console's CSP: the three server-drawn charts are laid out at a
// usable size, their bars drawn (presentation attributes, not the style
// attributes the CSP would block), and the figures shown.
func TestConsoleMonthBrowser(t *testing.T) {
	browser := consoleBrowser(t)
	e := newFiguresEnv(t)
	srv := httptest.NewServer(e.handler)
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	ctx := browser
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	step(t, ctx, "login",
		chromedp.Navigate(srv.URL+"/mes"),
		chromedp.WaitVisible(css(`form#login`)),
		chromedp.SendKeys(css(`input[name=name]`), "jefe"),
		chromedp.SendKeys(css(`input[name=password]`), testPassword),
	)
	step(t, ctx, "submit", chromedp.Click(css(`button[type=submit]`)),
		chromedp.WaitVisible(css(`#figures[data-month="2026-12"]`)))
	if sl := eval[string](t, ctx, `document.getElementById("service-level").textContent`); sl != "50,00\u00a0%" {
		t.Errorf("#service-level %q, want 50,00 %%", sl)
	}
	for _, id := range []string{"chart-service-level", "chart-rings", "chart-hours"} {
		w := eval[float64](t, ctx, `document.querySelector("#`+id+` svg").getBoundingClientRect().width`)
		if w < 400 {
			t.Errorf("#%s is %.0f px wide", id, w)
		}
		// The bars' fill comes from the fill attribute: computed, not
		// blocked.
		fill := eval[string](t, ctx, `getComputedStyle(document.querySelector("#`+id+` svg rect[height]")).fill`)
		if fill == "" || fill == "none" {
			t.Errorf("#%s bars have fill %q", id, fill)
		}
	}
	if n := eval[float64](t, ctx, `document.querySelectorAll("#by-day tbody tr").length`); n != 31 {
		t.Errorf("%v day rows, want 31", n)
	}
	screenshot(t, ctx, "mes")
}
