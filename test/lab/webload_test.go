package lab_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the daemon's default zone, on hosts without zoneinfo too

	"golang.org/x/sys/unix"
)

// The web client of the load run (issue 8, "the web must not disturb the
// capture"): a técnico hammers the API at webRate requests/s for the whole
// run while one /api/v1/live stream stays open; the load test's own checks
// (0 kernel drops, 0 missing records) then say whether the capture noticed.
const (
	// webAddr is where the daemon serves the console and API: the tap
	// namespace's loopback, so the client reaches nothing outside the
	// namespaces the test made.
	webAddr = "127.0.0.1:8080"
	// webRate is the request rate; webInFlight bounds the requests open at
	// once, so a slow daemon lowers the achieved rate (reported, and an
	// error below webRateFloor) instead of piling requests up.
	webRate      = 20
	webInFlight  = 8
	webRateFloor = 0.9
	// webTimeout bounds one request, the SSE stream excepted.
	webTimeout = 10 * time.Second
	// webRange is the Range of every recording request: the first 64 KiB,
	// what a browser's first seek asks for.
	webRange = "bytes=0-65535"
	// webRangeLen is the length webRange asks for.
	webRangeLen = 65536
	// labTimeZone is the daemon's default time_zone (labConfig sets none):
	// the zone of the API's dates.
	labTimeZone = "America/El_Salvador"
	// webTecnico is the account the client uses, created before the run.
	webTecnico = "tecnico.carga"
	// webExamples bounds the failures kept for the report.
	webExamples = 8
	// adminPasswordFile and socketFile are what the daemon writes in its
	// data dir: the first admin's generated password, the local API.
	adminPasswordFile = "admin-password.txt"
	socketFile        = "switchtap.sock"
)

// Kinds of request of the mix: of every 10, three lists of today's calls,
// three status, three details of a random stored call and one recording
// (play and download in turn, so both audit actions are counted).
const (
	webCalls    = "calls"
	webStatus   = "status"
	webDetail   = "detail"
	webPlay     = "recording_play"     // the audit action it writes
	webDownload = "recording_download" // the audit action it writes (?download=1)
)

// Bits of the SSE events seen for a call.
const (
	sseOffered uint8 = 1 << iota
	sseEnded
)

// webStats is what the web client measured.
type webStats struct {
	requests int
	elapsed  time.Duration
	byKind   map[string]int
	// byStatus counts responses by HTTP status; 0 is a request that got
	// no response (transport error, timeout).
	byStatus map[int]int
	// failures counts requests that got no response, a status other than
	// 2xx, or a body that is not what the route promises; examples keeps
	// the first few.
	failures int
	examples []string
	// substituted counts detail and recording slots sent as a calls list
	// because no call was stored yet (the first ~20 s of the run).
	substituted int
	latency     []time.Duration // sorted
	kindLatency map[string][]time.Duration
	// statusDrops is the largest kernel_dropped /api/v1/status reported.
	statusDrops uint64
	// recordingOK counts recording requests answered 200 or 206, by the
	// audit action they write; audit counts the audit entries found.
	recordingOK map[string]int
	audit       map[string]int
	// sseEvents counts the live stream's events by name; sseEnds the
	// times it ended before the run did; sseByID the offered/ended bits
	// seen per record id.
	sseEvents map[string]int
	sseEnds   int
	sseByID   map[string]uint8
	// stored and sseMissing are filled from the store after the run:
	// stored calls, and those the stream said nothing of (offered or ended).
	stored     int
	sseMissing []string
}

// rate is the achieved request rate.
func (s *webStats) rate() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.requests) / s.elapsed.Seconds()
}

// webLoad is the running client: a técnico's session hammering the API and
// reading /api/v1/live. Its goroutines only collect; the test logs and
// asserts after finish has joined them.
type webLoad struct {
	base     string
	bin      string
	cfgPath  string
	dataDir  string
	tr       *http.Transport
	c        *http.Client // the técnico's session, for the hammer
	sse      *http.Client // the same session, without a timeout
	loc      *time.Location
	firstDay string // the date the run started, in loc
	rng      *mrand.Rand

	stop      chan struct{}
	sseCancel context.CancelFunc
	hammerWG  sync.WaitGroup
	sseWG     sync.WaitGroup
	started   time.Time
	stopped   time.Time
	once      sync.Once

	mu sync.Mutex
	st webStats
	// ids and recIDs are the stored calls of the last list, and those of
	// them with a recording on disk.
	ids, recIDs []string
}

// startWebLoad waits for the daemon's web, creates the técnico (through
// the running daemon's socket, as an installer would), logs in, opens the
// live stream and starts the hammer. It returns once the stream's snapshot
// has arrived: from then on the run is watched.
func startWebLoad(ctx context.Context, t *testing.T, l *lab, bin, cfgPath, dataDir string) *webLoad {
	t.Helper()

	loc, err := time.LoadLocation(labTimeZone)
	if err != nil {
		t.Fatalf("time zone %s: %v", labTimeZone, err)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("web load: seed %d", seed)
	tr := &http.Transport{
		DialContext:         dialIn("/var/run/netns/" + l.tapNS),
		MaxIdleConnsPerHost: webInFlight + 1,
		IdleConnTimeout:     time.Minute,
	}
	w := &webLoad{
		base: "http://" + webAddr, bin: bin, cfgPath: cfgPath, dataDir: dataDir, tr: tr, loc: loc,
		rng:  mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		stop: make(chan struct{}),
		st: webStats{byKind: map[string]int{}, byStatus: map[int]int{}, kindLatency: map[string][]time.Duration{},
			recordingOK: map[string]int{}, audit: map[string]int{}, sseEvents: map[string]int{}, sseByID: map[string]uint8{}},
	}
	// Whatever fails from here on, the goroutines end before the test does.
	t.Cleanup(w.halt)

	w.waitReady(ctx, t)
	password := rand.Text()
	w.addUser(ctx, t, webTecnico, "tecnico", password)
	w.c = w.login(ctx, t, webTecnico, password, webTimeout)
	w.sse = &http.Client{Transport: tr, Jar: w.c.Jar}

	w.firstDay = time.Now().In(loc).Format(time.DateOnly)
	sseCtx, cancel := context.WithCancel(ctx)
	w.sseCancel = cancel
	snap := make(chan struct{})
	w.sseWG.Add(1)
	go w.live(sseCtx, snap)
	select {
	case <-snap:
	case <-time.After(10 * time.Second):
		t.Fatalf("no snapshot on /api/v1/live within 10 s")
	}
	w.started = time.Now()
	w.hammerWG.Add(1)
	go w.hammer(ctx)

	return w
}

// waitReady waits until the web accepts connections, the first admin's
// password file is written and the local socket is there (`user add`
// would otherwise open the store the daemon holds).
func (w *webLoad) waitReady(ctx context.Context, t *testing.T) {
	t.Helper()

	deadline := time.Now().Add(15 * time.Second)
	dial := w.tr.DialContext
	for {
		c, err := dial(ctx, "tcp", webAddr)
		if err == nil {
			_ = c.Close()
			if _, err = os.Stat(filepath.Join(w.dataDir, adminPasswordFile)); err == nil {
				if _, err = os.Stat(filepath.Join(w.dataDir, socketFile)); err == nil {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("web on %s in the tap namespace not ready: %v", webAddr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// addUser runs `switchtap user add`, the password and its confirmation on
// standard input; the CLI talks to the running daemon over its socket.
func (w *webLoad) addUser(ctx context.Context, t *testing.T, name, role, password string) {
	t.Helper()

	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.bin, "user", "add", name, "--role", role, "--config", w.cfgPath, "--data-dir", w.dataDir)
	cmd.Stdin = strings.NewReader(password + "\n" + password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("switchtap user add %s --role %s: %v\n%s", name, role, err, out)
	}
}

// loginResponse is POST /api/v1/login's answer.
type loginResponse struct {
	Name       string `json:"name"`
	Role       string `json:"role"`
	MustChange bool   `json:"must_change"`
}

// login returns a client holding name's session cookie. An account that
// must change its password first gets a new one (then logs in again, so
// the session is a plain one).
func (w *webLoad) login(ctx context.Context, t *testing.T, name, password string, timeout time.Duration) *http.Client {
	t.Helper()

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: w.tr, Jar: jar, Timeout: timeout}
	var lr loginResponse
	if code, body := w.postJSON(ctx, c, "/api/v1/login", map[string]string{"name": name, "password": password}, &lr); code != http.StatusOK {
		t.Fatalf("login %s: %d %s", name, code, body)
	}
	if lr.Name != name {
		t.Fatalf("login %s: answered for %q", name, lr.Name)
	}
	if !lr.MustChange {
		return c
	}
	fresh := rand.Text()
	if code, body := w.postJSON(ctx, c, "/api/v1/account/password", map[string]string{"old": password, "new": fresh}, nil); code/100 != 2 {
		t.Fatalf("change the password of %s (must_change): %d %s", name, code, body)
	}
	return w.login(ctx, t, name, fresh, timeout)
}

// postJSON posts v as JSON and decodes a 2xx answer into out (when not
// nil); it returns the status and, on failure, the start of the body.
func (w *webLoad) postJSON(ctx context.Context, c *http.Client, path string, v, out any) (int, string) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, err.Error()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.base+path, strings.NewReader(string(b)))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 || out == nil {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return resp.StatusCode, string(snippet)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return resp.StatusCode, "body: " + err.Error()
	}
	return resp.StatusCode, ""
}

// hammer issues the mix at webRate until stop, at most webInFlight at once.
// Each tick sends the requests due by then (elapsed × rate), so a late tick
// is made up at once and the rate holds; a daemon too slow to keep
// webInFlight slots free lowers it instead (reported): no more than half a
// second's requests are ever owed, so a stalled daemon is not answered
// with a burst.
func (w *webLoad) hammer(ctx context.Context) {
	defer w.hammerWG.Done()

	tick := time.NewTicker(time.Second / webRate)
	defer tick.Stop()
	slots := make(chan struct{}, webInFlight)
	var reqs sync.WaitGroup
	defer reqs.Wait()
	start := time.Now()
	for n := 0; ; {
		select {
		case <-w.stop:
			return
		case <-ctx.Done():
			return
		case now := <-tick.C:
			due := int(now.Sub(start).Seconds() * webRate)
			n = max(n, due-webRate/2)
			for ; n < due; n++ {
				select {
				case slots <- struct{}{}:
				case <-w.stop:
					return
				}
				kind, id := w.pick(n)
				reqs.Go(func() {
					defer func() { <-slots }()
					w.request(ctx, kind, id)
				})
			}
		}
	}
}

// pick chooses request n's kind and call: every 10th a recording, the rest
// lists, status and details in turn. Details and recordings go to a random
// call of the last list; before any is stored the slot asks for the list.
func (w *webLoad) pick(n int) (kind, id string) {
	w.mu.Lock()
	defer w.mu.Unlock()

	switch {
	case n%10 == 9:
		kind = webPlay
		if (n/10)%2 == 1 {
			kind = webDownload
		}
		if len(w.recIDs) > 0 {
			return kind, w.recIDs[w.rng.IntN(len(w.recIDs))]
		}
	case n%10%3 == 0:
		return webCalls, ""
	case n%10%3 == 1:
		return webStatus, ""
	default:
		kind = webDetail
		if len(w.ids) > 0 {
			return kind, w.ids[w.rng.IntN(len(w.ids))]
		}
	}
	w.st.substituted++
	return webCalls, ""
}

// request sends one request of the mix, reads its whole body, checks it
// and counts it.
func (w *webLoad) request(ctx context.Context, kind, id string) {
	ctx, cancel := context.WithTimeout(ctx, webTimeout)
	defer cancel()

	var path string
	switch kind {
	case webCalls:
		q := url.Values{"from": {w.firstDay}, "to": {time.Now().In(w.loc).Format(time.DateOnly)}}
		path = "/api/v1/calls?" + q.Encode()
	case webStatus:
		path = "/api/v1/status"
	case webDetail:
		path = "/api/v1/calls/" + url.PathEscape(id)
	case webPlay:
		path = "/api/v1/calls/" + url.PathEscape(id) + "/recording"
	case webDownload:
		path = "/api/v1/calls/" + url.PathEscape(id) + "/recording?download=1"
	}
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.base+path, nil)
	if err != nil {
		w.count(kind, 0, 0, fmt.Sprintf("%s: %v", path, err))
		return
	}
	if kind == webPlay || kind == webDownload {
		req.Header.Set("Range", webRange)
	}
	resp, err := w.c.Do(req)
	if err != nil {
		w.count(kind, 0, time.Since(start), fmt.Sprintf("GET %s: %v", path, err))
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		_, _ = io.Copy(io.Discard, resp.Body)
		w.count(kind, resp.StatusCode, time.Since(start), fmt.Sprintf("GET %s: %d %s", path, resp.StatusCode, strings.TrimSpace(string(snippet))))
		return
	}
	bad := w.readBody(kind, id, resp)
	_, _ = io.Copy(io.Discard, resp.Body)
	lat := time.Since(start)
	if bad != "" {
		bad = fmt.Sprintf("GET %s: %d but %s", path, resp.StatusCode, bad)
	}
	w.count(kind, resp.StatusCode, lat, bad)
}

// callItem is the part of a listed record the client needs.
type callItem struct {
	ID        string `json:"id"`
	Recording *struct {
		File          string `json:"file"`
		NotRecordable string `json:"not_recordable"`
	} `json:"recording"`
}

// readBody checks a 2xx body is what its route promises (the whole of it
// decoded: a list the daemon cut short is invalid JSON) and keeps what the
// next requests need; it returns what is wrong, "" when nothing.
func (w *webLoad) readBody(kind, id string, resp *http.Response) string {
	switch kind {
	case webCalls:
		var list []callItem
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			return "calls: " + err.Error()
		}
		ids := make([]string, 0, len(list))
		var rec []string
		for _, c := range list {
			ids = append(ids, c.ID)
			if c.Recording != nil && c.Recording.File != "" && c.Recording.NotRecordable == "" {
				rec = append(rec, c.ID)
			}
		}
		w.mu.Lock()
		if len(ids) >= len(w.ids) { // an answer overtaken by a later one never shrinks the pool
			w.ids, w.recIDs = ids, rec
		}
		w.mu.Unlock()
	case webStatus:
		var s struct {
			Capture struct {
				KernelDropped *uint64 `json:"kernel_dropped"`
			} `json:"capture"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			return "status: " + err.Error()
		}
		if s.Capture.KernelDropped == nil {
			return "status without capture.kernel_dropped"
		}
		w.mu.Lock()
		w.st.statusDrops = max(w.st.statusDrops, *s.Capture.KernelDropped)
		w.mu.Unlock()
	case webDetail:
		var d struct {
			ID       string            `json:"id"`
			Messages []json.RawMessage `json:"messages"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
			return "detail: " + err.Error()
		}
		if d.ID != id || d.Messages == nil {
			return fmt.Sprintf("detail of id %q with %d messages", d.ID, len(d.Messages))
		}
	case webPlay, webDownload:
		b, err := io.ReadAll(io.LimitReader(resp.Body, webRangeLen+1))
		if err != nil {
			return "recording: " + err.Error()
		}
		cr := resp.Header.Get("Content-Range")
		switch {
		case resp.StatusCode == http.StatusPartialContent && (len(b) != webRangeLen || !strings.HasPrefix(cr, "bytes 0-65535/")):
			return fmt.Sprintf("206 with %d bytes, Content-Range %q", len(b), cr)
		case !strings.HasPrefix(string(b), "RIFF"):
			return "recording does not start with RIFF"
		}
	}
	return ""
}

// count records one request's outcome; bad is "" when it succeeded.
func (w *webLoad) count(kind string, code int, lat time.Duration, bad string) {
	w.mu.Lock()
	defer w.mu.Unlock()

	s := &w.st
	s.requests++
	s.byKind[kind]++
	s.byStatus[code]++
	if code != 0 {
		s.latency = append(s.latency, lat)
		s.kindLatency[kind] = append(s.kindLatency[kind], lat)
	}
	// A recording answered with bytes wrote its audit entry first, even
	// when its body then looks wrong: the audit check counts it.
	if (kind == webPlay || kind == webDownload) && (code == http.StatusOK || code == http.StatusPartialContent) {
		s.recordingOK[kind]++
	}
	if bad != "" {
		s.failures++
		if len(s.examples) < webExamples {
			s.examples = append(s.examples, bad)
		}
	}
}

// live holds /api/v1/live open until the run ends. A stream that ends
// before is counted (the check wants none) and opened again, so the rest
// of the run is still watched; snap is closed at the first snapshot.
func (w *webLoad) live(ctx context.Context, snap chan struct{}) {
	defer w.sseWG.Done()

	var once sync.Once
	for {
		err := w.liveOnce(ctx, func() { once.Do(func() { close(snap) }) })
		select {
		case <-w.stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		w.mu.Lock()
		w.st.sseEnds++
		if len(w.st.examples) < webExamples {
			w.st.examples = append(w.st.examples, fmt.Sprintf("live stream ended: %v", err))
		}
		w.mu.Unlock()
		time.Sleep(200 * time.Millisecond)
	}
}

// liveOnce reads one live stream (WHATWG "Server-sent events": event and
// data lines, a blank line ends an event) and counts its events.
func (w *webLoad) liveOnce(ctx context.Context, gotSnapshot func()) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.base+"/api/v1/live", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := w.sse.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
		return fmt.Errorf("%d %s", resp.StatusCode, ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 8<<20) // a snapshot lists every ringing call
	var event, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data = strings.TrimSpace(strings.TrimPrefix(line, "data:"))
		case line == "" && event != "":
			w.liveEvent(event, data)
			if event == "snapshot" {
				gotSnapshot()
			}
			event, data = "", ""
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errStreamEnded
}

// liveEvent counts one event and notes the offered and ended of each call.
func (w *webLoad) liveEvent(event, data string) {
	var bit uint8
	switch event {
	case "offered":
		bit = sseOffered
	case "ended":
		bit = sseEnded
	}
	var c struct {
		ID string `json:"id"`
	}
	if bit != 0 {
		if err := json.Unmarshal([]byte(data), &c); err != nil || c.ID == "" {
			bit = 0
			event += " (undecodable)"
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.st.sseEvents[event]++
	if bit != 0 {
		w.st.sseByID[c.ID] |= bit
	}
}

// halt stops the hammer and waits for its requests to complete, then ends
// the stream, which so saw every call the run placed end (the load run
// waits for the last); it may be called more than once.
func (w *webLoad) halt() {
	w.once.Do(func() {
		w.stopped = time.Now()
		close(w.stop)
	})
	w.hammerWG.Wait()
	if w.sseCancel != nil {
		w.sseCancel()
	}
	w.sseWG.Wait()
}

// finish ends the client while the daemon still runs, then, as the admin,
// counts the audit entries of recordings. The admin logs in with the
// generated password, which must be changed first.
func (w *webLoad) finish(ctx context.Context, t *testing.T) *webStats {
	t.Helper()

	w.halt()
	w.tr.CloseIdleConnections()

	st := w.st
	st.elapsed = w.stopped.Sub(w.started)
	slices.Sort(st.latency)
	for _, l := range st.kindLatency {
		slices.Sort(l)
	}

	pw := adminPassword(t, w.dataDir)
	admin := w.login(ctx, t, "admin", pw, time.Minute)
	q := url.Values{"from": {w.firstDay}, "to": {time.Now().In(w.loc).Format(time.DateOnly)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.base+"/api/v1/audit?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := admin.Do(req)
	if err != nil {
		t.Fatalf("GET /api/v1/audit: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		t.Fatalf("GET /api/v1/audit as admin: %d %s", resp.StatusCode, b)
	}
	var entries []struct {
		Action string `json:"action"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&entries); err != nil {
		t.Fatalf("GET /api/v1/audit: %v", err)
	}
	for _, e := range entries {
		if e.Action == webPlay || e.Action == webDownload {
			st.audit[e.Action]++
		}
	}
	admin.CloseIdleConnections()

	return &st
}

// adminPassword reads the first admin's generated password from the file
// the daemon wrote in the data dir ("contraseña: <pw>").
func adminPassword(t *testing.T, dataDir string) string {
	t.Helper()

	b, err := os.ReadFile(filepath.Join(dataDir, adminPasswordFile))
	if err != nil {
		t.Fatalf("first admin's password: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if pw, ok := strings.CutPrefix(line, "contraseña: "); ok && strings.TrimSpace(pw) != "" {
			return strings.TrimSpace(pw)
		}
	}
	t.Fatalf("no \"contraseña: \" line in admin-password.txt")
	return ""
}

// matchStored notes the stored calls the live stream said nothing of.
func (s *webStats) matchStored(recs []record) {
	s.stored = len(recs)
	for _, r := range recs {
		if id := r.Str("id"); s.sseByID[id]&(sseOffered|sseEnded) == 0 {
			s.sseMissing = append(s.sseMissing, id)
		}
	}
}

// checkWebLoad logs the web client's figures beside the capture's and
// fails on any request not answered 2xx, a rate below the floor, a live
// stream that ended or missed a call, and audit entries that do not match
// the recordings served.
func checkWebLoad(t *testing.T, st loadStats) {
	t.Helper()

	w := st.web
	if w == nil {
		t.Errorf("no web client ran during the load")
		return
	}
	sse := 0
	for _, n := range w.sseEvents {
		sse += n
	}
	t.Logf("WEB LOAD: %d requests in %v (%.1f/s, target %d/s; %v), by status %v, latency p50 %v p99 %v (%s), "+
		"SSE %d events %v over %d stream(s), %d of %d stored calls seen on it, recordings served %v, audited %v; "+
		"kernel drops %v (status API max %d), %d missing",
		w.requests, w.elapsed.Round(time.Second), w.rate(), webRate, w.byKind, w.byStatus,
		pct(w.latency, 50), pct(w.latency, 99), kindPcts(w.kindLatency),
		sse, w.sseEvents, 1+w.sseEnds, w.stored-len(w.sseMissing), w.stored, w.recordingOK, w.audit,
		st.kernelDrops, w.statusDrops, st.missing)
	if w.substituted > 0 {
		t.Logf("web load: %d detail/recording slots asked for the list instead (no call stored yet)", w.substituted)
	}

	if w.failures > 0 {
		t.Errorf("%d of %d web requests failed (status %v), e.g.:\n%s", w.failures, w.requests, w.byStatus, strings.Join(w.examples, "\n"))
	}
	if w.rate() < webRateFloor*webRate {
		t.Errorf("web client reached %.1f requests/s, want ≥ %.0f", w.rate(), webRateFloor*webRate)
	}
	if w.byKind[webDetail] == 0 || w.recordingOK[webPlay] == 0 || w.recordingOK[webDownload] == 0 {
		t.Errorf("no detail, or no recording of each kind, was served: %v requests, %v recordings served", w.byKind, w.recordingOK)
	}
	if w.statusDrops != 0 {
		t.Errorf("/api/v1/status reported %d kernel drops", w.statusDrops)
	}
	if w.sseEnds != 0 {
		t.Errorf("the live stream ended %d times during the run", w.sseEnds)
	}
	if w.stored == 0 || len(w.sseMissing) > 0 {
		t.Errorf("%d of %d stored calls had no offered or ended event on the live stream, e.g. %v",
			len(w.sseMissing), w.stored, w.sseMissing[:min(5, len(w.sseMissing))])
	}
	for _, action := range []string{webPlay, webDownload} {
		if w.audit[action] != w.recordingOK[action] {
			t.Errorf("%d %s audit entries, %d such requests served bytes", w.audit[action], action, w.recordingOK[action])
		}
	}
}

// pct returns the p-th percentile of sorted (nearest rank), 0 when empty.
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted), i)-1)].Round(100 * time.Microsecond)
}

// kindPcts renders p50/p99 per kind of request.
func kindPcts(byKind map[string][]time.Duration) string {
	var parts []string
	for _, k := range []string{webCalls, webStatus, webDetail, webPlay, webDownload} {
		if l := byKind[k]; len(l) > 0 {
			parts = append(parts, fmt.Sprintf("%s %v/%v", k, pct(l, 50), pct(l, 99)))
		}
	}
	return strings.Join(parts, ", ")
}

// dialIn returns a DialContext whose sockets are made inside the network
// namespace at nsPath (a socket stays in the namespace it was created in).
// setns(2) changes only the calling thread, so the dial runs on a
// goroutine locked to its thread, which is moved back before it is
// unlocked. If moving back fails the goroutine ends still locked: the
// runtime then retires the thread (or, the main thread, never runs
// anything on it again), so no other goroutine runs in the namespace.
// Moving back matters: had the main thread stayed there, `ip netns pids`
// would list the test binary and the namespace's cleanup would kill it.
func dialIn(nsPath string) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		type dialed struct {
			c   net.Conn
			err error
		}
		ch := make(chan dialed, 1)
		go func() {
			runtime.LockOSThread()
			home, err := os.Open("/proc/thread-self/ns/net")
			if err != nil {
				runtime.UnlockOSThread()
				ch <- dialed{err: fmt.Errorf("open own netns: %w", err)}
				return
			}
			defer home.Close()
			f, err := os.Open(nsPath)
			if err != nil {
				runtime.UnlockOSThread()
				ch <- dialed{err: fmt.Errorf("open netns: %w", err)}
				return
			}
			defer f.Close()
			if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil { //nolint:gosec // G115: a file descriptor fits an int
				// setns failed: the thread is where it was.
				runtime.UnlockOSThread()
				ch <- dialed{err: fmt.Errorf("setns %s: %w", nsPath, err)}
				return
			}
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			if rerr := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); rerr == nil { //nolint:gosec // G115: as above
				runtime.UnlockOSThread()
			} else if err == nil {
				_ = c.Close()
				c, err = nil, fmt.Errorf("setns back from %s: %w", nsPath, rerr)
			}
			ch <- dialed{c, err}
		}()
		r := <-ch
		return r.c, r.err
	}
}
