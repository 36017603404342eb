package web

import (
	"io"
	"io/fs"
	"net/http"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/testenv"
	"github.com/switchtap/switchtap/sip"
)

// TestFormatNumbers: decimal comma, grouping from five digits (RAE).
func TestFormatNumbers(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{formatInt(0), "0"},
		{formatInt(1234), "1234"},
		{formatInt(12345), "12\u00a0345"},
		{formatInt(1234567), "1\u00a0234\u00a0567"},
		{formatInt(-98765), "-98\u00a0765"},
		{formatDecimal(12.44, 1), "12,4"},
		{formatDecimal(-0.05, 2), "-0,05"},
		{formatDecimal(12345.5, 1), "12\u00a0345,5"},
		{formatSeconds(7), "7,0\u00a0s"},
		{formatOffset(12400*time.Millisecond, 1), "+12,4\u00a0s"},
		{formatOffset(-120*time.Millisecond, 3), "-0,120\u00a0s"},
		{formatBytes(512), "512\u00a0B"},
		{formatBytes(1536), "1,5\u00a0KiB"},
		{formatBytes(20 << 30), "20,0\u00a0GiB"},
		{agoText(90 * time.Second), "1\u00a0min"},
		{agoText(3*time.Hour + 5*time.Minute), "3\u00a0h 5\u00a0min"},
		{retentionText(0, 0), "sin límite configurado"},
		{retentionText(1, 0), "hasta 1 día"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

// TestFormatDates: dd/mm/aaaa HH:MM:SS in the configured zone; nil and
// zero times are a dash.
func TestFormatDates(t *testing.T) {
	f := formatter{loc: time.FixedZone("CST", -6*3600)}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var nilTime *time.Time
	tests := []struct {
		got, want string
	}{
		{f.dateTime(at), "01/01/2026 21:04:05"},
		{f.dateTime(&at), "01/01/2026 21:04:05"},
		{f.dateTime(nilTime), "—"},
		{f.dateTime(time.Time{}), "—"},
		{f.date(at), "01/01/2026"},
		{f.clock(at), "21:04"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

// TestLabels: every enumeration value of the record has a Spanish label,
// and an unknown one is shown as it is.
func TestLabels(t *testing.T) {
	for _, d := range []sip.Direction{sip.DirectionInbound, sip.DirectionOutbound, sip.DirectionInternal, sip.DirectionUnknown} {
		if directionLabel(d) == string(d) {
			t.Errorf("direction %s has no label", d)
		}
	}
	for _, r := range []sip.EndReason{sip.EndCompleted, sip.EndAbandoned, sip.EndBusy, sip.EndRejected, sip.EndRedirected, sip.EndFailed, sip.EndUnknown} {
		if endReasonLabel(r) == string(r) {
			t.Errorf("end reason %s has no label", r)
		}
	}
	if directionLabel("sideways") != "sideways" || endReasonLabel("eaten") != "eaten" || actionLabel("x_y") != "x_y" {
		t.Error("an unknown value is not shown as it is")
	}
}

// TestConsoleStatic: every embedded asset is served, with its type, and
// no directory is listed. The scripts parse (node --check; without node
// the test skips, or fails where skipping is not allowed: CI).
func TestConsoleStatic(t *testing.T) {
	e := newTestEnv(t)
	types := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
	ents, err := fs.ReadDir(staticFiles, "static")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ent := range ents {
		names = append(names, ent.Name())
	}
	for _, want := range []string{"console.css", "live.js", "detail.js", "eval.js"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s among the embedded assets %v", want, names)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			w := e.do("GET", "/static/"+name, nil) // open without a login
			if w.Code != http.StatusOK || w.Body.Len() == 0 {
				t.Fatalf("status %d, %d bytes", w.Code, w.Body.Len())
			}
			if ct := w.Header().Get("Content-Type"); ct != types[path.Ext(name)] {
				t.Fatalf("content type %q", ct)
			}
			if w.Header().Get("Content-Security-Policy") == "" {
				t.Fatal("no CSP on an asset")
			}
			if path.Ext(name) != ".js" {
				return
			}
			if !strings.Contains(w.Body.String(), `"use strict";`) {
				t.Fatal("script not strict")
			}
			node, err := exec.LookPath("node")
			if err != nil {
				testenv.SkipOrFail(t, "node is not installed (Debian: nodejs): the script's syntax is unchecked")
			}
			cmd := exec.Command(node, "--check", "-")
			cmd.Stdin = strings.NewReader(w.Body.String())
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("node --check: %v\n%s", err, out)
			}
		})
	}
}

// TestConsoleTemplatesParse: every page template parses with the layout
// (a broken template would leave the console answering 500).
func TestConsoleTemplatesParse(t *testing.T) {
	e := newTestEnv(t)
	c, err := newConsole(e.srv)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range pageNames() {
		if c.pages[name] == nil || c.pages[name].Lookup("content") == nil {
			t.Errorf("page %s has no content", name)
		}
	}
	var sink strings.Builder
	if err := c.pages["error"].ExecuteTemplate(io.Writer(&sink), "layout", c.newPage(nil, "x", "", errorBodyPage{Message: "m"})); err != nil {
		t.Fatal(err)
	}
}
