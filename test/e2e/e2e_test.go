// Package e2e_test proves the web console end to end, in a real browser:
// headless Chromium (Debian's chromium, driven by chromedp) against
// `switchtap run --pcap --realtime` on a synthetic capture written by
// internal/pcapgen. An administrator logs in with the first start's
// generated password, is made to change it, watches an inbound call appear
// on En vivo with its ring count rising to the value the stored record
// later has, opens the call's detail (ladder, timeline, waveform) and plays
// the recording, which the audit log then shows. A técnico is refused the
// users and audit pages. Screenshots of the login, En vivo while ringing
// and the detail are kept as artifacts ($SWITCHTAP_ARTIFACTS, else
// test/e2e/artifacts/, git-ignored).
//
//	go test -count=1 -v ./test/e2e/
//
// Without chromium it skips, unless SWITCHTAP_REQUIRE_ALL=1 (CI), which
// makes that a failure. It needs no root and no network beyond loopback.
package e2e_test

import (
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchtap/switchtap/internal/nettest"
	"github.com/switchtap/switchtap/internal/testenv"
)

// Budgets of the test's phases.
const (
	buildBudget = 3 * time.Minute
	readyBudget = 30 * time.Second
	// storedBudget bounds the wait for the record after the call ended
	// (linger 1 s, then the store writer).
	storedBudget = 20 * time.Second
	// durationTolerance is how far the audio element's duration may be
	// from the record's.
	durationTolerance = 0.05
	// zone is the configuration's default time zone (the console's days).
	zone = "America/El_Salvador"
	// dayMargin bounds the story from the capture's writing to En vivo's
	// counters, which are the daemon's today: a run that starts closer
	// than this to midnight in zone waits for the new day first.
	dayMargin = 5 * time.Minute
)

// Passwords the test sets (the policy wants at least 10 characters).
const (
	adminNewPassword   = "Conmutador-e2e-2026"
	tecnicoName        = "tecnica"
	tecnicoPassword    = "Tecnica-e2e-2026"
	tecnicoNewPassword = "Tecnica-e2e-2027"
)

// TestConsole is the whole story, in order; each step needs the one
// before it.
func TestConsole(t *testing.T) {
	if testing.Short() {
		t.Skip("the end-to-end browser test (about 30 s) is skipped in -short mode")
	}
	started := time.Now()
	exe := chromiumPath(t)
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := nettest.BuildSwitchtap(t, root, buildBudget)
	art := artifactsDir(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "switchtap.yaml")
	pcapPath := filepath.Join(dir, "call.pcap")
	dataDir := filepath.Join(dir, "data")
	writeFile(t, cfgPath, configYAML)
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}

	// The capture is dated now, so the call is one of today's for En
	// vivo's counters and recent calls; the day must not end before they
	// are read.
	waitForDay(t, loc, time.Now(), dayMargin, time.Sleep)
	plan, err := writeCapture(pcapPath, time.Now().UTC().Truncate(time.Microsecond))
	if err != nil {
		t.Fatal(err)
	}
	want := expectedRecord(t, bin, cfgPath, pcapPath, filepath.Join(dir, "replay-recordings"), plan)
	id, _ := want["id"].(string)
	callDay := plan.invite.In(loc).Format(time.DateOnly)

	browser := newBrowser(t, exe)
	d := startDaemon(t, filepath.Join(art, "e2e-switchtap-run.log"), bin, "run", "--pcap", pcapPath, "--realtime", "--data-dir", dataDir,
		"--web-listen", "127.0.0.1:0", "--metrics-listen", "off", "--config", cfgPath)
	ready, err := d.waitReady(readyBudget)
	if err != nil {
		t.Fatal(err)
	}
	// The pacing maps the first frame to about now: the INVITE comes
	// leadIn later.
	inviteWall := time.Now().Add(leadIn)
	base := "http://" + ready["web"]
	if !strings.HasPrefix(ready["web"], "127.0.0.1:") {
		t.Fatalf("ready line has web=%q, want 127.0.0.1:PORT", ready["web"])
	}
	t.Logf("switchtap ready: web %s, data %s", base, dataDir)
	admin := openTab(t, browser, base)
	defer admin.checkConsole()

	// A step that could not reach what the next one needs ends the test
	// (its subtest calls Fatal); a wrong detail is reported and the story
	// goes on.
	loggedIn := false
	t.Run("first login forces a new password", func(t *testing.T) {
		firstLogin(t, admin, art, adminPassword(t, dataDir))
		loggedIn = true
	})
	if !loggedIn {
		t.FailNow()
	}

	var live []liveSample
	t.Run("En vivo shows the ring count rising", func(t *testing.T) {
		live = watchLive(t, admin, art, id, inviteWall)
	})
	if len(live) == 0 {
		t.FailNow()
	}

	var rec map[string]any
	t.Run("the stored record equals replay's and the live count", func(t *testing.T) {
		rec = storedRecord(t, admin, bin, dataDir, cfgPath, want, plan.messages)
		last := live[len(live)-1].Rings
		if got := intOf(rec["rings"]); got != last {
			t.Errorf("last ring count on En vivo %d, record has rings %d", last, got)
		}
	})
	if rec == nil {
		t.FailNow()
	}

	t.Run("En vivo counts the ended call", func(t *testing.T) {
		checkSummary(t, admin, id)
		if now := time.Now().In(loc); now.Format(time.DateOnly) != callDay {
			t.Fatalf("the story took longer than dayMargin (%v): the call of %s was checked on %s", dayMargin, callDay, now)
		}
	})

	t.Run("detail draws the call and plays the recording", func(t *testing.T) {
		checkDetail(t, admin, art, id, rec, plan)
	})

	t.Run("playing is audited", func(t *testing.T) {
		status, entries := fetchJSON[[]auditEntry](admin, "/api/v1/audit")
		if status != 200 {
			t.Fatalf("GET /api/v1/audit as admin: %d", status)
		}
		plays, actions := 0, map[string]int{}
		for _, e := range entries {
			actions[e.Action]++
			if e.Action == "recording_play" && (e.Target == id || strings.Contains(e.Detail, id)) {
				plays++
			}
		}
		t.Logf("audit entries today by action: %v", actions)
		if plays == 0 {
			t.Errorf("no recording_play entry for %s among %d entries", id, len(entries))
		}
		if actions["password_change"] == 0 {
			t.Errorf("the admin's password change is not in the audit log")
		}
	})

	t.Run("a técnico may not manage users or read the audit", func(t *testing.T) {
		runCLI(t, bin, tecnicoPassword+"\n"+tecnicoPassword+"\n",
			"user", "add", tecnicoName, "--role", "tecnico", "--data-dir", dataDir, "--config", cfgPath)
		tec := openTab(t, browser, base)
		defer tec.checkConsole()
		checkTecnico(t, tec, id, callDay)
	})
	t.Logf("TestConsole took %v", time.Since(started).Round(time.Millisecond))
}

// expectedRecord runs `switchtap replay --json` on the capture with the
// daemon's configuration (and a recordings folder, so the recording's
// figures are there too) and checks the one record against the plan.
func expectedRecord(t *testing.T, bin, cfgPath, pcapPath, recDir string, plan callPlan) map[string]any {
	t.Helper()
	recs := jsonLines(t, "replay --json", runCLI(t, bin, "", "replay", "--json", "--config", cfgPath, "--record-dir", recDir, pcapPath))
	if len(recs) != 1 {
		t.Fatalf("replay gives %d records, want 1: %v", len(recs), recs)
	}
	r := recs[0]
	for key, v := range map[string]any{
		"call_id": plan.callID, "direction": "inbound", "end_reason": "completed", "hangup_by": "caller",
		"from": "22447000", "to": "1001", "within_limit": true,
	} {
		if r[key] != v {
			t.Errorf("replay: %s = %v, want %v", key, r[key], v)
		}
	}
	if got := intOf(r["rings"]); got != plan.rings {
		t.Errorf("replay: rings = %d, want %d (%v of ringing at %v + %v)", got, plan.rings, ringTime, ringOn, ringOff)
	}
	for key, at := range map[string]time.Time{"invite_at": plan.invite, "ringing_at": plan.ringing, "answered_at": plan.answered} {
		s, _ := r[key].(string)
		got, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || !got.Equal(at) {
			t.Errorf("replay: %s = %q, want %s", key, s, at.Format(time.RFC3339Nano))
		}
	}
	d := recordingDuration(r)
	if lo, hi := plan.audio.Seconds()-0.1, plan.bye.Sub(plan.answered).Seconds()+0.1; d < lo || d > hi {
		t.Errorf("replay: recording duration %.3f s, want within [%.2f, %.2f]", d, lo, hi)
	}
	if id, _ := r["id"].(string); id == "" {
		t.Fatalf("replay record has no id: %v", r)
	}
	return r
}

// storedRecord waits for the daemon to store the call, reads it from the
// API with the browser's cookie and from `switchtap calls --json` (over
// the daemon's socket), and checks both equal replay's record.
func storedRecord(t *testing.T, admin *tab, bin, dataDir, cfgPath string, want map[string]any, messages int) map[string]any {
	t.Helper()
	id, _ := want["id"].(string)
	var api map[string]any
	deadline := time.Now().Add(storedBudget)
	for {
		// The leg is stored at its end and again when a trailing message
		// (the 200 to the BYE) changes it: wait for the record that has
		// every message of the capture.
		status, body := fetchJSON[map[string]any](admin, "/api/v1/calls/"+id)
		msgs, _ := body["messages"].([]any)
		if status == 200 && len(msgs) >= messages {
			api = body
			break
		}
		if (status != 200 && status != 404) || time.Now().After(deadline) {
			t.Fatalf("GET /api/v1/calls/%s: %d with %d messages, want %d (waited %v)", id, status, len(msgs), messages, storedBudget)
		}
		time.Sleep(200 * time.Millisecond)
	}
	msgs, ok := api["messages"].([]any)
	if !ok {
		t.Errorf("the API record has no messages array: %T", api["messages"])
	}
	if _, ok := api["linked"].([]any); !ok {
		t.Errorf("the API record has no linked array: %T", api["linked"])
	}
	rec := map[string]any{}
	for k, v := range api {
		if k != "messages" && k != "linked" {
			rec[k] = v
		}
	}
	rec["messages"] = msgs // kept for the ladder's check
	diffRecords(t, "GET /api/v1/calls/{id}", rec, want)

	// The call's UTC day: without --from/--to the CLI asks the daemon for
	// all days, which the API refuses (more than 366 days).
	day := strings.SplitN(want["invite_at"].(string), "T", 2)[0]
	cli := jsonLines(t, "calls --json", runCLI(t, bin, "", "calls", "--json", "--from", day, "--to", day, "--data-dir", dataDir, "--config", cfgPath))
	if len(cli) != 1 {
		t.Fatalf("switchtap calls --json gives %d records, want 1", len(cli))
	}
	diffRecords(t, "switchtap calls --json", cli[0], want)
	return rec
}

// diffRecords reports every field of got that differs from want (the
// field "messages" is the API's addition and not compared).
func diffRecords(t *testing.T, what string, got, want map[string]any) {
	t.Helper()
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var diffs []string
	for k := range keys {
		if k == "messages" {
			continue
		}
		if !reflect.DeepEqual(got[k], want[k]) {
			diffs = append(diffs, fmt.Sprintf("%s: got %v, replay %v", k, got[k], want[k]))
		}
	}
	sort.Strings(diffs)
	for _, d := range diffs {
		t.Errorf("%s differs from replay --json: %s", what, d)
	}
}

// firstLogin logs in with the generated password, is sent to /cuenta
// whatever page it asks for, changes the password, logs out and in again
// with the new one.
func firstLogin(t *testing.T, admin *tab, art, password string) {
	if status, path := admin.open("/envivo"); status != 200 || !strings.HasPrefix(path, "/login") {
		t.Fatalf("/envivo without a session: %d %s, want the login form", status, path)
	}
	if status, path := admin.open("/login"); status != 200 || path != "/login" {
		t.Fatalf("/login: %d %s", status, path)
	}
	admin.waitFor(`form#login input[name="name"]`, stepBudget)
	if n := admin.count(`html[lang="es-SV"]`); n != 1 {
		t.Errorf("the login page is not <html lang=\"es-SV\">")
	}
	admin.shoot(art, "e2e-01-login.png")

	if _, path := admin.submit("form#login", map[string]string{"name": "admin", "password": password}); path != "/cuenta" {
		t.Fatalf("first login landed on %s, want /cuenta (the password must be changed)", path)
	}
	if user := eval[string](admin, `(document.querySelector("#user") || {}).textContent || ""`); strings.TrimSpace(user) != "admin" {
		t.Errorf("#user = %q, want admin", user)
	}
	if _, path := admin.open("/envivo"); path != "/cuenta" {
		t.Errorf("/envivo before the change landed on %s, want /cuenta", path)
	}
	form := `form[action="/cuenta/clave"]`
	if _, path := admin.submit(form, map[string]string{"old": password, "new": adminNewPassword, "confirm": adminNewPassword}); !strings.HasPrefix(path, "/cuenta") {
		t.Fatalf("password change landed on %s", path)
	}
	if errs := eval[string](admin, `Array.from(document.querySelectorAll(".error")).map(e => e.textContent).join(" | ")`); errs != "" {
		t.Fatalf("password change refused: %s", errs)
	}
	if status, path := admin.submit(`form[action="/logout"]`, nil); status != 200 || path != "/login" {
		t.Fatalf("Salir: %d %s, want the login form", status, path)
	}
	if status, path := admin.open("/envivo"); status != 200 || !strings.HasPrefix(path, "/login") {
		t.Fatalf("/envivo after Salir: %d %s, want the login form", status, path)
	}
	if _, path := admin.submit("form#login", map[string]string{"name": "admin", "password": adminNewPassword}); path != "/envivo" {
		t.Fatalf("login with the new password landed on %s, want /envivo", path)
	}
}

// liveSample is the ring count shown for the call at one moment.
type liveSample struct {
	At    int // ms since the recorder was installed
	Rings int
}

// liveRecorderJS records every state of the ringing table and of the lamp
// and alarm: a MutationObserver catches each change of a row or a
// td.rings, and a 20 ms timer catches anything the observer could miss
// (the lamp's attributes among them). Only changes are kept.
const liveRecorderJS = `(() => {
  const tb = document.querySelector("table#ringing tbody");
  const rec = window.__e2e = {samples: []};
  const t0 = performance.now();
  let last = null;
  function snap() {
    const rows = Array.from(tb.querySelectorAll("tr[data-id]")).map(r => {
      const c = r.querySelector("td.rings");
      return {id: r.getAttribute("data-id"), rings: c ? c.textContent.trim() : null};
    });
    const lamp = (document.querySelector("#lamp") || {dataset: {}}).dataset.state || "";
    const alarm = (document.querySelector("#alarm") || {dataset: {}}).dataset.state || "";
    const key = JSON.stringify([rows, lamp, alarm]);
    if (key !== last) {
      last = key;
      rec.samples.push({t: Math.round(performance.now() - t0), rows: rows, lamp: lamp, alarm: alarm});
    }
  }
  snap();
  new MutationObserver(snap).observe(tb, {subtree: true, childList: true, characterData: true});
  setInterval(snap, 20);
  return true;
})()`

type liveRow struct {
	ID    string  `json:"id"`
	Rings *string `json:"rings"`
}

type liveState struct {
	T     int       `json:"t"`
	Rows  []liveRow `json:"rows"`
	Lamp  string    `json:"lamp"`
	Alarm string    `json:"alarm"`
}

// checkLamps checks every lamp and alarm state En vivo showed against the
// DOM contract, and that the lamp said "ok" while the call rang (SIP was
// flowing); the sequence is logged.
func checkLamps(t *testing.T, states []liveState) {
	t.Helper()
	var seq []string
	bad := map[string]bool{}
	for _, s := range states {
		pair := s.Lamp + "/" + s.Alarm
		if len(seq) == 0 || seq[len(seq)-1] != pair {
			seq = append(seq, pair)
		}
		if !slices.Contains([]string{"ok", "no_sip", "fault"}, s.Lamp) && !bad["lamp "+s.Lamp] {
			bad["lamp "+s.Lamp] = true
			t.Errorf("#lamp[data-state] = %q, want ok, no_sip or fault", s.Lamp)
		}
		if !slices.Contains([]string{"off", "warning", "alarm"}, s.Alarm) && !bad["alarm "+s.Alarm] {
			bad["alarm "+s.Alarm] = true
			t.Errorf("#alarm[data-state] = %q, want off, warning or alarm", s.Alarm)
		}
		if len(s.Rows) > 0 && s.Lamp != "ok" && !bad["ringing "+s.Lamp] {
			bad["ringing "+s.Lamp] = true
			t.Errorf("#lamp[data-state] = %q while the call rings, want ok", s.Lamp)
		}
	}
	t.Logf("lamp/alarm states on En vivo: %v", seq)
}

func rowsText(rows []liveRow) string {
	parts := make([]string, 0, len(rows))
	for _, r := range rows {
		parts = append(parts, r.ID+" rings "+deref(r.Rings))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// watchLive waits on En vivo for the call's row, screenshots it while it
// rings, and returns its ring counts once the row is gone (answered):
// they must rise by one from 1 (or from 0, the offered state before the
// 180) without going back or skipping one.
func watchLive(t *testing.T, admin *tab, art, id string, inviteWall time.Time) []liveSample {
	admin.waitFor(`#live-status[data-connected="true"]`, stepBudget)
	margin := time.Until(inviteWall)
	t.Logf("En vivo connected %v before the INVITE", margin.Round(time.Millisecond))
	if margin < 0 {
		t.Fatalf("En vivo connected %v after the INVITE: the test cannot see the call from its start (raise leadIn)", -margin)
	}
	if !eval[bool](admin, liveRecorderJS) {
		t.Fatal("could not install the En vivo recorder")
	}

	deadline := inviteWall.Add(ringTime + 15*time.Second)
	seen, shot := false, false
	for {
		cur := eval[liveState](admin, `window.__e2e.samples[window.__e2e.samples.length - 1]`)
		for _, r := range cur.Rows {
			if r.ID != id {
				t.Fatalf("En vivo shows a row for %q; the capture's only call is %s", r.ID, id)
			}
			seen = true
			if n, err := strconv.Atoi(deref(r.Rings)); err == nil && n >= 2 && !shot {
				shot = true
				admin.shoot(art, "e2e-02-envivo-sonando.png")
			}
		}
		if seen && len(cur.Rows) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("En vivo: row seen %v; %d rows %s still there %v after the answer was due (a stuck capture? see the daemon's log)",
				seen, len(cur.Rows), rowsText(cur.Rows), time.Since(inviteWall.Add(ringTime)).Round(time.Second))
		}
		time.Sleep(100 * time.Millisecond)
	}

	states := eval[[]liveState](admin, `window.__e2e.samples`)
	checkLamps(t, states)
	var out []liveSample
	for _, s := range states {
		for _, r := range s.Rows {
			n, err := strconv.Atoi(deref(r.Rings))
			if err != nil {
				t.Fatalf("td.rings of %s reads %q at +%d ms, not an integer", r.ID, deref(r.Rings), s.T)
			}
			if len(out) == 0 || out[len(out)-1].Rings != n {
				out = append(out, liveSample{At: s.T, Rings: n})
			}
		}
	}
	t.Logf("ring counts on En vivo (ms since the recorder, count): %v", out)
	if len(out) == 0 {
		t.Fatal("no ring count recorded")
	}
	if first := out[0].Rings; first > 1 {
		t.Errorf("first ring count shown %d, want 1 (or 0 before the 180)", first)
	}
	for i := 1; i < len(out); i++ {
		if out[i].Rings != out[i-1].Rings+1 {
			t.Errorf("ring count went %d → %d at +%d ms, want a rise by one", out[i-1].Rings, out[i].Rings, out[i].At)
		}
	}
	if !shot {
		t.Error("no screenshot of En vivo while ringing: the count never reached 2")
	}
	return out
}

// checkSummary waits for the ended call among today's recent calls, with
// its detail link, and for the counters to count it.
func checkSummary(t *testing.T, admin *tab, id string) {
	sel := fmt.Sprintf(`table#recent tbody tr[data-id=%q] a[href="/llamadas/%s"]`, id, id)
	deadline := time.Now().Add(10 * time.Second)
	for admin.count(sel) != 1 {
		if time.Now().After(deadline) {
			t.Errorf("%s did not appear within 10 s of the record being stored", sel)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for sel, want := range map[string]string{"#count-offered": "1", "#count-within": "1", "#count-abandoned": "0", "#count-transferred": "0"} {
		if got := eval[string](admin, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel)); strings.TrimSpace(got) != want {
			t.Errorf("%s = %q, want %s", sel, got, want)
		}
	}
}

type audioResult struct {
	Duration    float64 `json:"duration"`
	Error       *string `json:"error"`
	Playing     bool    `json:"playing"`
	Ended       bool    `json:"ended"`
	CurrentTime float64 `json:"currentTime"`
	PlayedEnd   float64 `json:"playedEnd"`
}

// playJS plays the recording from the start to its end (the console
// fetches it with Range requests) and reports what the element saw.
const playJS = `(async () => {
  const a = document.getElementById("player");
  let playing = false;
  a.addEventListener("playing", () => { playing = true; });
  a.currentTime = 0;
  try {
    await a.play();
  } catch (e) {
    return {duration: a.duration || 0, error: "play(): " + e, playing: false, ended: false, currentTime: a.currentTime, playedEnd: 0};
  }
  const t0 = performance.now();
  while (!a.ended && !a.error && performance.now() - t0 < 15000) {
    await new Promise(r => setTimeout(r, 50));
  }
  const p = a.played;
  return {
    duration: isFinite(a.duration) ? a.duration : -1,
    error: a.error ? ("code " + a.error.code + ": " + a.error.message) : null,
    playing: playing, ended: a.ended, currentTime: a.currentTime,
    playedEnd: p.length ? p.end(p.length - 1) : 0,
  };
})()`

type peaks struct {
	Duration float64        `json:"duration_seconds"`
	Channels [][][2]float64 `json:"channels"`
}

// checkDetail opens the call's page: its header data, the ladder with one
// arrow per stored message, the timeline, the waveform drawn, and the
// recording playing to its end with the record's duration and no error.
func checkDetail(t *testing.T, admin *tab, art, id string, rec map[string]any, plan callPlan) {
	if status, path := admin.open("/llamadas/" + id); status != 200 || path != "/llamadas/"+id {
		t.Fatalf("/llamadas/%s: %d %s", id, status, path)
	}
	admin.waitFor(fmt.Sprintf(`#call[data-id=%q]`, id), stepBudget)
	if got := eval[string](admin, `document.querySelector("#call").dataset.rings`); got != strconv.Itoa(intOf(rec["rings"])) {
		t.Errorf("#call[data-rings] = %q, record has %d", got, intOf(rec["rings"]))
	}
	if got := eval[string](admin, `document.querySelector("#call").dataset.withinLimit`); got != "true" {
		t.Errorf("#call[data-within-limit] = %q, want true", got)
	}
	msgs, _ := rec["messages"].([]any)
	if n := admin.count("svg#ladder g.msg"); n != len(msgs) || n != plan.messages {
		t.Errorf("svg#ladder has %d g.msg; the API has %d messages, the capture %d", n, len(msgs), plan.messages)
		for i, m := range msgs {
			mm, _ := m.(map[string]any)
			t.Logf("API message %d: %v %v %v %v → %v", i, mm["at"], mm["method"], mm["status"], mm["src"], mm["dst"])
		}
	}
	events := eval[[]string](admin, `Array.from(document.querySelectorAll("ol#timeline li")).map(li => li.dataset.event || "")`)
	t.Logf("timeline events: %v", events)
	if len(events) == 0 {
		t.Error("ol#timeline has no li")
	}
	for i, e := range events {
		if e == "" {
			t.Errorf("ol#timeline li %d has no data-event", i)
		}
	}

	deadline := time.Now().Add(stepBudget)
	for {
		st := eval[[2]string](admin, `(() => { const c = document.querySelector("canvas#waveform"); return c ? [c.dataset.drawn || "", c.dataset.error || ""] : ["", "no canvas#waveform"]; })()`)
		if st[0] == "true" {
			break
		}
		if st[1] != "" || time.Now().After(deadline) {
			t.Fatalf("canvas#waveform not drawn: data-drawn=%q data-error=%q", st[0], st[1])
		}
		time.Sleep(100 * time.Millisecond)
	}
	admin.shoot(art, "e2e-03-detalle.png")
	// The answer marker: an element of #waveform-markers, or named in the
	// canvas's data-markers (the DOM contract allows either).
	if n := admin.count(`#waveform-markers [data-marker="answer"]`); n != 1 &&
		!strings.Contains(eval[string](admin, `document.querySelector("canvas#waveform").dataset.markers || ""`), "answer") {
		t.Errorf("no answer marker on the waveform (%d #waveform-markers [data-marker=answer], none in data-markers)", n)
	}
	if href := eval[string](admin, `(document.querySelector("a#download") || {}).href || ""`); !strings.Contains(href, "/api/v1/calls/"+id+"/recording") {
		t.Errorf("a#download links to %q, want the call's recording", href)
	}

	// The waveform's data is the captured audio: each channel peaks at
	// its tone's level (μ-law keeps it within a few percent).
	status, pk := fetchJSON[peaks](admin, "/api/v1/calls/"+id+"/peaks?n=100")
	if status != 200 || len(pk.Channels) != 2 {
		t.Fatalf("peaks: %d with %d channels", status, len(pk.Channels))
	}
	for ch, amp := range []float64{callerAmp, calleeAmp} {
		top := 0.0
		for _, mm := range pk.Channels[ch] {
			top = math.Max(top, math.Max(math.Abs(mm[0]), math.Abs(mm[1])))
		}
		if top < 0.9*amp || top > 1.1*amp {
			t.Errorf("peaks channel %d reaches %.0f, want the tone's %.0f ± 10%%", ch, top, amp)
		}
	}

	want := recordingDuration(rec)
	a := eval[audioResult](admin, playJS)
	t.Logf("audio#player: %+v (record: %.3f s)", a, want)
	if a.Error != nil {
		t.Errorf("audio#player error: %s", *a.Error)
	}
	if !a.Playing || !a.Ended {
		t.Errorf("audio#player did not play to the end: playing %v, ended %v at %.3f s", a.Playing, a.Ended, a.CurrentTime)
	}
	if math.Abs(a.Duration-want) > durationTolerance {
		t.Errorf("audio#player duration %.3f s, record has %.3f s (tolerance %.2f s)", a.Duration, want, durationTolerance)
	}
	if math.Abs(a.PlayedEnd-want) > durationTolerance {
		t.Errorf("audio#player played to %.3f s of %.3f s", a.PlayedEnd, want)
	}
}

type auditEntry struct {
	Action string `json:"action"`
	Actor  string `json:"actor"`
	Target string `json:"target"`
	Detail string `json:"detail"`
}

// checkTecnico logs in as the técnico (a wrong password first, which must
// not say which field was wrong) and checks what the role may see,
// Llamadas filtered on the call's day (day, YYYY-MM-DD), whatever the day
// is now.
func checkTecnico(t *testing.T, tec *tab, id, day string) {
	tec.open("/login")
	status, path := tec.submit("form#login", map[string]string{"name": tecnicoName, "password": "not-" + tecnicoPassword})
	msg := eval[string](tec, `(document.querySelector(".error") || {}).textContent || ""`)
	if path != "/login" || strings.TrimSpace(msg) != "Nombre o contraseña incorrectos" {
		t.Errorf("wrong password: %d %s with .error %q, want the form again with \"Nombre o contraseña incorrectos\"", status, path, msg)
	}
	_, path = tec.submit("form#login", map[string]string{"name": tecnicoName, "password": tecnicoPassword})
	if path == "/cuenta" {
		// Accounts made by an administrator may have to change their
		// password first, as the first admin did.
		tec.submit(`form[action="/cuenta/clave"]`, map[string]string{"old": tecnicoPassword, "new": tecnicoNewPassword, "confirm": tecnicoNewPassword})
		_, path = tec.open("/envivo")
	}
	if path != "/envivo" {
		t.Fatalf("técnico login landed on %s, want /envivo", path)
	}
	if user := eval[string](tec, `(document.querySelector("#user") || {}).textContent || ""`); strings.TrimSpace(user) != tecnicoName {
		t.Errorf("#user = %q, want %s", user, tecnicoName)
	}
	for sel, want := range map[string]int{`nav a[href="/envivo"]`: 1, `nav a[href="/llamadas"]`: 1, `nav a[href="/estado"]`: 1, `nav a[href="/usuarios"]`: 0, `nav a[href="/auditoria"]`: 0} {
		if n := tec.count(sel); n != want {
			t.Errorf("técnico's page has %d %s, want %d", n, sel, want)
		}
	}
	for _, p := range []string{"/usuarios", "/auditoria"} {
		status, path := tec.open(p)
		if status != 403 || path != p {
			t.Errorf("técnico GET %s: %d %s, want 403", p, status, path)
		}
		if n := tec.count(`html[lang="es-SV"]`); n != 1 {
			t.Errorf("the 403 page of %s is not <html lang=\"es-SV\">", p)
		}
	}
	if status, _ := fetchJSON[any](tec, "/api/v1/audit"); status != 403 {
		t.Errorf("técnico GET /api/v1/audit: %d, want 403", status)
	}
	target := "/llamadas?" + url.Values{"from": {day}, "to": {day}}.Encode()
	if status, path := tec.open(target); status != 200 || path != target {
		t.Fatalf("técnico GET %s: %d %s, want 200", target, status, path)
	}
	for _, sel := range []string{"form#filters", "a#export-csv", "table#calls"} {
		if tec.count(sel) != 1 {
			t.Errorf("Llamadas has no %s", sel)
		}
	}
	if n := tec.count(fmt.Sprintf(`table#calls tbody tr[data-id=%q] a.detail[href="/llamadas/%s"]`, id, id)); n != 1 {
		t.Errorf("Llamadas of %s lists the call %s %d times with its detail link, want once", day, id, n)
	}
}

// waitForDay makes sure the day in loc does not end within margin of
// now: closer to midnight than that, it sleeps until the new day has
// begun (a second past midnight), so that a story started there reads
// the counters of the day its call is of.
func waitForDay(t *testing.T, loc *time.Location, now time.Time, margin time.Duration, sleep func(time.Duration)) {
	t.Helper()
	if wait := untilNewDay(now, loc, margin); wait > 0 {
		t.Logf("%v to midnight in %s: waiting for the new day", wait.Round(time.Second), loc)
		sleep(wait)
	}
}

// untilNewDay is how long to wait from now for a day that lasts at least
// margin more: 0 when the present one does, else until a second past the
// coming midnight.
func untilNewDay(now time.Time, loc *time.Location, margin time.Duration) time.Duration {
	n := now.In(loc)
	midnight := time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	if midnight.Sub(n) >= margin {
		return 0
	}
	return midnight.Sub(n) + time.Second
}

func recordingDuration(r map[string]any) float64 {
	rec, _ := r["recording"].(map[string]any)
	d, _ := rec["duration_seconds"].(float64)
	return d
}

func intOf(v any) int {
	f, _ := v.(float64)
	return int(f)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestUntilNewDay: the story waits only when midnight in the zone is
// closer than the margin, and then until just past it.
func TestUntilNewDay(t *testing.T) {
	loc := time.FixedZone("CST", -6*3600) // El Salvador: UTC−6, no DST
	at := func(h, m, s int) time.Time { return time.Date(2026, 3, 2, h, m, s, 0, loc) }
	for _, tc := range []struct {
		now  time.Time
		want time.Duration
	}{
		{at(12, 0, 0), 0},
		{at(23, 55, 0), 0}, // exactly the margin left
		{at(23, 55, 1), 4*time.Minute + 59*time.Second + time.Second},
		{at(23, 59, 59), 2 * time.Second},
		{at(0, 0, 0), 0},
		// The same instant in UTC: the zone's day decides.
		{at(23, 58, 0).UTC(), 2*time.Minute + time.Second},
	} {
		if got := untilNewDay(tc.now, loc, 5*time.Minute); got != tc.want {
			t.Errorf("untilNewDay(%s) = %v, want %v", tc.now, got, tc.want)
		}
	}
	var slept time.Duration
	waitForDay(t, loc, at(23, 59, 0), 5*time.Minute, func(d time.Duration) { slept = d })
	if slept != time.Minute+time.Second {
		t.Errorf("slept %v before a run at 23:59, want 1m1s", slept)
	}
}
