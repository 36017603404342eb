package web

import (
	"bytes"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/switchtap/switchtap/sip"
)

// updateGolden rewrites the console's golden files: go test ./web -run Golden -update.
var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/")

// ladderFixture is a fixed blind transfer: the caller's leg (INVITE with a
// retransmission, 180, 200, ACK, REFER, 202, BYE, 200) and the transfer's
// target leg through the same proxy, plus a message a phone sent to itself.
func ladderFixture() (sip.Call, CallDetail) {
	t0 := time.Date(2026, 12, 1, 15, 30, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ring, ans, end := at(120), at(9120), at(42000)
	req, done := at(30000), at(33000)
	c := sip.Call{
		ID: "rec-1", CallID: "a1@pbx", From: "22223333", To: "100", Direction: sip.DirectionInbound, Operator: "201",
		InviteAt: t0, RingingAt: &ring, AnsweredAt: &ans, EndedAt: &end, EndReason: sip.EndCompleted, HangupBy: "callee",
		RingSource: "180", RingSeconds: 9, Rings: 2, WithinLimit: true, Transport: "udp", SrcIP: "198.51.100.7", DstIP: "192.0.2.10",
		Transfer: &sip.Transfer{Kind: "blind", RequestedAt: req, Target: "205", CompletedAt: &done, Result: "ok", TargetCallID: "b2@pbx"},
		Recording: &sip.Recording{File: "2026/12/01/rec-1.wav", DurationSeconds: 32.88,
			Caller: &sip.StreamRecording{Codec: "PCMU", Packets: 1644}, Callee: &sip.StreamRecording{Codec: "PCMU", Packets: 1640, Lost: 3}},
	}
	caller, pbx, phone, phone2 := "198.51.100.7:5060", "192.0.2.10:5060", "192.0.2.21:5062", "192.0.2.25:5060"
	m := func(ms int, src, dst, method string, status int, reason string, cseq uint32, cm string, retrans bool) sip.LegMessage {
		return sip.LegMessage{At: at(ms), Src: src, Dst: dst, Transport: "udp", Method: method, Status: status, Reason: reason,
			CSeq: cseq, CSeqMethod: cm, Retransmission: retrans, Raw: "raw " + strconv.Itoa(ms) + " <b>&</b>"}
	}
	leg := []sip.LegMessage{
		m(0, caller, pbx, "INVITE", 0, "", 1, "INVITE", false),
		m(500, caller, pbx, "INVITE", 0, "", 1, "INVITE", true),
		m(120, pbx, caller, "", 180, "Ringing", 1, "INVITE", false),
		m(9120, pbx, caller, "", 200, "OK", 1, "INVITE", false),
		m(9130, caller, pbx, "ACK", 0, "", 1, "ACK", false),
		m(30000, phone, phone, "OPTIONS", 0, "", 7, "OPTIONS", false),
		m(30000, pbx, caller, "REFER", 0, "", 2, "REFER", false),
		m(30010, caller, pbx, "", 202, "Accepted", 2, "REFER", false),
		m(42000, pbx, caller, "BYE", 0, "", 3, "BYE", false),
		m(42010, caller, pbx, "", 200, "OK", 3, "BYE", false),
	}
	tgt := []sip.LegMessage{
		m(30100, pbx, phone2, "INVITE", 0, "", 1, "INVITE", false),
		m(30200, phone2, pbx, "", 183, "Session Progress With A Very Long Reason Phrase", 1, "INVITE", false),
		m(33000, phone2, pbx, "", 200, "OK", 1, "INVITE", false),
	}
	target := c
	target.ID, target.CallID, target.TransferredFrom, target.Transfer = "rec-2", "b2@pbx", "a1@pbx", nil
	return c, CallDetail{Call: c, Messages: leg, Linked: []LinkedLeg{{Call: target, Messages: tgt, Relation: RelationTransferTarget}}}
}

// TestConsoleLadderGolden: the SVG of the fixture, byte for byte.
func TestConsoleLadderGolden(t *testing.T) {
	e := newTestEnv(t)
	c, err := newConsole(e.srv)
	if err != nil {
		t.Fatal(err)
	}
	_, d := ladderFixture()
	var buf bytes.Buffer
	if err := c.pages["detalle"].ExecuteTemplate(&buf, "ladder", c.detailBody(d).Ladder); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	golden := filepath.Join("testdata", "console_ladder.golden.svg")
	if *updateGolden {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("ladder differs from %s (run with -update after checking):\n%s", golden, buf.String())
	}
}

// TestBuildLadder checks the layout's rules, not its pixels: lanes in the
// order addresses first appear, one arrow per message in capture order
// (stable), retransmissions and linked legs marked, a loop for a message
// to its own address, times relative to the INVITE.
func TestBuildLadder(t *testing.T) {
	_, d := ladderFixture()
	l := buildLadder(d.Call.InviteAt, d.Messages, d.Linked[0].Messages)
	var lanes []string
	for _, ln := range l.Lanes {
		lanes = append(lanes, ln.Label)
	}
	if got, want := strings.Join(lanes, " "), "198.51.100.7:5060 192.0.2.10:5060 192.0.2.21:5062 192.0.2.25:5060"; got != want {
		t.Fatalf("lanes %q, want %q", got, want)
	}
	if len(l.Msgs) != len(d.Messages)+len(d.Linked[0].Messages) {
		t.Fatalf("%d arrows for %d messages", len(l.Msgs), len(d.Messages)+len(d.Linked[0].Messages))
	}
	var labels []string
	for i, m := range l.Msgs {
		labels = append(labels, m.Label)
		if i > 0 && m.Y <= l.Msgs[i-1].Y {
			t.Fatal("arrows do not go down the page")
		}
	}
	want := "INVITE|180 Ringing|INVITE|200 OK|ACK|OPTIONS|REFER|202 Accepted (REFER)|INVITE|183 Session Progress With A V…|200 OK|BYE|200 OK (BYE)"
	if got := strings.Join(labels, "|"); got != want {
		t.Fatalf("labels\n%s\nwant\n%s", got, want)
	}
	if !l.Msgs[2].Retrans || l.Msgs[0].Retrans {
		t.Fatal("retransmission not marked")
	}
	if l.Msgs[8].Leg != 1 || l.Msgs[8].LegTag != "T2" || l.Msgs[7].Leg != 0 {
		t.Fatal("linked leg not marked")
	}
	if self := l.Msgs[5]; !strings.Contains(self.Path, " V") || self.Anchor != "start" {
		t.Fatalf("self-addressed message is not a loop: %q", self.Path)
	}
	if l.Msgs[1].Offset != "+0,120\u00a0s" {
		t.Fatalf("offset %q", l.Msgs[1].Offset)
	}
	if empty := buildLadder(time.Time{}); len(empty.Msgs) != 0 || empty.Width <= 0 {
		t.Fatal("no messages: not an empty diagram")
	}
}

// TestConsoleDetailPage: the DOM contract of the detail page.
func TestConsoleDetailPage(t *testing.T) {
	e := newTestEnv(t)
	c, d := ladderFixture()
	e.calls.add(c, d.Messages...)
	e.calls.add(d.Linked[0].Call, d.Linked[0].Messages...)
	w := e.do("GET", "/llamadas/rec-1", nil, e.as("tecnico"))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	doc := parsePage(t, w)
	call := find(doc, byID("call"))
	if call == nil || attrOf(call, "data-id") != "rec-1" || attrOf(call, "data-rings") != "2" || attrOf(call, "data-within-limit") != "true" {
		t.Fatalf("#call attributes wrong")
	}
	if rings := find(call, func(n *html.Node) bool { return hasClass(n, "rings") }); rings == nil || textOf(rings) != "2 de 4 timbres" {
		t.Fatal("no ring count against the limit")
	}
	var events []string
	for _, li := range within(doc, tag("ol", "id", "timeline"), tag("li", "data-event", "")) {
		events = append(events, attrOf(li, "data-event"))
	}
	if got, want := strings.Join(events, " "), "invite ringing ring ring answered transfer_requested transfer_completed ended"; got != want {
		t.Fatalf("timeline %q, want %q", got, want)
	}
	answered := find(doc, tag("li", "data-event", "answered"))
	if !strings.Contains(textOf(answered), "+9,1\u00a0s") {
		t.Fatalf("answer offset: %q", textOf(answered))
	}
	msgs := within(doc, tag("svg", "id", "ladder"), func(n *html.Node) bool { return n.Data == "g" && hasClass(n, "msg") })
	if len(msgs) != 13 {
		t.Fatalf("%d g.msg, want 13 (leg and transfer target)", len(msgs))
	}
	for _, g := range msgs {
		if find(doc, byID("raw-"+attrOf(g, "data-index"))) == nil {
			t.Fatal("an arrow has no raw text")
		}
	}
	if raw := find(doc, byID("raw-0")); !strings.Contains(textOf(raw), "raw 0 <b>&</b>") {
		t.Fatal("raw text not shown as text")
	}
	player := find(doc, tag("audio", "id", "player"))
	if player == nil || attrOf(player, "src") != "/api/v1/calls/rec-1/recording" || attrOf(player, "preload") != "metadata" {
		t.Fatal("no audio#player on the recording")
	}
	canvas := find(doc, tag("canvas", "id", "waveform"))
	if canvas == nil || attrOf(canvas, "data-peaks") != "/api/v1/calls/rec-1/peaks" {
		t.Fatal("no canvas#waveform with the peaks URL")
	}
	if a := find(doc, tag("a", "id", "download")); a == nil || attrOf(a, "href") != "/api/v1/calls/rec-1/recording?format=stored&download=1" {
		t.Fatal("no a#download")
	}
	if a := find(doc, tag("a", "id", "download-pcm")); a == nil || attrOf(a, "href") != "/api/v1/calls/rec-1/recording?download=1" {
		t.Fatal("no PCM download")
	}
	markers := map[string]string{}
	for _, m := range within(doc, byID("waveform-markers"), tag("span", "data-marker", "")) {
		markers[attrOf(m, "data-marker")] = attrOf(m, "data-offset")
	}
	// The recording starts at the answer (9.12 s); the REFER is at 30 s.
	if markers["answer"] != "0.000" || markers["transfer"] != "20.880" {
		t.Fatalf("markers %v", markers)
	}
	if !strings.Contains(textOf(doc), "Cada reproducción y descarga queda registrada en la auditoría.") {
		t.Fatal("no audit notice near the player")
	}
	if link := find(doc, tag("a", "href", "/llamadas/rec-2")); link == nil {
		t.Fatal("no link to the linked leg")
	}
	if s := find(doc, tag("script", "src", "/static/detail.js")); s == nil {
		t.Fatal("detail.js not loaded")
	}
}

// TestConsoleDetailNoRecording: the reason, in Spanish.
func TestConsoleDetailNoRecording(t *testing.T) {
	tests := []struct {
		name string
		rec  *sip.Recording
		want string
	}{
		{"srtp", &sip.Recording{NotRecordable: "encrypted (SRTP)"}, "No se grabó: el audio va cifrado (SRTP)."},
		{"codec", &sip.Recording{NotRecordable: "codec G729", Pcap: "x.pcap"}, "No se grabó: el códec G729 no se puede decodificar. El RTP se guardó como captura (pcap) para abrirla en Wireshark."},
		{"floor", &sip.Recording{NotRecordable: "disk floor"}, "No se grabó: el disco estaba en su mínimo de espacio libre."},
		{"none", nil, "No hay grabación de esta llamada."},
		{"other", &sip.Recording{NotRecordable: "cosmic rays"}, "No se grabó: cosmic rays."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			c := e.testCall("n1", -time.Hour)
			c.Recording = tc.rec
			e.calls.add(c)
			w := e.do("GET", "/llamadas/n1", nil, e.as("jefe"))
			doc := parsePage(t, w)
			if find(doc, tag("audio")) != nil {
				t.Fatal("a player without a recording")
			}
			if p := find(doc, byID("no-recording")); p == nil || textOf(p) != tc.want {
				t.Fatalf("reason %q, want %q", textOf(p), tc.want)
			}
		})
	}
}

// TestBuildTimeline: ring starts one cycle apart from ringing_at, those
// past the limit marked, the list bounded, times relative to the INVITE.
func TestBuildTimeline(t *testing.T) {
	ring := sip.RingPolicy{MaxRings: 4, On: 2 * time.Second, Off: 4 * time.Second}
	t0 := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	ringing := t0.Add(time.Second)
	end := ringing.Add(37 * time.Second)
	c := sip.Call{InviteAt: t0, RingingAt: &ringing, EndedAt: &end, EndReason: sip.EndAbandoned, HangupBy: "caller", Rings: 7, RingSeconds: 37}
	ev := buildTimeline(c, ring)
	var rings []string
	for _, e := range ev {
		if e.Kind == "ring" {
			rings = append(rings, e.Offset+map[bool]string{true: "!", false: ""}[e.Over])
		}
	}
	want := "+1,0\u00a0s +7,0\u00a0s +13,0\u00a0s +19,0\u00a0s +25,0\u00a0s! +31,0\u00a0s! +37,0\u00a0s!"
	if got := strings.Join(rings, " "); got != want {
		t.Fatalf("rings %q, want %q", got, want)
	}
	if last := ev[len(ev)-1]; last.Kind != "ended" || last.Label != "Fin: Abandonada" || last.Detail != "colgó el llamante" {
		t.Fatalf("end %+v", last)
	}
	c.Rings = 500
	ev = buildTimeline(c, ring)
	n, more := 0, false
	for _, e := range ev {
		if e.Kind == "ring" {
			n++
			more = more || e.Label == "… y 460 timbres más"
		}
	}
	if n != maxTimelineRings+1 || !more {
		t.Fatalf("%d ring lines for 500 rings", n)
	}
}
