package pcapgen

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Party is one end of a call leg.
type Party struct {
	// User is the user part of the party's SIP URI (an extension or number).
	User string
	// Name is the display name, empty for none.
	Name string
	// Addr is where the party sends and receives SIP.
	Addr netip.AddrPort
	// Media is the RTP address announced in SDP; the zero value means
	// Addr's IP, port 40000.
	Media netip.AddrPort
}

// MediaAddr returns the RTP address the party announces in SDP.
func (p Party) MediaAddr() netip.AddrPort {
	if p.Media.IsValid() {
		return p.Media
	}
	return netip.AddrPortFrom(p.Addr.Addr(), defaultMediaPort)
}

const (
	defaultMediaPort = 40000
	defaultSIPPort   = 5060
	maxForwards      = "70"
	userAgent        = "pcapgen/1"
	allowMethods     = "INVITE, ACK, CANCEL, BYE, REFER, NOTIFY, OPTIONS"
)

// Replaces names a dialog for an INVITE Replaces header (RFC 3891) or a
// Refer-To URI of an attended transfer (RFC 5589 7). The tags are those of
// the dialog as the recipient sees it: ToTag is the recipient's own tag.
type Replaces struct {
	CallID, ToTag, FromTag string
}

// String returns the header value: callid;to-tag=..;from-tag=.. .
func (r Replaces) String() string {
	return r.CallID + ";to-tag=" + r.ToTag + ";from-tag=" + r.FromTag
}

// Request is a request built by a Dialog: its bytes and the facts a
// response to it (or a CANCEL or ACK for it) must repeat.
type Request struct {
	// Method is the SIP method, e.g. INVITE.
	Method string
	// CSeq is the sequence number of the CSeq header.
	CSeq uint32
	// Branch is the Via branch, the transaction id (RFC 3261 17.1.3).
	Branch string
	// FromCaller says the caller sent it (else the callee).
	FromCaller bool
	// URI is the Request-URI.
	URI string
	// Bytes is the whole message. A retransmission is these bytes again.
	Bytes []byte

	via, from, to string
}

// Dialog builds the messages of one call leg (one Call-ID) between Caller
// and Callee with consistent headers (RFC 3261 8.1.1, 12). It keeps the
// CSeq numbers of both directions and numbers branches deterministically,
// so the same calls produce the same bytes.
type Dialog struct {
	CallID         string
	Caller, Callee Party
	FromTag, ToTag string
	// Transport is "UDP" (the default) or "TCP".
	Transport string
	// Compact selects the compact header forms of RFC 3261 7.3.3
	// (i f t v m l c r b).
	Compact bool

	cseq     [2]uint32 // last CSeq used by [0] caller, [1] callee
	branches uint32
	sdpVer   [2]int
}

// MsgOption changes one message built by a Dialog.
type MsgOption func(c *msgConfig)

type sdpMode int

const (
	sdpDefault sdpMode = iota
	sdpWith
	sdpWithout
)

type msgConfig struct {
	referredBy string
	replaces   string
	contact    string
	direction  string
	sdp        sdpMode
	headers    [][2]string
	minSize    int
}

// WithReferredBy adds a Referred-By header naming p (RFC 3892).
func WithReferredBy(p Party) MsgOption {
	return func(c *msgConfig) { c.referredBy = "<" + p.uri("") + ">" }
}

// WithReplaces adds a Replaces header to an INVITE (RFC 3891).
func WithReplaces(r Replaces) MsgOption {
	return func(c *msgConfig) { c.replaces = r.String() }
}

// WithContact sets the Contact of a response, e.g. the target of a 302.
func WithContact(uri string) MsgOption {
	return func(c *msgConfig) { c.contact = "<" + uri + ">" }
}

// WithDirection sets the SDP direction attribute (RFC 4566 6): sendrecv
// (default), sendonly, recvonly or inactive.
func WithDirection(dir string) MsgOption {
	return func(c *msgConfig) { c.direction = dir }
}

// WithSDP puts an SDP body in a response that has none by default (183).
func WithSDP() MsgOption { return func(c *msgConfig) { c.sdp = sdpWith } }

// WithoutSDP leaves out the SDP body of an INVITE or a 200 to one.
func WithoutSDP() MsgOption { return func(c *msgConfig) { c.sdp = sdpWithout } }

// WithHeader adds a header line (before User-Agent/Server).
func WithHeader(name, value string) MsgOption {
	return func(c *msgConfig) { c.headers = append(c.headers, [2]string{name, value}) }
}

// WithMinSize pads the message with an X-Pad header until it is at least n
// bytes long, as a big SDP or a pile of vendor headers would.
func WithMinSize(n int) MsgOption { return func(c *msgConfig) { c.minSize = n } }

func msgOptions(opts []MsgOption) msgConfig {
	var c msgConfig
	for _, o := range opts {
		o(&c)
	}
	return c
}

// Invite builds the initial INVITE from Caller to Callee with an SDP offer
// at the caller's media address (unless WithoutSDP). Each call starts a new
// transaction (next CSeq, new branch); to retransmit, write Bytes again.
func (d *Dialog) Invite(opts ...MsgOption) Request {
	c := msgOptions(opts)
	uri := d.Callee.uri(d.uriTransport())
	if d.Callee.Addr.Port() != defaultSIPPort {
		uri = d.Callee.uriWithPort(d.uriTransport())
	}
	r := d.newRequest("INVITE", true, uri)
	r.from = d.Caller.nameAddr(d.FromTag)
	r.to = d.Callee.nameAddr("")
	var extra [][2]string
	if c.referredBy != "" {
		extra = append(extra, [2]string{d.hdr("Referred-By"), c.referredBy})
	}
	if c.replaces != "" {
		extra = append(extra, [2]string{"Replaces", c.replaces})
	}
	extra = append(extra, [2]string{"Allow", allowMethods}, [2]string{"Supported", "replaces"})
	var body []byte
	if c.sdp != sdpWithout {
		body = d.sdp(true, c.direction)
	}
	r.Bytes = d.request(r, d.Caller.contact(d.uriTransport()), append(extra, c.headers...), "application/sdp", body, c.minSize)
	return r
}

// ReInvite builds a re-INVITE inside the dialog (RFC 3261 14), e.g. a hold
// with WithDirection("sendonly"). It does not start a new call.
func (d *Dialog) ReInvite(fromCaller bool, opts ...MsgOption) Request {
	c := msgOptions(opts)
	r := d.inDialog("INVITE", fromCaller)
	var body []byte
	if c.sdp != sdpWithout {
		body = d.sdp(fromCaller, c.direction)
	}
	extra := append([][2]string{{"Allow", allowMethods}}, c.headers...)
	r.Bytes = d.request(r, d.party(fromCaller).contact(d.uriTransport()), extra, "application/sdp", body, c.minSize)
	return r
}

// Ack builds the ACK for the final response code to invite. For a non-2xx
// it belongs to the INVITE transaction: same branch and Request-URI, the
// To-tag of the response (RFC 3261 17.1.1.3). For a 2xx it is a new
// transaction inside the dialog (RFC 3261 13.2.2.4).
func (d *Dialog) Ack(invite Request, code int) []byte {
	if code >= 300 {
		r := Request{
			Method: "ACK", CSeq: invite.CSeq, Branch: invite.Branch, FromCaller: invite.FromCaller,
			URI: invite.URI, via: invite.via, from: invite.from, to: d.tagged(invite),
		}
		return d.request(r, "", nil, "", nil, 0)
	}
	r := d.inDialog("ACK", invite.FromCaller)
	d.cseq[side(invite.FromCaller)]-- // an ACK reuses the INVITE's CSeq number
	r.CSeq = invite.CSeq
	return d.request(r, "", nil, "", nil, 0)
}

// Cancel builds the CANCEL of invite: same Request-URI, Call-ID, From, To,
// CSeq number and branch (RFC 3261 9.1).
func (d *Dialog) Cancel(invite Request) Request {
	r := Request{
		Method: "CANCEL", CSeq: invite.CSeq, Branch: invite.Branch, FromCaller: invite.FromCaller,
		URI: invite.URI, via: invite.via, from: invite.from, to: invite.to,
	}
	r.Bytes = d.request(r, "", nil, "", nil, 0)
	return r
}

// Bye builds a BYE from the caller or the callee.
func (d *Dialog) Bye(fromCaller bool, opts ...MsgOption) Request {
	c := msgOptions(opts)
	r := d.inDialog("BYE", fromCaller)
	r.Bytes = d.request(r, "", c.headers, "", nil, c.minSize)
	return r
}

// Refer builds a REFER (RFC 3515) asking the other party to call referTo
// (a SIP URI such as sip:2002@192.0.2.1), with a Referred-By naming the
// sender (RFC 3892). With replaces it is an attended transfer: the
// Refer-To URI carries an escaped Replaces header (RFC 5589 7).
func (d *Dialog) Refer(fromCaller bool, referTo string, replaces *Replaces, opts ...MsgOption) Request {
	c := msgOptions(opts)
	r := d.inDialog("REFER", fromCaller)
	target := referTo
	if replaces != nil {
		target += "?Replaces=" + url.QueryEscape(replaces.String())
	}
	sender := d.party(fromCaller)
	extra := append([][2]string{
		{d.hdr("Refer-To"), "<" + target + ">"},
		{d.hdr("Referred-By"), "<" + sender.uri("") + ">"},
	}, c.headers...)
	r.Bytes = d.request(r, sender.contact(d.uriTransport()), extra, "", nil, c.minSize)
	return r
}

// Notify builds a NOTIFY of the implicit refer subscription (RFC 3515 2.4.4)
// whose message/sipfrag body is the status line sipfrag, e.g.
// "SIP/2.0 200 OK". A final status (>= 200) terminates the subscription.
func (d *Dialog) Notify(fromCaller bool, sipfrag string, opts ...MsgOption) Request {
	c := msgOptions(opts)
	r := d.inDialog("NOTIFY", fromCaller)
	state := "active;expires=60"
	if f := strings.Fields(sipfrag); len(f) > 1 {
		if code, err := strconv.Atoi(f[1]); err == nil && code >= 200 {
			state = "terminated;reason=noresource"
		}
	}
	extra := append([][2]string{{"Event", "refer"}, {"Subscription-State", state}}, c.headers...)
	r.Bytes = d.request(r, d.party(fromCaller).contact(d.uriTransport()), extra,
		"message/sipfrag;version=2.0", []byte(sipfrag+"\r\n"), c.minSize)
	return r
}

// Response builds the response code/reason to req, sent by the party that
// received req. The To-tag is added from 101 on (RFC 3261 8.2.6.2); a 2xx
// to an INVITE carries an SDP answer (a 183 only WithSDP); 18x and 2xx to
// an INVITE carry the responder's Contact, other responses only
// WithContact (a 302's target).
func (d *Dialog) Response(code int, reason string, req Request, opts ...MsgOption) []byte {
	c := msgOptions(opts)
	responderIsCaller := !req.FromCaller
	to := req.to
	if code > 100 {
		to = d.tagged(req)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	d.line(&b, "Via", req.via)
	d.line(&b, "From", req.from)
	d.line(&b, "To", to)
	d.line(&b, "Call-ID", d.CallID)
	d.line(&b, "CSeq", fmt.Sprintf("%d %s", req.CSeq, req.Method))
	switch {
	case c.contact != "":
		d.line(&b, "Contact", c.contact)
	case req.Method == "INVITE" && code > 100 && code < 300:
		d.line(&b, "Contact", d.party(responderIsCaller).contact(d.uriTransport()))
	}
	if req.Method == "INVITE" && code >= 200 && code < 300 {
		d.line(&b, "Allow", allowMethods)
	}
	for _, h := range c.headers {
		d.line(&b, h[0], h[1])
	}
	d.line(&b, "Server", userAgent)
	var body []byte
	wantSDP := req.Method == "INVITE" && code >= 200 && code < 300
	if (wantSDP && c.sdp != sdpWithout) || c.sdp == sdpWith {
		body = d.sdp(responderIsCaller, c.direction)
	}
	return d.finish(&b, "application/sdp", body, c.minSize)
}

// newRequest starts a request in a new transaction of the sender.
func (d *Dialog) newRequest(method string, fromCaller bool, uri string) Request {
	s := side(fromCaller)
	if d.cseq[s] == 0 {
		// Each direction has its own CSeq space (RFC 3261 12.2.1.1).
		d.cseq[s] = uint32(100 * (s + 1)) //nolint:gosec // G115: 100 or 200
	}
	d.cseq[s]++
	d.branches++
	h := fnv.New32a()
	_, _ = h.Write([]byte(d.CallID))
	r := Request{
		Method: method, CSeq: d.cseq[s], FromCaller: fromCaller, URI: uri,
		// RFC 3261 8.1.1.7: the branch starts with the magic cookie.
		Branch: fmt.Sprintf("z9hG4bK%08x%04x", h.Sum32(), d.branches),
	}
	r.via = fmt.Sprintf("SIP/2.0/%s %s;branch=%s;rport", d.transport(), d.party(fromCaller).Addr, r.Branch)
	return r
}

// inDialog starts a request inside the established dialog (RFC 3261 12.2.1.1):
// Request-URI is the remote Contact, both tags present.
func (d *Dialog) inDialog(method string, fromCaller bool) Request {
	remote := d.party(!fromCaller)
	r := d.newRequest(method, fromCaller, remote.uriWithPort(d.uriTransport()))
	if fromCaller {
		r.from, r.to = d.Caller.nameAddr(d.FromTag), d.Callee.nameAddr(d.ToTag)
	} else {
		r.from, r.to = d.Callee.nameAddr(d.ToTag), d.Caller.nameAddr(d.FromTag)
	}
	return r
}

// tagged returns req's To header with the responder's tag, if missing.
func (d *Dialog) tagged(req Request) string {
	if strings.Contains(req.to, ";tag=") {
		return req.to
	}
	tag := d.ToTag
	if !req.FromCaller {
		tag = d.FromTag
	}
	return req.to + ";tag=" + tag
}

func (d *Dialog) request(r Request, contact string, extra [][2]string, ctype string, body []byte, minSize int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", r.Method, r.URI)
	d.line(&b, "Via", r.via)
	d.line(&b, "Max-Forwards", maxForwards)
	d.line(&b, "From", r.from)
	d.line(&b, "To", r.to)
	d.line(&b, "Call-ID", d.CallID)
	d.line(&b, "CSeq", fmt.Sprintf("%d %s", r.CSeq, r.Method))
	if contact != "" {
		d.line(&b, "Contact", contact)
	}
	for _, h := range extra {
		d.line(&b, h[0], h[1])
	}
	d.line(&b, "User-Agent", userAgent)
	return d.finish(&b, ctype, body, minSize)
}

// finish writes the padding, Content-Type, Content-Length (always, RFC 3261
// 20.14: required on stream transports) and the body.
func (d *Dialog) finish(b *bytes.Buffer, ctype string, body []byte, minSize int) []byte {
	var tail bytes.Buffer
	if len(body) > 0 {
		d.line(&tail, "Content-Type", ctype)
	}
	d.line(&tail, "Content-Length", strconv.Itoa(len(body)))
	tail.WriteString("\r\n")
	tail.Write(body)
	const padLine = len("X-Pad: \r\n")
	if short := minSize - b.Len() - tail.Len(); short > 0 {
		n := max(short-padLine, 1)
		b.WriteString("X-Pad: " + strings.Repeat("x", n) + "\r\n")
	}
	b.Write(tail.Bytes())
	return b.Bytes()
}

//nolint:gochecknoglobals // immutable lookup table
var compactForms = map[string]string{
	"Call-ID": "i", "From": "f", "To": "t", "Via": "v", "Contact": "m",
	"Content-Length": "l", "Content-Type": "c", "Refer-To": "r", "Referred-By": "b",
}

// hdr returns the header name in the dialog's form (RFC 3261 7.3.3).
func (d *Dialog) hdr(name string) string {
	if d.Compact {
		if c, ok := compactForms[name]; ok {
			return c
		}
	}
	return name
}

func (d *Dialog) line(b *bytes.Buffer, name, value string) {
	b.WriteString(d.hdr(name))
	b.WriteString(": ")
	b.WriteString(value)
	b.WriteString("\r\n")
}

func (d *Dialog) transport() string {
	if strings.EqualFold(d.Transport, "TCP") {
		return "TCP"
	}
	return "UDP"
}

func (d *Dialog) uriTransport() string {
	if d.transport() == "TCP" {
		return "tcp"
	}
	return ""
}

func (d *Dialog) party(caller bool) Party {
	if caller {
		return d.Caller
	}
	return d.Callee
}

func side(fromCaller bool) int {
	if fromCaller {
		return 0
	}
	return 1
}

func hostOf(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		return "[" + a.String() + "]"
	}
	return a.Unmap().String()
}

// uri returns sip:user@host, with ;transport= when transport is not empty.
func (p Party) uri(transport string) string {
	u := "sip:" + p.User + "@" + hostOf(p.Addr.Addr())
	if transport != "" {
		u += ";transport=" + transport
	}
	return u
}

// uriWithPort returns sip:user@host:port[;transport=..].
func (p Party) uriWithPort(transport string) string {
	u := "sip:" + p.User + "@" + hostOf(p.Addr.Addr()) + ":" + strconv.Itoa(int(p.Addr.Port()))
	if transport != "" {
		u += ";transport=" + transport
	}
	return u
}

func (p Party) contact(transport string) string {
	return "<" + p.uriWithPort(transport) + ">"
}

// nameAddr returns "Name" <sip:user@host>;tag=.. (RFC 3261 20.20, 20.39).
func (p Party) nameAddr(tag string) string {
	s := "<" + p.uri("") + ">"
	if p.Name != "" {
		s = strconv.Quote(p.Name) + " " + s
	}
	if tag != "" {
		s += ";tag=" + tag
	}
	return s
}
