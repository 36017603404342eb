package pcapgen

import (
	"fmt"
	"net/netip"
	"time"
)

// Scenario is a named call scenario: Write writes its packets and returns
// what a correct tap must report, one Expect per call leg, in order of
// InviteAt.
type Scenario struct {
	Name        string
	Description string
	Write       func(w *Writer) ([]Expect, error)
}

// BaseTime returns the reference time of the scenarios, 2026-03-02T14:00:00Z.
// Scenario k starts at BaseTime + k*10 min + 123456789 ns, so scenarios
// never overlap and every timestamp has nanoseconds.
func BaseTime() time.Time { return time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC) }

const (
	scenarioSpacing = 10 * time.Minute
	scenarioOffset  = 123456789 * time.Nanosecond

	// Steps of a call, odd on purpose so that every nanosecond counts.
	tryingDelay  = 12345678 * time.Nanosecond
	ringingDelay = 87654321 * time.Nanosecond
	ringTime     = 9500 * time.Millisecond
	ackDelay     = 31415926 * time.Nanosecond
	mediaDelay   = 20 * time.Millisecond
	talkTime     = 3 * time.Second
	byeDelay     = 500 * time.Millisecond
	okDelay      = 8765432 * time.Nanosecond
	fragGap      = time.Millisecond
)

func scenarioStart(k int) time.Time {
	return BaseTime().Add(time.Duration(k)*scenarioSpacing + scenarioOffset)
}

// Addresses of the scenarios (RFC 5737 and RFC 3849 documentation ranges).
func extCaller() Party {
	return Party{User: "22447000", Name: "Ana Pérez", Addr: ap("198.51.100.10:5060"), Media: ap("198.51.100.10:40000")}
}

func receptionist() Party {
	return Party{User: "1001", Name: "Recepción 1", Addr: ap("192.0.2.20:5060"), Media: ap("192.0.2.20:50000")}
}

func extension(user string, octet int) Party {
	ip := netip.AddrFrom4([4]byte{192, 0, 2, byte(octet)})
	return Party{
		User: user, Name: "Ext " + user,
		Addr:  netip.AddrPortFrom(ip, 5060),
		Media: netip.AddrPortFrom(ip, uint16(52000+2*octet)), //nolint:gosec // G115: small
	}
}

func extCaller6() Party {
	return Party{User: "22447000", Name: "Ana Pérez", Addr: ap("[2001:db8:100::10]:5060"), Media: ap("[2001:db8:100::10]:40000")}
}

func receptionist6() Party {
	return Party{User: "1001", Name: "Recepción 1", Addr: ap("[2001:db8::20]:5060"), Media: ap("[2001:db8::20]:50000")}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// Scenarios returns the library of call scenarios, each with its own
// Call-IDs and start time.
func Scenarios() []Scenario {
	list := []struct {
		name, desc string
		fn         func(w *Writer, name string, t0 time.Time) ([]Expect, error)
	}{
		{"answered", "INVITE, 100, 180, 9.5 s ring, 200 with SDP, ACK, RTP both ways, BYE from callee", answeredPlain},
		{"answered-retransmissions", "answered call with the INVITE, the 180 and the 200 retransmitted", answeredRetrans},
		{"abandoned", "CANCEL after 30 s of ringing, 200, 487, ACK", abandoned},
		{"busy", "INVITE, 100, 486 Busy Here, ACK", finalError(486, "Busy Here", false, "busy")},
		{"rejected", "INVITE, 100, 180, 603 Decline, ACK", finalError(603, "Decline", true, "rejected")},
		{"redirect", "INVITE, 100, 180, 302 Moved Temporarily to 2001, ACK", redirect},
		{"blind-transfer", "answered call transferred by REFER to 2002; new leg with Referred-By", blindTransfer},
		{"attended-transfer", "hold, consultation call to 2003, REFER with Replaces, replacing INVITE", attendedTransfer},
		{"fragmented-invite", "answered call whose 2.5 kB INVITE is split into two IPv4 fragments 1 ms apart", answeredVariant(variant{minSize: 2500, gap: fragGap})},
		{"tcp-split", "answered call over SIP/TCP: INVITE in 3 segments, 100+180 in one, CRLF keep-alives", tcpSplit},
		{"vlan", "answered call on 802.1Q VLAN 100", answeredVariant(variant{vlans: []uint16{100}})},
		{"qinq", "answered call on QinQ, outer VLAN 200, inner VLAN 100", answeredVariant(variant{vlans: []uint16{200, 100}})},
		{"ipv6", "answered call over IPv6", answeredVariant(variant{ipv6: true})},
		{"ipv6-fragmented", "answered call over IPv6 with the INVITE in two fragments 1 ms apart", answeredVariant(variant{ipv6: true, minSize: 2500, gap: fragGap})},
		{"compact", "answered call with compact header forms", answeredVariant(variant{compact: true})},
		{"no-bye", "answered call that never ends", answeredVariant(variant{noBye: true})},
		{"hold-refused", "answered call with RTP; a hold re-INVITE refused with 488, a second accepted, a third resuming", holdRefused},
	}
	out := make([]Scenario, 0, len(list))
	for k, s := range list {
		t0 := scenarioStart(k)
		out = append(out, Scenario{
			Name: s.name, Description: s.desc,
			Write: func(w *Writer) ([]Expect, error) {
				exp, err := s.fn(w, s.name, t0)
				if err != nil {
					return nil, fmt.Errorf("scenario %s: %w", s.name, err)
				}
				return exp, nil
			},
		})
	}
	return out
}

// Lookup returns the scenario called name.
func Lookup(name string) (Scenario, error) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, nil
		}
	}
	return Scenario{}, fmt.Errorf("%w: %q", ErrScenario, name)
}

type variant struct {
	ipv6, compact, noBye bool
	vlans                []uint16
	minSize              int
	gap                  time.Duration
}

func answeredPlain(w *Writer, name string, t0 time.Time) ([]Expect, error) {
	return answeredVariant(variant{})(w, name, t0)
}

// answeredVariant writes the answered call with the changes of v.
func answeredVariant(v variant) func(w *Writer, name string, t0 time.Time) ([]Expect, error) {
	return func(w *Writer, name string, t0 time.Time) ([]Expect, error) {
		caller, callee := extCaller(), receptionist()
		if v.ipv6 {
			caller, callee = extCaller6(), receptionist6()
		}
		d := newDialog(callIDFor(name, "a"), caller, callee)
		d.Compact = v.compact
		var pkt []PacketOption
		if len(v.vlans) > 0 {
			pkt = append(pkt, WithVLAN(v.vlans...))
		}
		l := newLeg(w, d, pkt...)
		var invOpts []MsgOption
		if v.minSize > 0 {
			invOpts = append(invOpts, WithMinSize(v.minSize))
		}
		inv := d.Invite(invOpts...)
		inviteAt := t0
		if v.gap > 0 {
			l.send(t0, true, inv.Bytes, WithFragmentGap(v.gap))
			n := FragmentCount(len(inv.Bytes), v.ipv6, w.cfg.mtu)
			inviteAt = t0.Add(time.Duration(n-1) * v.gap)
		} else {
			l.send(t0, true, inv.Bytes)
		}
		e := expectFor(d, inviteAt)
		l.answer(&e, inv, inviteAt)
		if !v.noBye {
			l.hangup(&e, e.AnsweredAt.Add(ackDelay+mediaDelay+talkTime+byeDelay), false)
		}
		return []Expect{e}, l.err
	}
}

// answer writes 100, 180, 200 (after ringTime), ACK and RTP, from at.
func (l *leg) answer(e *Expect, inv Request, at time.Time) {
	d := l.d
	trying := at.Add(tryingDelay)
	l.send(trying, false, d.Response(100, "Trying", inv))
	ring := trying.Add(ringingDelay)
	l.send(ring, false, d.Response(180, "Ringing", inv))
	ans := ring.Add(ringTime)
	l.send(ans, false, d.Response(200, "OK", inv))
	l.send(ans.Add(ackDelay), true, d.Ack(inv, 200))
	l.media(ans.Add(ackDelay+mediaDelay), talkTime)
	e.RingingAt, e.AnsweredAt = ptr(ring), ptr(ans)
}

// hangup writes a BYE at t and its 200 and completes e.
func (l *leg) hangup(e *Expect, t time.Time, byCaller bool) {
	bye := l.d.Bye(byCaller)
	l.send(t, byCaller, bye.Bytes)
	l.send(t.Add(okDelay), !byCaller, l.d.Response(200, "OK", bye))
	e.EndedAt, e.EndReason, e.HangupBy = ptr(t), "completed", "callee"
	if byCaller {
		e.HangupBy = "caller"
	}
}

func answeredRetrans(w *Writer, name string, t0 time.Time) ([]Expect, error) {
	d := newDialog(callIDFor(name, "a"), extCaller(), receptionist())
	l := newLeg(w, d)
	inv := d.Invite()
	l.send(t0, true, inv.Bytes)
	// RFC 3261 17.1.1.2: Timer A, first retransmission after T1 = 500 ms.
	l.send(t0.Add(500*time.Millisecond), true, inv.Bytes)
	trying := t0.Add(500*time.Millisecond + tryingDelay)
	l.send(trying, false, d.Response(100, "Trying", inv))
	ring := trying.Add(ringingDelay)
	ringing := d.Response(180, "Ringing", inv)
	l.send(ring, false, ringing)
	l.send(ring.Add(time.Second), false, ringing)
	ans := ring.Add(ringTime)
	ok := d.Response(200, "OK", inv)
	l.send(ans, false, ok)
	// RFC 3261 13.3.1.4: the UAS retransmits the 2xx until the ACK comes.
	l.send(ans.Add(500*time.Millisecond), false, ok)
	ack := ans.Add(500*time.Millisecond + ackDelay)
	l.send(ack, true, d.Ack(inv, 200))
	l.media(ack.Add(mediaDelay), talkTime)
	e := expectFor(d, t0)
	e.RingingAt, e.AnsweredAt = ptr(ring), ptr(ans)
	l.hangup(&e, ack.Add(mediaDelay+talkTime+byeDelay), false)
	return []Expect{e}, l.err
}

func abandoned(w *Writer, name string, t0 time.Time) ([]Expect, error) {
	d := newDialog(callIDFor(name, "a"), extCaller(), receptionist())
	l := newLeg(w, d)
	inv := d.Invite()
	l.send(t0, true, inv.Bytes)
	trying := t0.Add(tryingDelay)
	l.send(trying, false, d.Response(100, "Trying", inv))
	ring := trying.Add(ringingDelay)
	l.send(ring, false, d.Response(180, "Ringing", inv))
	cancelAt := ring.Add(30 * time.Second)
	cancel := d.Cancel(inv)
	l.send(cancelAt, true, cancel.Bytes)
	l.send(cancelAt.Add(okDelay), false, d.Response(200, "OK", cancel))
	// RFC 3261 9.2: the INVITE then ends with 487, which the caller ACKs.
	l.send(cancelAt.Add(2*okDelay), false, d.Response(487, "Request Terminated", inv))
	l.send(cancelAt.Add(2*okDelay+ackDelay), true, d.Ack(inv, 487))
	e := expectFor(d, t0)
	e.RingingAt, e.EndedAt = ptr(ring), ptr(cancelAt)
	e.EndReason, e.HangupBy = "abandoned", "caller"
	return []Expect{e}, l.err
}

// finalError writes a call refused with code, after a 180 when ring.
func finalError(code int, reason string, ring bool, endReason string) func(w *Writer, name string, t0 time.Time) ([]Expect, error) {
	return func(w *Writer, name string, t0 time.Time) ([]Expect, error) {
		d := newDialog(callIDFor(name, "a"), extCaller(), receptionist())
		l := newLeg(w, d)
		inv := d.Invite()
		l.send(t0, true, inv.Bytes)
		trying := t0.Add(tryingDelay)
		l.send(trying, false, d.Response(100, "Trying", inv))
		e := expectFor(d, t0)
		final := trying.Add(1200 * time.Millisecond)
		if ring {
			ringAt := trying.Add(ringingDelay)
			l.send(ringAt, false, d.Response(180, "Ringing", inv))
			e.RingingAt = ptr(ringAt)
			final = ringAt.Add(4300 * time.Millisecond)
		}
		l.send(final, false, d.Response(code, reason, inv))
		l.send(final.Add(ackDelay), true, d.Ack(inv, code))
		e.EndedAt, e.EndReason = ptr(final), endReason
		return []Expect{e}, l.err
	}
}

func redirect(w *Writer, name string, t0 time.Time) ([]Expect, error) {
	target := extension("2001", 31)
	d := newDialog(callIDFor(name, "a"), extCaller(), receptionist())
	l := newLeg(w, d)
	inv := d.Invite()
	l.send(t0, true, inv.Bytes)
	trying := t0.Add(tryingDelay)
	l.send(trying, false, d.Response(100, "Trying", inv))
	ring := trying.Add(ringingDelay)
	l.send(ring, false, d.Response(180, "Ringing", inv))
	moved := ring.Add(2500 * time.Millisecond)
	l.send(moved, false, d.Response(302, "Moved Temporarily", inv, WithContact(target.uri(""))))
	l.send(moved.Add(ackDelay), true, d.Ack(inv, 302))
	e := expectFor(d, t0)
	e.RingingAt, e.EndedAt, e.EndReason = ptr(ring), ptr(moved), "redirected"
	e.Transfer = &ExpectTransfer{Kind: "redirect", RequestedAt: moved, Target: target.User, Result: "302"}
	return []Expect{e}, l.err
}
