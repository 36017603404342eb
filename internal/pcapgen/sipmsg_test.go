package pcapgen

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func mustParse(t *testing.T, b []byte) sip.Message {
	t.Helper()
	m, err := sip.ParseMessage(b)
	if err != nil {
		t.Fatalf("sipgo: %v\n%s", err, b)
	}
	checkContentLength(t, string(b))
	return m
}

// checkContentLength checks that Content-Length (or l) equals the body.
func checkContentLength(t *testing.T, raw string) {
	t.Helper()
	head, body, ok := strings.Cut(raw, "\r\n\r\n")
	if !ok {
		t.Fatalf("no end of headers in %q", raw)
	}
	for _, line := range strings.Split(head, "\r\n")[1:] {
		name, value, _ := strings.Cut(line, ":")
		if strings.EqualFold(name, "Content-Length") || name == "l" {
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil || n != len(body) {
				t.Errorf("Content-Length %q, body %d bytes", value, len(body))
			}
			return
		}
	}
	t.Errorf("no Content-Length in %q", head)
}

func testDialog(transport string, compact bool) *Dialog {
	d := newDialog("abc123@192.0.2.10", extCaller(), receptionist())
	d.Transport, d.Compact = transport, compact
	return d
}

func TestDialogInviteTransaction(t *testing.T) {
	for _, tc := range []struct {
		name      string
		transport string
		compact   bool
	}{{"udp", "UDP", false}, {"tcp", "TCP", false}, {"compact", "UDP", true}} {
		t.Run(tc.name, func(t *testing.T) {
			d := testDialog(tc.transport, tc.compact)
			inv := d.Invite()
			req, ok := mustParse(t, inv.Bytes).(*sip.Request)
			if !ok || req.Method != sip.INVITE {
				t.Fatalf("not an INVITE: %s", inv.Bytes)
			}
			if got := req.Recipient.String(); !strings.HasPrefix(got, "sip:1001@192.0.2.20") {
				t.Errorf("Request-URI %s", got)
			}
			via := req.Via()
			if via == nil || !strings.HasPrefix(via.Params.GetOr("branch", ""), "z9hG4bK") || !strings.EqualFold(via.Transport, tc.transport) {
				t.Errorf("Via %v", via)
			}
			if req.From().Params.GetOr("tag", "") != d.FromTag || req.To().Params.Has("tag") {
				t.Errorf("From %v To %v", req.From(), req.To())
			}
			if req.From().DisplayName != "Ana Pérez" || req.From().Address.User != "22447000" {
				t.Errorf("From display %q user %q", req.From().DisplayName, req.From().Address.User)
			}
			if req.CallID().Value() != d.CallID || req.CSeq().MethodName != sip.INVITE || req.Contact() == nil {
				t.Errorf("Call-ID %v CSeq %v Contact %v", req.CallID(), req.CSeq(), req.Contact())
			}
			if mf := req.MaxForwards(); mf == nil || mf.Val() != 70 {
				t.Errorf("Max-Forwards %v", mf)
			}
			if ct := req.ContentType(); ct == nil || ct.Value() != "application/sdp" {
				t.Errorf("Content-Type %v", ct)
			}
			body := string(req.Body())
			for _, want := range []string{"c=IN IP4 198.51.100.10", "m=audio 40000 RTP/AVP 0 8 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000", "a=rtpmap:101 telephone-event/8000"} {
				if !strings.Contains(body, want+"\r\n") {
					t.Errorf("SDP lacks %q:\n%s", want, body)
				}
			}
			if tc.compact {
				for _, h := range []string{"\r\nv: ", "\r\nf: ", "\r\nt: ", "\r\ni: ", "\r\nm: ", "\r\nc: ", "\r\nl: "} {
					if !strings.Contains(string(inv.Bytes), h) {
						t.Errorf("compact INVITE lacks %q", h)
					}
				}
			}

			trying := mustParse(t, d.Response(100, "Trying", inv)).(*sip.Response)
			if trying.To().Params.Has("tag") {
				t.Errorf("100 must not add a To-tag")
			}
			ringing := mustParse(t, d.Response(180, "Ringing", inv)).(*sip.Response)
			if ringing.To().Params.GetOr("tag", "") != d.ToTag || len(ringing.Body()) != 0 {
				t.Errorf("180 To %v body %d", ringing.To(), len(ringing.Body()))
			}
			if ringing.Via().Params.GetOr("branch", "") != inv.Branch || ringing.CSeq().SeqNo != inv.CSeq {
				t.Errorf("180 does not match the INVITE transaction")
			}
			early := mustParse(t, d.Response(183, "Session Progress", inv, WithSDP())).(*sip.Response)
			if !strings.Contains(string(early.Body()), "c=IN IP4 192.0.2.20") {
				t.Errorf("183 WithSDP lacks the callee's SDP")
			}
			ok200 := mustParse(t, d.Response(200, "OK", inv)).(*sip.Response)
			if !strings.Contains(string(ok200.Body()), "m=audio 50000 ") || ok200.Contact() == nil {
				t.Errorf("200 lacks SDP answer or Contact")
			}
			ack := mustParse(t, d.Ack(inv, 200)).(*sip.Request)
			if ack.Via().Params.GetOr("branch", "") == inv.Branch || ack.CSeq().SeqNo != inv.CSeq || ack.CSeq().MethodName != sip.ACK {
				t.Errorf("ACK for 2xx must be a new transaction with the INVITE's CSeq number")
			}
			if ack.To().Params.GetOr("tag", "") != d.ToTag {
				t.Errorf("ACK To %v", ack.To())
			}
		})
	}
}

func TestDialogCancelAndErrorAck(t *testing.T) {
	d := testDialog("UDP", false)
	inv := d.Invite()
	cancel := d.Cancel(inv)
	c := mustParse(t, cancel.Bytes).(*sip.Request)
	if c.Method != sip.CANCEL || c.CSeq().SeqNo != inv.CSeq || c.CSeq().MethodName != sip.CANCEL ||
		c.Via().Params.GetOr("branch", "") != inv.Branch || c.Recipient.String() != inv.URI {
		t.Errorf("CANCEL does not match the INVITE:\n%s", cancel.Bytes)
	}
	r487 := mustParse(t, d.Response(487, "Request Terminated", inv)).(*sip.Response)
	if r487.CSeq().MethodName != sip.INVITE || r487.To().Params.GetOr("tag", "") != d.ToTag {
		t.Errorf("487 %v", r487)
	}
	ack := mustParse(t, d.Ack(inv, 487)).(*sip.Request)
	if ack.Via().Params.GetOr("branch", "") != inv.Branch || ack.Recipient.String() != inv.URI || ack.To().Params.GetOr("tag", "") != d.ToTag {
		t.Errorf("ACK for non-2xx must reuse the INVITE's branch and URI:\n%s", ack)
	}
	moved := mustParse(t, d.Response(302, "Moved Temporarily", inv, WithContact("sip:2001@192.0.2.31"))).(*sip.Response)
	if moved.Contact() == nil || moved.Contact().Address.User != "2001" {
		t.Errorf("302 Contact %v", moved.Contact())
	}
}

func TestDialogInDialogRequests(t *testing.T) {
	for _, compact := range []bool{false, true} {
		t.Run("compact="+strconv.FormatBool(compact), func(t *testing.T) {
			d := testDialog("UDP", compact)
			inv := d.Invite()
			c := newDialog("consult@192.0.2.20", receptionist(), extension("2003", 33))
			repl := Replaces{CallID: c.CallID, ToTag: c.ToTag, FromTag: c.FromTag}

			bye := mustParse(t, d.Bye(false).Bytes).(*sip.Request)
			// The callee's requests carry its own tag in From and its own CSeq space.
			if bye.From().Params.GetOr("tag", "") != d.ToTag || bye.To().Params.GetOr("tag", "") != d.FromTag {
				t.Errorf("callee BYE tags From %v To %v", bye.From(), bye.To())
			}
			if bye.Recipient.User != "22447000" || bye.CSeq().SeqNo == inv.CSeq+1 {
				t.Errorf("callee BYE URI %v CSeq %d", bye.Recipient, bye.CSeq().SeqNo)
			}

			referReq := d.Refer(false, "sip:2003@192.0.2.33", &repl)
			refer := mustParse(t, referReq.Bytes).(*sip.Request)
			raw := string(referReq.Bytes)
			want := "<sip:2003@192.0.2.33?Replaces=" + url.QueryEscape(repl.String()) + ">"
			if !strings.Contains(raw, want) || !strings.Contains(want, "%3Bto-tag%3D"+c.ToTag+"%3Bfrom-tag%3D"+c.FromTag) {
				t.Errorf("REFER lacks %s:\n%s", want, raw)
			}
			if compact {
				// sipgo v1.7.3 does not know the compact forms r and b.
				if !strings.Contains(raw, "\r\nr: <") || !strings.Contains(raw, "\r\nb: <sip:1001@192.0.2.20>") {
					t.Errorf("compact REFER:\n%s", raw)
				}
			} else {
				rt := refer.ReferTo()
				if rt == nil {
					t.Fatalf("no Refer-To:\n%s", raw)
				}
				esc := rt.Address.Headers.GetOr("Replaces", "")
				got, err := url.QueryUnescape(esc)
				if err != nil || got != repl.String() {
					t.Errorf("Replaces in Refer-To %q (%v), want %q", got, err, repl.String())
				}
				if h := refer.GetHeader("Referred-By"); h == nil || h.Value() != "<sip:1001@192.0.2.20>" {
					t.Errorf("Referred-By %v", h)
				}
			}
			if r := mustParse(t, d.Response(202, "Accepted", referReq)).(*sip.Response); r.CSeq().MethodName != sip.REFER {
				t.Errorf("202 CSeq %v", r.CSeq())
			}

			notify := mustParse(t, d.Notify(true, "SIP/2.0 200 OK").Bytes).(*sip.Request)
			if notify.GetHeader("Event").Value() != "refer" || string(notify.Body()) != "SIP/2.0 200 OK\r\n" ||
				!strings.HasPrefix(notify.ContentType().Value(), "message/sipfrag") ||
				!strings.HasPrefix(notify.GetHeader("Subscription-State").Value(), "terminated") {
				t.Errorf("NOTIFY:\n%s", notify)
			}
			progress := mustParse(t, d.Notify(true, "SIP/2.0 100 Trying").Bytes).(*sip.Request)
			if !strings.HasPrefix(progress.GetHeader("Subscription-State").Value(), "active") {
				t.Errorf("a 100 sipfrag keeps the subscription active")
			}

			hold := d.ReInvite(false, WithDirection("sendonly"))
			h := mustParse(t, hold.Bytes).(*sip.Request)
			if h.To().Params.GetOr("tag", "") != d.FromTag || !strings.Contains(string(h.Body()), "a=sendonly\r\n") ||
				!strings.Contains(string(h.Body()), "o=1001 ") {
				t.Errorf("hold re-INVITE:\n%s", h)
			}

			dd := newDialog("transfer@198.51.100.10", extCaller(), extension("2003", 33))
			dd.Compact = compact
			rinv := mustParse(t, dd.Invite(WithReplaces(repl), WithReferredBy(receptionist())).Bytes).(*sip.Request)
			if rh := rinv.GetHeader("Replaces"); rh == nil || rh.Value() != repl.String() {
				t.Errorf("Replaces %v, want %s", rh, repl)
			}
		})
	}
}

func TestDialogIPv6AndPadding(t *testing.T) {
	d := newDialog("v6@2001:db8::10", extCaller6(), receptionist6())
	inv := d.Invite(WithMinSize(2500), WithHeader("Subject", "test"))
	if len(inv.Bytes) < 2500 || len(inv.Bytes) > 2510 {
		t.Errorf("padded INVITE is %d bytes, want ~2500", len(inv.Bytes))
	}
	req := mustParse(t, inv.Bytes).(*sip.Request)
	if req.Recipient.Host != "2001:db8::20" && req.Recipient.Host != "[2001:db8::20]" {
		t.Errorf("Request-URI host %q", req.Recipient.Host)
	}
	if !strings.Contains(string(req.Body()), "c=IN IP6 2001:db8:100::10\r\n") {
		t.Errorf("IPv6 SDP:\n%s", req.Body())
	}
	if req.GetHeader("Subject") == nil {
		t.Errorf("WithHeader lost")
	}
}
