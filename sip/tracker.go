package sip

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Packet says where and when a SIP message was captured.
type Packet struct {
	// Time is the capture time of the packet that carried (or, for a
	// reassembled message, completed) the message.
	Time      time.Time
	Src, Dst  netip.AddrPort
	Transport string
	VLAN      uint16
	// Raw is the message as captured (for TCP, the framed message), kept
	// in the leg's ladder. It is valid only during Handle: the tracker
	// copies what it keeps.
	Raw []byte
}

// Receptionist is a switchboard operator, recognised by extension (user
// part of From/To/Request-URI) and/or by the IP address of the phone.
type Receptionist struct {
	Name       string
	Extensions []string
	IPs        []netip.Addr
}

// TrackerConfig tunes the Tracker. Zero fields take the defaults of
// DefaultTrackerConfig.
type TrackerConfig struct {
	Ring          RingPolicy
	Receptionists []Receptionist
	// SetupTimeout closes a leg not yet answered that has seen no message
	// for this long.
	SetupTimeout time.Duration
	// IdleTimeout closes an answered leg that has seen no message for this
	// long (a BYE we never saw).
	IdleTimeout time.Duration
	// Linger keeps an ended leg open to absorb its trailing messages
	// (487, ACK, 200 to BYE, NOTIFY) before the record is emitted.
	Linger time.Duration
	// TransferWindow is how long after a REFER a new INVITE to the
	// Refer-To user is linked to it.
	TransferWindow time.Duration
	// MaxCalls bounds the number of open legs, so a flood cannot grow
	// memory without bound. When it is reached, a new INVITE evicts the
	// oldest leg that never rang (a flooding source's first); when every
	// open leg rang, the INVITE is dropped and counted (issue 9 §2).
	MaxCalls int
	// MaxMessageBytes bounds the memory held by the SIP messages kept for
	// the ladders of all open legs (each leg is bounded on its own by
	// MaxLegMessages and MaxLegMessageBytes); past it, messages are
	// counted in the record's MessagesDropped, so a flood of in-dialog
	// messages on many legs cannot exhaust a small board.
	MaxMessageBytes int
	// FloodRate is the rate of new INVITEs per second from one address
	// beyond which it is taken for a flood (DefaultFloodRate): its legs
	// that never ring are evicted first when MaxCalls legs are open and
	// are counted in aggregates rather than stored as records.
	FloodRate float64
	// MaxTombs bounds the Call-IDs of closed legs remembered to absorb
	// their retransmissions (default 2·MaxCalls).
	MaxTombs int
	// AggregatePeriod is the capture time one Aggregate covers
	// (DefaultAggregatePeriod).
	AggregatePeriod time.Duration
	// OnFlood, if set, is called when a source starts and stops flooding.
	OnFlood func(FloodEvent)
	// OnAggregate, if set, is called with the aggregates of each period
	// that counted legs, when it ends (and at Flush).
	OnAggregate func([]Aggregate)
	// OnEvent, if set, is called with every change of a leg's state (for
	// the alarm panel, the recorder, metrics).
	OnEvent func(Event)
	// OnClosed, if set, is called once per leg with its final record, when
	// the leg is closed (emit may have seen earlier versions).
	OnClosed func(Call)
	// Annotate, if set, may add to a record (its recording) each time one
	// is taken to be emitted; now is the capture clock.
	Annotate func(c *Call, now time.Time)
}

// DefaultTrackerConfig returns the defaults.
func DefaultTrackerConfig() TrackerConfig {
	return TrackerConfig{
		Ring:           DefaultRingPolicy(),
		SetupTimeout:   5 * time.Minute,
		IdleTimeout:    4 * time.Hour,
		Linger:         4 * time.Second,
		TransferWindow: 30 * time.Second,
		MaxCalls:       20000,
		// 20,000 legs of one ~1.4 KB INVITE each (a flood), or ~1,000
		// legs with full ladders.
		MaxMessageBytes: 32 << 20,
		FloodRate:       DefaultFloodRate,
		AggregatePeriod: DefaultAggregatePeriod,
	}
}

// tombstoneTTL is how long the Call-ID of an emitted leg is remembered so
// that its stray retransmissions do not open a new leg: 64·T1, the longest
// a UDP transaction retransmits (RFC 3261 §17.1.1.2 Timer B).
const tombstoneTTL = 32 * time.Second

// maxSeenKeys bounds the per-leg memory used to count retransmissions.
const maxSeenKeys = 32

// TrackerStats counts what the tracker did with the messages it got.
type TrackerStats struct {
	Messages        uint64
	LegsOpened      uint64
	LegsEmitted     uint64
	Retransmissions uint64
	// Late counts messages for legs already emitted.
	Late uint64
	// Orphans counts in-dialog messages for a Call-ID never seen offered
	// (the capture started mid-call).
	Orphans uint64
	// DroppedFull counts INVITEs refused because MaxCalls legs were open
	// and none could be evicted.
	DroppedFull uint64
	TimedOut    uint64
	Open        int
	// MessagesDropped counts messages applied to a leg but not kept in
	// its ladder (see Call.MessagesDropped).
	MessagesDropped uint64
	// MessageBytes is the memory charged for the messages kept by the
	// open legs, at most TrackerConfig.MaxMessageBytes.
	MessageBytes int
	// Evicted counts legs that never rang, closed early to make room for
	// a new INVITE when MaxCalls legs were open.
	Evicted uint64
	// Aggregated counts legs counted in an Aggregate instead of a record.
	Aggregated uint64
	// Floods counts the floods detected; FloodSources is the number of
	// addresses flooding now; FloodLegs the open legs they offered that
	// never rang.
	Floods       uint64
	FloodSources int
	FloodLegs    int
	// Unrung is the open legs that had no provisional response yet;
	// Sources the addresses with open legs; Tombs the Call-IDs of closed
	// legs remembered.
	Unrung  int
	Sources int
	Tombs   int
}

// Tracker follows every call leg (one per Call-ID) through the states of
// domain.md §1.2 and emits its record as soon as the leg ends; if trailing
// messages (a NOTIFY, the new leg of a transfer) change it before the leg
// is closed, the record is emitted again with the same ID, so consumers
// treat records as upserts by ID. It is driven
// only by capture times: Handle for each message, Advance as the capture
// clock moves. Not safe for concurrent use.
type Tracker struct {
	cfg   TrackerConfig
	emit  func(Call)
	legs  map[string]*leg
	tombs *tombs
	stats TrackerStats
	// msgBytes is what the open legs' ladders are charged in total.
	msgBytes int
	// due orders the open legs by deadline.
	due deadlines
	// xfer indexes the legs whose transfer waits for its new leg.
	xfer xferIndex
	// sources accounts the INVITEs per address; flooding are those
	// above FloodRate now.
	sources  map[netip.Addr]*source
	flooding []*source
	// unrung and floodLegs list the legs that never rang, oldest first:
	// the candidates for eviction.
	unrung, floodLegs legList
	aggs              aggregator
	// seq numbers the legs in the order they were opened.
	seq uint64
}

type leg struct {
	call       Call
	callerTag  string
	callerAddr netip.AddrPort
	// log is the leg's ladder: the messages applied to it.
	log      legLog
	lastSeen time.Time
	// challengedAt is set by a 401/407 to the INVITE: the UAC normally
	// sends the INVITE again with credentials (RFC 3261 §22.2).
	challengedAt *time.Time
	referFrom    string
	byeAt        *time.Time
	seen         []msgKey
	// emitted is the record emitted when the leg ended, so that a finished
	// call reaches the store at once and is re-emitted only if trailing
	// messages changed it. Its Messages are left out: an ended leg need
	// not hold its ladder twice.
	emitted *Call

	// due is the leg's deadline, seq its opening order.
	due time.Time
	seq uint64
	// xkeys are the keys the leg is indexed under in Tracker.xfer.
	xkeys []xferKey
	// src is the accounting of the address that sent the INVITE.
	src   *source
	links [nLists]link

	// The small fields together, so the leg packs into the allocator's
	// 768-byte class (issue 12: it took 1,024).
	inviteCSeq, referCSeq uint32
	// hidx is the leg's place in the heap (-1: none).
	hidx int32
	// emittedMsgs is how many messages the emitted record carried: the
	// final record is stored again when trailing messages (the 200 to the
	// BYE, an ACK) lengthened the ladder, so the store keeps it whole.
	emittedMsgs  uint16
	challenge    uint16
	ended        bool
	cancelled    bool
	transferDone bool
	// flood says the INVITE's source was flooding when the leg was
	// offered.
	flood bool
	on    [nLists]bool
	// offer is the SDP offer of an in-dialog INVITE or UPDATE still waiting
	// for its final response (offer.go).
	offer pendingOffer
}

// msgKey tells a message of a leg from another: its CSeq, status and a
// hash of its method and top Via branch (RFC 3261 §17.2.3: a
// retransmission repeats them). Hashed, a key is 16 bytes and keeps no
// string of the parsed message alive; two different messages of one leg
// share a key with a chance of 2⁻⁶⁴.
type msgKey struct {
	h      uint64
	cseq   uint32
	status int32
}

// keyOf returns m's key: FNV-1a (deterministic, so live capture and
// replay count the same retransmissions) over the method, a separator
// no method contains, and the branch.
func keyOf(m *Message) msgKey {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := range len(m.Method) {
		h = (h ^ uint64(m.Method[i])) * prime
	}
	h = (h ^ ' ') * prime
	for i := range len(m.Branch) {
		h = (h ^ uint64(m.Branch[i])) * prime
	}
	return msgKey{h: h, cseq: m.CSeq, status: int32(min(max(m.StatusCode, math.MinInt32), math.MaxInt32))} //nolint:gosec // G115: clamped
}

// NewTracker returns a Tracker that calls emit with each finished leg.
func NewTracker(cfg TrackerConfig, emit func(Call)) *Tracker {
	def := DefaultTrackerConfig()
	if cfg.Ring.MaxRings == 0 {
		cfg.Ring = def.Ring
	}
	if cfg.SetupTimeout <= 0 {
		cfg.SetupTimeout = def.SetupTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = def.IdleTimeout
	}
	if cfg.Linger <= 0 {
		cfg.Linger = def.Linger
	}
	if cfg.TransferWindow <= 0 {
		cfg.TransferWindow = def.TransferWindow
	}
	if cfg.MaxCalls <= 0 {
		cfg.MaxCalls = def.MaxCalls
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = def.MaxMessageBytes
	}
	if cfg.FloodRate <= 0 {
		cfg.FloodRate = def.FloodRate
	}
	if cfg.MaxTombs <= 0 {
		cfg.MaxTombs = 2 * cfg.MaxCalls
	}
	if cfg.AggregatePeriod <= 0 {
		cfg.AggregatePeriod = def.AggregatePeriod
	}
	return &Tracker{
		cfg: cfg, emit: emit,
		legs:    make(map[string]*leg),
		tombs:   newTombs(cfg.MaxTombs),
		xfer:    make(xferIndex),
		sources: make(map[netip.Addr]*source),
		unrung:  legList{k: listUnrung}, floodLegs: legList{k: listFlood},
		aggs: aggregator{period: cfg.AggregatePeriod},
	}
}

// Stats returns the counters.
func (t *Tracker) Stats() TrackerStats {
	s := t.stats
	s.Open = len(t.legs)
	s.MessageBytes = t.msgBytes
	s.FloodSources = len(t.flooding)
	s.FloodLegs = t.floodLegs.n
	s.Unrung = t.unrung.n
	s.Sources = len(t.sources)
	s.Tombs = t.tombs.len()
	return s
}

// Handle applies one message captured at p.Time.
func (t *Tracker) Handle(m *Message, p Packet) {
	t.stats.Messages++
	l := t.legs[m.CallID]
	if l == nil {
		if !(m.IsRequest && m.Method == "INVITE" && m.ToTag == "") {
			t.noLeg(m)
			return
		}
		if tb, ok := t.tombs.get(m.CallID); ok && m.CSeq <= tb.cseq {
			t.stats.Late++
			return
		}
		src := t.sourceFor(p.Src.Addr())
		t.countInvite(src, p.Time)
		if len(t.legs) >= t.cfg.MaxCalls && !t.makeRoom(src, p.Time) {
			t.stats.DroppedFull++
			t.forget(src)
			return
		}
		l = t.open(m, p, src)
	} else if l.ended && m.IsRequest && m.Method == "INVITE" && m.ToTag == "" && m.CSeq > l.inviteCSeq {
		// A new attempt on the Call-ID of a leg that already failed or was
		// redirected (RFC 3261 §8.1.3.4): that leg is over, this is a new one.
		src := t.sourceFor(p.Src.Addr())
		t.countInvite(src, p.Time)
		t.finish(l, p.Time)
		l = t.open(m, p, src)
	} else if l.retransmission(m) {
		t.stats.Retransmissions++
		l.call.Retransmissions++
		t.keep(l, m, p, true)
		return
	}
	t.keep(l, m, p, false)
	l.lastSeen = p.Time
	wasEnded := l.ended
	// The SDP first: a 200's answer must be known when the answer starts
	// the recording.
	t.media(l, m, p)
	if m.IsRequest {
		t.request(l, m, p)
	} else {
		t.response(l, m, p)
	}
	if l.ended && !wasEnded {
		t.event(EventEnded, l, p.Time)
	}
	t.rang(l)
	if l.ended && l.emitted == nil && !t.mayAggregate(l) {
		c := t.record(l, p.Time)
		e := c
		e.Messages = nil
		l.emitted = &e
		l.emittedMsgs = uint16(len(c.Messages)) //nolint:gosec // G115: ≤ MaxLegMessages
		t.emit(c)
	}
	if l.call.Transfer != nil || len(l.xkeys) > 0 {
		t.xfer.reindex(l)
	}
	t.schedule(l)
}

func (t *Tracker) noLeg(m *Message) {
	if _, ok := t.tombs.get(m.CallID); ok {
		t.stats.Late++
		return
	}
	if m.ToTag != "" {
		t.stats.Orphans++
	}
}

func (l *leg) retransmission(m *Message) bool {
	k := keyOf(m)
	if slices.Contains(l.seen, k) {
		return true
	}
	if len(l.seen) < maxSeenKeys {
		l.seen = append(l.seen, k)
	}
	return false
}

func (t *Tracker) open(m *Message, p Packet, src *source) *leg {
	t.stats.LegsOpened++
	t.seq++
	to := m.ToUser
	if to == "" {
		to = m.RequestUser
	}
	callID, from, name, tag, referredBy := m.CallID, m.FromUser, m.FromName, m.FromTag, m.ReferredByUser
	var replaces string
	if m.Replaces != nil {
		replaces = m.Replaces.CallID
	}
	own(&callID, &from, &to, &name, &tag, &referredBy, &replaces)
	l := &leg{
		hidx:       -1,
		seq:        t.seq,
		src:        src,
		flood:      src.flooding,
		callerTag:  tag,
		callerAddr: p.Src,
		inviteCSeq: m.CSeq,
		call: Call{
			ID:             RecordID(callID, p.Time),
			CallID:         callID,
			From:           from,
			To:             to,
			FromName:       name,
			InviteAt:       p.Time,
			EndReason:      EndUnknown,
			RingSource:     "invite",
			Transport:      intern(p.Transport),
			SrcIP:          p.Src.Addr().String(),
			DstIP:          p.Dst.Addr().String(),
			VLAN:           p.VLAN,
			ReferredBy:     referredBy,
			ReplacesCallID: replaces,
		},
	}
	l.call.Direction, l.call.Operator = t.classify(m, p)
	l.seen = append(l.seen, keyOf(m))
	t.legs[callID] = l
	// Back in the table if closing a leg to make room for this one made
	// it forget the source.
	t.sources[src.addr] = src
	src.legs++
	src.unrung++
	t.unrung.push(l)
	if l.flood {
		t.floodLegs.push(l)
	}
	t.linkTransfer(l, m, p.Time)
	t.event(EventOffered, l, p.Time)
	return l
}

func (t *Tracker) event(kind EventKind, l *leg, at time.Time) {
	if t.cfg.OnEvent != nil {
		t.cfg.OnEvent(Event{Kind: kind, At: at, Call: &l.call})
	}
}

// media reports an SDP body carried by a message of the leg, and the
// refusal of an offer made in the dialog (offer.go).
func (t *Tracker) media(l *leg, m *Message, p Packet) {
	if t.cfg.OnEvent == nil {
		return
	}
	hasSDP := len(m.Body) > 0 && strings.HasPrefix(m.ContentType, "application/sdp")
	if !hasSDP && !l.offer.set {
		return // most messages: no SDP, no offer waiting
	}
	fromCaller := l.sentByCaller(m, p)
	if refused, byCaller := l.offer.settle(m, fromCaller); refused {
		t.cfg.OnEvent(Event{Kind: EventOfferRefused, At: p.Time, Call: &l.call, FromCaller: byCaller})
	}
	if !hasSDP {
		return
	}
	if m.IsRequest {
		l.offer.made(m, l.inviteCSeq, fromCaller)
	}
	t.cfg.OnEvent(Event{Kind: EventMedia, At: p.Time, Call: &l.call, SDP: m.Body, FromCaller: fromCaller,
		Early: !m.IsRequest && m.StatusCode < 200})
}

// RecordID returns the stable id of the record of a leg: the INVITE time
// (sortable) and a hash of the Call-ID, so live capture and replay of the
// same packets give the same id.
func RecordID(callID string, inviteAt time.Time) string {
	h := sha256.Sum256([]byte(callID))
	return inviteAt.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(h[:6])
}

func (t *Tracker) classify(m *Message, p Packet) (Direction, string) {
	if len(t.cfg.Receptionists) == 0 {
		return DirectionUnknown, ""
	}
	callee := t.receptionist(p.Dst.Addr(), m.RequestUser, m.ToUser)
	caller := t.receptionist(p.Src.Addr(), m.FromUser)
	switch {
	case callee != nil && caller != nil:
		return DirectionInternal, callee.Name
	case callee != nil:
		return DirectionInbound, callee.Name
	case caller != nil:
		return DirectionOutbound, caller.Name
	}
	return DirectionUnknown, ""
}

func (t *Tracker) receptionist(ip netip.Addr, users ...string) *Receptionist {
	for i := range t.cfg.Receptionists {
		r := &t.cfg.Receptionists[i]
		if ip.IsValid() && slices.Contains(r.IPs, ip.Unmap()) {
			return r
		}
		for _, u := range users {
			if u != "" && slices.Contains(r.Extensions, u) {
				return r
			}
		}
	}
	return nil
}

func (t *Tracker) request(l *leg, m *Message, p Packet) {
	at := p.Time
	switch m.Method {
	case "INVITE":
		if m.ToTag != "" {
			l.call.ReInvites++
			return
		}
		// A new initial INVITE on the same Call-ID: the retry after an
		// authentication challenge (RFC 3261 §22.2), or a new attempt
		// after a redirect (§8.1.3.4).
		if m.CSeq > l.inviteCSeq {
			l.inviteCSeq = m.CSeq
			l.challengedAt = nil
		}
	case "CANCEL":
		// RFC 3261 §9.1: CANCEL has the INVITE's CSeq number.
		if l.ended || l.call.AnsweredAt != nil {
			return
		}
		l.cancelled = true
		t.end(l, at, EndAbandoned, "cancel", "caller")
	case "BYE":
		if l.byeAt == nil {
			l.byeAt = &at
		}
		if l.ended {
			return
		}
		by := "callee"
		if m.FromTag == l.callerTag {
			by = "caller"
		}
		switch {
		case l.call.AnsweredAt != nil:
			t.end(l, at, EndCompleted, "bye", by)
		case by == "caller":
			// RFC 3261 §15: the caller may BYE an early dialog; for the
			// switchboard it is the caller giving up.
			l.cancelled = true
			t.end(l, at, EndAbandoned, "bye", by)
		}
	case "REFER":
		kind := "blind"
		replaces := ""
		if m.ReferReplaces != nil {
			kind = "attended"
			replaces = m.ReferReplaces.CallID
		}
		target := m.ReferToUser
		l.referCSeq = m.CSeq
		// RFC 3892: the transferee copies the REFER's Referred-By (or, when
		// absent, names the transferor) into the new INVITE.
		referFrom := m.ReferredByUser
		if referFrom == "" {
			referFrom = m.FromUser
		}
		own(&target, &replaces, &referFrom)
		l.call.Transfer = &Transfer{Kind: kind, RequestedAt: at, Target: target, ReplacesCallID: replaces}
		l.referFrom = referFrom
		l.transferDone = false
	case "NOTIFY":
		// RFC 3515 §2.4.5: progress of the REFER as a sipfrag status line.
		tr := l.call.Transfer
		if tr == nil || m.Event != "refer" || m.SipfragStatus == 0 || tr.Kind == "redirect" {
			return
		}
		if l.transferDone {
			return
		}
		tr.Result = strconv.Itoa(m.SipfragStatus)
		if m.SipfragStatus >= 200 {
			l.transferDone = true
			if m.SipfragStatus < 300 {
				tr.CompletedAt = &at
			}
		}
	}
}

func (t *Tracker) response(l *leg, m *Message, p Packet) {
	at := p.Time
	switch m.Method {
	case "INVITE":
		if m.CSeq != l.inviteCSeq {
			return // a re-INVITE's transaction
		}
		t.inviteResponse(l, m, at)
	case "REFER":
		tr := l.call.Transfer
		if tr == nil || m.CSeq != l.referCSeq || tr.Kind == "redirect" {
			return
		}
		switch {
		case m.StatusCode >= 200 && m.StatusCode < 300:
			if tr.AcceptedAt == nil {
				tr.AcceptedAt = &at
			}
		case m.StatusCode >= 300 && !l.transferDone:
			tr.Result = strconv.Itoa(m.StatusCode)
			l.transferDone = true
		}
	}
}

func (t *Tracker) inviteResponse(l *leg, m *Message, at time.Time) {
	code := m.StatusCode
	switch {
	case code == 180:
		// domain.md §1.2: ringing starts at the first 180; a 183 stands in
		// only until a 180 arrives.
		if l.call.AnsweredAt == nil && !l.ended && l.call.RingSource != "180" {
			l.call.RingingAt = &at
			l.call.RingSource = "180"
			t.event(EventRinging, l, at)
		}
	case code == 183:
		if l.call.AnsweredAt == nil && !l.ended && l.call.RingingAt == nil {
			l.call.RingingAt = &at
			l.call.RingSource = "183"
			t.event(EventRinging, l, at)
		}
	case code < 200:
	case code < 300:
		if l.call.AnsweredAt != nil {
			return
		}
		if l.ended && !l.cancelled {
			return
		}
		// A 200 that crossed a CANCEL wins (RFC 3261 §9.1): the call is up.
		l.ended, l.cancelled = false, false
		l.call.EndedAt, l.call.EndReason, l.call.EndDetail, l.call.HangupBy = nil, EndUnknown, "", ""
		l.call.AnsweredAt = &at
		t.event(EventAnswered, l, at)
	case l.call.AnsweredAt != nil || l.ended:
	case code == 401 || code == 407:
		l.challengedAt = &at
		l.challenge = uint16(code) //nolint:gosec // G115: 401 or 407
	case code < 400:
		t.end(l, at, EndRedirected, strconv.Itoa(code), "")
		l.call.Transfer = &Transfer{Kind: "redirect", RequestedAt: at, Target: strings.Clone(m.ContactUser), Result: strconv.Itoa(code)}
	case code == 487:
		// Terminated by a CANCEL we did not see.
		l.cancelled = true
		t.end(l, at, EndAbandoned, "487", "caller")
	default:
		t.end(l, at, failureReason(code), strconv.Itoa(code), "")
	}
}

// failureReason maps a final failure to an end reason: busy for 486/600
// (RFC 3261 §21.4.24, §21.6.1), rejected for refusals by the called party,
// failed for everything else (network, server, timeout).
func failureReason(code int) EndReason {
	switch code {
	case 486, 600:
		return EndBusy
	case 403, 404, 410, 480, 484, 488, 603, 606:
		return EndRejected
	}
	return EndFailed
}

func (t *Tracker) end(l *leg, at time.Time, reason EndReason, detail, by string) {
	l.ended = true
	l.call.EndedAt = &at
	l.call.EndReason = reason
	l.call.EndDetail = detail
	l.call.HangupBy = by
}

// closeAt is when an ended leg's record can be emitted.
func (t *Tracker) closeAt(l *leg) time.Time {
	at := *l.call.EndedAt
	if l.byeAt != nil && l.byeAt.After(at) {
		at = *l.byeAt
	}
	at = at.Add(t.cfg.Linger)
	if tr := l.call.Transfer; tr != nil && tr.Kind != "redirect" && tr.TargetCallID == "" {
		if w := tr.RequestedAt.Add(t.cfg.TransferWindow); w.After(at) {
			at = w
		}
	}
	return at
}

// deadline is the capture time at which the leg needs attention.
func (t *Tracker) deadline(l *leg) time.Time {
	switch {
	case l.ended:
		return t.closeAt(l)
	case l.challengedAt != nil:
		return l.challengedAt.Add(t.cfg.SetupTimeout)
	case l.call.AnsweredAt != nil:
		return l.lastSeen.Add(t.cfg.IdleTimeout)
	default:
		return l.lastSeen.Add(t.cfg.SetupTimeout)
	}
}

// Advance moves the tracker's clock to now (a capture time): it closes legs
// whose linger or timeout has passed and emits their records.
func (t *Tracker) Advance(now time.Time) {
	t.tombs.expire(now)
	if len(t.flooding) > 0 {
		t.checkFloods(now)
	}
	for l := t.nextDue(now); l != nil; l = t.nextDue(now) {
		switch {
		case l.ended:
		case l.challengedAt != nil:
			// The challenge was never answered with a new INVITE.
			t.end(l, *l.challengedAt, failureReason(int(l.challenge)), strconv.Itoa(int(l.challenge)), "")
			t.event(EventEnded, l, now)
		default:
			t.stats.TimedOut++
			l.call.EndReason, l.call.EndDetail = EndUnknown, EndDetailTimeout
		}
		t.finish(l, now)
	}
	if t.aggs.due(now) {
		t.emitAggregates()
	}
}

// Flush emits every open leg, as at the end of a replay or on shutdown:
// legs not yet ended get end_reason unknown and end_detail detail.
func (t *Tracker) Flush(now time.Time, detail string) {
	ids := make([]string, 0, len(t.legs))
	for id := range t.legs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		l := t.legs[id]
		if !l.ended {
			if l.challengedAt != nil {
				t.end(l, *l.challengedAt, failureReason(int(l.challenge)), strconv.Itoa(int(l.challenge)), "")
				t.event(EventEnded, l, now)
			} else {
				l.call.EndReason, l.call.EndDetail = EndUnknown, detail
			}
		}
		t.finish(l, now)
	}
	t.emitAggregates()
}

// finish closes a leg: its final record is emitted (unless unchanged
// since it was), or, for a leg that never rang and qualifies, it is
// counted in the period's aggregate instead.
func (t *Tracker) finish(l *leg, now time.Time) {
	id := l.call.CallID
	if !l.ended {
		// Closed without an end (timeout, shutdown, end of capture).
		t.event(EventEnded, l, now)
	}
	delete(t.legs, id)
	t.unschedule(l)
	t.xfer.remove(l)
	t.unlist(l)
	l.src.legs--
	t.msgBytes -= l.log.cost
	t.tombs.add(id, l.inviteCSeq, now.Add(tombstoneTTL))
	if t.aggregable(l) {
		t.aggregate(l, now)
		t.forget(l.src)
		return
	}
	t.forget(l.src)
	t.stats.LegsEmitted++
	c := t.record(l, now)
	if !unchanged(c, l.emitted) || len(c.Messages) != int(l.emittedMsgs) {
		t.emit(c)
	}
	if t.cfg.OnClosed != nil {
		t.cfg.OnClosed(c)
	}
}

// record returns the leg's record as it stands, with its ring figures.
func (t *Tracker) record(l *leg, now time.Time) Call {
	c := l.call
	c.ByeAt = l.byeAt
	// A copy: the leg's later messages must not show in (or be
	// overwritten through) a record already handed out.
	c.Messages = l.log.messages()
	if c.Transfer != nil {
		tr := *c.Transfer
		c.Transfer = &tr
	}
	t.measure(&c)
	if t.cfg.Annotate != nil {
		t.cfg.Annotate(&c, now)
	}
	return c
}

// measure fills the ring figures (DESIGN.md "Call record").
func (t *Tracker) measure(c *Call) {
	start := c.InviteAt
	if c.RingingAt != nil {
		start = *c.RingingAt
	}
	var end *time.Time
	switch {
	case c.AnsweredAt != nil:
		end = c.AnsweredAt
	case c.EndedAt != nil:
		end = c.EndedAt
	}
	if end == nil {
		return
	}
	d := end.Sub(start)
	c.RingSeconds = d.Seconds()
	if c.RingingAt != nil || c.AnsweredAt != nil {
		// A leg refused before any 18x never rang: 0 rings.
		c.Rings = t.cfg.Ring.Rings(d)
	}
	c.WithinLimit = c.AnsweredAt != nil && t.cfg.Ring.WithinLimit(d)
}

// linkTransfer ties a new leg to the transfer that caused it (domain.md
// §2.5): an INVITE with Replaces naming the REFER's Replaces (RFC 3891),
// else an INVITE to the Refer-To user within TransferWindow, preferring one
// whose Referred-By names the transferor (RFC 3892).
func (t *Tracker) linkTransfer(nl *leg, m *Message, at time.Time) {
	var best *leg
	bestScore := 0
	t.xfer.candidates(m, func(l *leg) {
		tr := l.call.Transfer
		if l == nl || tr == nil || tr.TargetCallID != "" {
			return
		}
		if at.Before(tr.RequestedAt) || at.Sub(tr.RequestedAt) > t.cfg.TransferWindow {
			return
		}
		targetMatch := tr.Target != "" && (tr.Target == m.RequestUser || tr.Target == m.ToUser)
		referredBy := tr.Kind != "redirect" && m.ReferredByUser != "" && m.ReferredByUser == l.referFrom
		score := 0
		switch {
		case m.Replaces != nil && tr.ReplacesCallID == m.Replaces.CallID:
			score = 4
		case targetMatch && referredBy:
			score = 3
		case targetMatch:
			score = 2
		case referredBy:
			// The PBX may rewrite the target number; Referred-By still
			// names the transferor.
			score = 1
		}
		if score == 0 || score < bestScore {
			return
		}
		// The latest transfer wins a tie, then the leg opened first, so the
		// choice does not depend on the index's order.
		if score == bestScore {
			bt := best.call.Transfer.RequestedAt
			if tr.RequestedAt.Before(bt) || (tr.RequestedAt.Equal(bt) && l.seq > best.seq) {
				return
			}
		}
		best, bestScore = l, score
	})
	if best != nil {
		best.call.Transfer.TargetCallID = nl.call.CallID
		nl.call.TransferredFrom = best.call.CallID
		// Linked: no longer waits for its new leg, and may close sooner.
		t.xfer.reindex(best)
		t.schedule(best)
	}
}
