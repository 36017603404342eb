package sip

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	sipgo "github.com/emiago/sipgo/sip"
)

// MaxMessageSize is the largest SIP message accepted (RFC 3261 §18.1.1 lets
// UDP messages reach 65,535 bytes).
const MaxMessageSize = 65535

// Message is what the tracker needs of one SIP message. It is read from
// sipgo's parsed message and owns its data.
type Message struct {
	// Method is the request method, or the CSeq method for a response.
	Method     string
	IsRequest  bool
	StatusCode int
	Reason     string
	// RequestUser is the user part of the Request-URI.
	RequestUser string

	CallID   string
	CSeq     uint32
	FromUser string
	FromName string
	FromTag  string
	ToUser   string
	ToTag    string
	// Branch is the branch parameter of the top Via.
	Branch string

	// ContactUser is the user part of the first Contact (the 3xx target).
	ContactUser string
	// ReferToUser and ReferReplaces come from Refer-To (RFC 3515, RFC 3891 §6.1).
	ReferToUser   string
	ReferReplaces *Replaces
	// ReferredByUser comes from Referred-By (RFC 3892).
	ReferredByUser string
	// Replaces is the Replaces header of an INVITE (RFC 3891).
	Replaces *Replaces
	// Event is the Event header's package ("refer" for transfer progress).
	Event string
	// SipfragStatus is the status code of a message/sipfrag body (RFC 3420),
	// 0 when there is none.
	SipfragStatus int

	ContentType string
	Body        []byte
}

// Replaces names a dialog to be replaced (RFC 3891 §6.1).
type Replaces struct {
	CallID  string
	ToTag   string
	FromTag string
}

// Parser reads SIP messages with sipgo's parser, extended with the compact
// forms sipgo lacks (r = Refer-To, b = Referred-By; RFC 3515, RFC 3892). The
// zero value is not usable; use NewParser. It is safe for concurrent use.
type Parser struct {
	p *sipgo.Parser
}

// NewParser returns a Parser.
func NewParser() *Parser {
	// Clone first: sipgo's default map is shared by every parser.
	hp := make(map[string]sipgo.HeaderParser, 32)
	for k, v := range sipgo.DefaultHeadersParser() {
		hp[k] = v
	}
	hp["r"] = hp["refer-to"]
	hp["b"] = hp["referred-by"]
	p := sipgo.NewParser(sipgo.WithHeadersParsers(hp))
	p.MaxMessageLength = MaxMessageSize
	return &Parser{p: p}
}

// Parse parses one whole SIP message (a UDP datagram, or one message framed
// out of a TCP stream). It rejects what RFC 3261 and RFC 4475 call invalid,
// with an error wrapping one of the package's sentinels.
func (p *Parser) Parse(b []byte) (*Message, error) {
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(b))
	}
	if !LooksLikeSIP(b) {
		return nil, ErrNotSIP
	}
	// RFC 3261 §7.5 asks for CRLF, but LF-only messages exist in the field; a
	// passive tap reads them rather than lose a call.
	if bytes.IndexByte(b, '\r') < 0 {
		b = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
	}
	raw, _, err := p.p.Parse(b, false)
	if err != nil {
		// Retry once with bare IPv6 hosts bracketed: some phones send them
		// and the call must still be read.
		if fixed := bracketIPv6(b); fixed != nil {
			if r2, _, err2 := p.p.Parse(fixed, false); err2 == nil {
				raw, err = r2, nil
			}
		}
	}
	if err != nil {
		if errors.Is(err, sipgo.ErrParseReadBodyIncomplete) {
			return nil, fmt.Errorf("%w: %w", ErrBodyLength, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return fromSipgo(raw)
}

func fromSipgo(raw sipgo.Message) (*Message, error) {
	m := &Message{}
	switch r := raw.(type) {
	case *sipgo.Request:
		if r.SipVersion != "SIP/2.0" {
			return nil, fmt.Errorf("%w: %q", ErrBadVersion, r.SipVersion)
		}
		m.IsRequest = true
		m.Method = string(r.Method)
		m.RequestUser = r.Recipient.User
		// RFC 3261 §19.1.1 (table): headers are not allowed in a
		// Request-URI (RFC 4475 §3.1.2.11).
		if r.Recipient.Headers.Length() > 0 {
			return nil, fmt.Errorf("%w: headers in request-uri", ErrMalformed)
		}
	case *sipgo.Response:
		if r.SipVersion != "SIP/2.0" {
			return nil, fmt.Errorf("%w: %q", ErrBadVersion, r.SipVersion)
		}
		if r.StatusCode < 100 || r.StatusCode > 699 {
			return nil, fmt.Errorf("%w: %d", ErrBadStatus, r.StatusCode)
		}
		m.StatusCode = r.StatusCode
		m.Reason = r.Reason
	default:
		return nil, fmt.Errorf("%w: unknown message type %T", ErrMalformed, raw)
	}

	for _, name := range singleValueHeaders {
		if n := len(raw.GetHeaders(name)); n > 1 {
			return nil, fmt.Errorf("%w: %s ×%d", ErrDuplicateHeader, name, n)
		}
	}
	// RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Max-Forwards and Via are
	// mandatory in requests; responses echo all but Max-Forwards (§8.2.6.2).
	callID := raw.CallID()
	if callID == nil || callID.Value() == "" {
		return nil, fmt.Errorf("%w: Call-ID", ErrMissingHeader)
	}
	m.CallID = callID.Value()
	cseq := raw.CSeq()
	if cseq == nil {
		return nil, fmt.Errorf("%w: CSeq", ErrMissingHeader)
	}
	m.CSeq = cseq.SeqNo
	if m.IsRequest {
		// sipgo upper-cases the CSeq method; RFC 4475 §3.1.1.3 sends an
		// extension method in mixed case.
		if !strings.EqualFold(string(cseq.MethodName), m.Method) {
			return nil, fmt.Errorf("%w: %s vs %s", ErrCSeqMismatch, cseq.MethodName, m.Method)
		}
	} else {
		m.Method = string(cseq.MethodName)
	}
	from := raw.From()
	if from == nil {
		return nil, fmt.Errorf("%w: From", ErrMissingHeader)
	}
	m.FromUser = from.Address.User
	m.FromName = from.DisplayName
	m.FromTag, _ = from.Params.Get("tag")
	to := raw.To()
	if to == nil {
		return nil, fmt.Errorf("%w: To", ErrMissingHeader)
	}
	m.ToUser = to.Address.User
	m.ToTag, _ = to.Params.Get("tag")
	via := raw.Via()
	if via == nil {
		return nil, fmt.Errorf("%w: Via", ErrMissingHeader)
	}
	m.Branch, _ = via.Params.Get("branch")

	if h := getHeader(raw, "Contact"); h != nil {
		if c, ok := h.(*sipgo.ContactHeader); ok {
			m.ContactUser = c.Address.User
		}
	}
	if h := getHeader(raw, "Refer-To"); h != nil {
		if rt, ok := h.(*sipgo.ReferToHeader); ok {
			m.ReferToUser = rt.Address.User
			if v, ok := rt.Address.Headers.Get("Replaces"); ok {
				m.ReferReplaces = parseReplaces(unescape(v))
			}
		}
	}
	if h := getHeader(raw, "Referred-By"); h != nil {
		if rb, ok := h.(*sipgo.ReferredByHeader); ok {
			m.ReferredByUser = rb.Address.User
		}
	}
	if h := getHeader(raw, "Replaces"); h != nil {
		m.Replaces = parseReplaces(h.Value())
	}
	if h := firstHeader(raw, "Event", "o"); h != "" {
		// RFC 6665 §8.2.1: the package name is the token before any ';'.
		pkg, _, _ := strings.Cut(h, ";")
		m.Event = strings.ToLower(strings.TrimSpace(pkg))
	}
	if ct := getHeader(raw, "Content-Type"); ct != nil {
		m.ContentType = strings.ToLower(strings.TrimSpace(ct.Value()))
	}
	m.Body = raw.Body()
	if strings.HasPrefix(m.ContentType, "message/sipfrag") {
		m.SipfragStatus = sipfragStatus(m.Body)
	}
	return m, nil
}

// singleValueHeaders may appear once only (RFC 3261 §7.3.1: only headers
// defined as comma-separated lists may repeat). sipgo stores compact forms
// under their long names for these.
var singleValueHeaders = [...]string{"Call-ID", "CSeq", "From", "To", "Content-Length", "Max-Forwards"}

func getHeader(raw sipgo.Message, name string) sipgo.Header {
	hs := raw.GetHeaders(name)
	if len(hs) == 0 {
		return nil
	}
	return hs[0]
}

func firstHeader(raw sipgo.Message, names ...string) string {
	for _, n := range names {
		if h := getHeader(raw, n); h != nil {
			return h.Value()
		}
	}
	return ""
}

// unescape undoes the URI escaping of a header carried inside Refer-To
// (RFC 3261 §19.1.1); the raw value is kept when it is not valid escaping.
func unescape(s string) string {
	u, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// parseReplaces reads "call-id;to-tag=x;from-tag=y" (RFC 3891 §6.1).
func parseReplaces(v string) *Replaces {
	parts := strings.Split(v, ";")
	r := &Replaces{CallID: strings.TrimSpace(parts[0])}
	if r.CallID == "" {
		return nil
	}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			r.ToTag = val
		case "from-tag":
			r.FromTag = val
		}
	}
	return r
}

// sipfragStatus returns the status code of a sipfrag body such as
// "SIP/2.0 200 OK" (RFC 3420), or 0.
func sipfragStatus(body []byte) int {
	line, _, _ := bytes.Cut(body, []byte("\n"))
	line = bytes.TrimSpace(line)
	rest, ok := bytes.CutPrefix(line, sipVersion)
	if !ok {
		return 0
	}
	rest = bytes.TrimSpace(rest)
	if len(rest) < 3 {
		return 0
	}
	code, err := strconv.Atoi(string(rest[:3]))
	if err != nil || code < 100 || code > 699 {
		return 0
	}
	return code
}
