package pcapgen

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// oracle derives the call records from the parsed SIP messages with the
// simplest rules that fit the scenarios, so that each scenario's Expect
// can be checked against the packets it actually wrote.
type oracle struct {
	legs  []*Expect
	byID  map[string]*Expect
	cseq  map[string]uint32 // initial INVITE's CSeq per Call-ID
	ended map[string]bool
}

func newOracle() *oracle {
	return &oracle{byID: map[string]*Expect{}, cseq: map[string]uint32{}, ended: map[string]bool{}}
}

func userOf(s string) string {
	s = strings.TrimPrefix(strings.Trim(s, "<>"), "sip:")
	u, _, _ := strings.Cut(s, "@")
	return u
}

func (o *oracle) feed(t *testing.T, m sipMsg) {
	t.Helper()
	at := m.at
	switch msg := m.msg.(type) {
	case *sip.Request:
		id := msg.CallID().Value()
		e := o.byID[id]
		switch msg.Method {
		case sip.INVITE:
			if e != nil || msg.To().Params.Has("tag") {
				return // retransmission or re-INVITE
			}
			tr := "udp"
			if m.dg.tcp {
				tr = "tcp"
			}
			e = &Expect{
				CallID: id, From: msg.From().Address.User, To: msg.To().Address.User,
				FromName: msg.From().DisplayName, InviteAt: at, EndReason: "unknown", Transport: tr,
			}
			if h := msg.GetHeader("Referred-By"); h != nil {
				e.ReferredBy = userOf(h.Value())
			}
			if h := msg.GetHeader("Replaces"); h != nil {
				e.ReplacesCallID, _, _ = strings.Cut(h.Value(), ";")
			}
			o.byID[id], o.cseq[id] = e, msg.CSeq().SeqNo
			o.legs = append(o.legs, e)
		case sip.CANCEL:
			o.end(e, at, "abandoned", "caller")
		case sip.BYE:
			by := "callee"
			if msg.From().Params.GetOr("tag", "") == tagFor(id, "from") {
				by = "caller"
			}
			o.end(e, at, "completed", by)
		case sip.REFER:
			rt := msg.ReferTo()
			if rt == nil {
				t.Fatalf("REFER without a readable Refer-To:\n%s", m.raw)
			}
			tr := &ExpectTransfer{Kind: "blind", RequestedAt: at, Target: rt.Address.User}
			if esc := rt.Address.Headers.GetOr("Replaces", ""); esc != "" {
				r, err := url.QueryUnescape(esc)
				if err != nil {
					t.Fatalf("Replaces %q: %v", esc, err)
				}
				tr.Kind = "attended"
				tr.ReplacesCallID, _, _ = strings.Cut(r, ";")
			}
			e.Transfer = tr
		case sip.NOTIFY:
			f := strings.Fields(string(msg.Body()))
			if e.Transfer != nil && len(f) > 1 && f[1] >= "200" {
				e.Transfer.Result, e.Transfer.CompletedAt = f[1], ptr(at)
			}
		}
	case *sip.Response:
		id := msg.CallID().Value()
		e := o.byID[id]
		cseq := msg.CSeq()
		if cseq.MethodName == sip.REFER && msg.StatusCode == 202 && e.Transfer != nil && e.Transfer.AcceptedAt == nil {
			e.Transfer.AcceptedAt = ptr(at)
		}
		if cseq.MethodName != sip.INVITE || cseq.SeqNo != o.cseq[id] {
			return
		}
		switch code := msg.StatusCode; {
		case code == 180 && e.RingingAt == nil:
			e.RingingAt = ptr(at)
		case code == 200 && e.AnsweredAt == nil:
			e.AnsweredAt = ptr(at)
		case code >= 300 && code < 400:
			if !o.ended[id] {
				e.Transfer = &ExpectTransfer{Kind: "redirect", RequestedAt: at, Target: msg.Contact().Address.User, Result: strconv.Itoa(code)}
			}
			o.end(e, at, "redirected", "")
		case code == 486:
			o.end(e, at, "busy", "")
		case code == 603:
			o.end(e, at, "rejected", "")
		}
	}
}

func (o *oracle) end(e *Expect, at time.Time, reason, by string) {
	if e == nil || o.ended[e.CallID] {
		return
	}
	o.ended[e.CallID] = true
	e.EndedAt, e.EndReason, e.HangupBy = ptr(at), reason, by
}

// result links transfers to the legs they created and returns the records.
func (o *oracle) result() []Expect {
	out := make([]Expect, 0, len(o.legs))
	for _, e := range o.legs {
		if tr := e.Transfer; tr != nil && tr.Kind != "redirect" {
			for _, cand := range o.legs {
				if cand.InviteAt.After(tr.RequestedAt) && cand.To == tr.Target &&
					cand.ReplacesCallID == tr.ReplacesCallID && cand.ReferredBy != "" {
					tr.TargetCallID = cand.CallID
					break
				}
			}
		}
		out = append(out, *e)
	}
	return out
}
