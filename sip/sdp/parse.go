package sdp

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	pion "github.com/pion/sdp/v3"
)

// MaxSize is the largest body Parse reads. SDP in a SIP message is a few
// hundred bytes; the bound keeps the work on hostile input small.
const MaxSize = 64 << 10

// Parse reads an SDP body. It returns ErrTooLarge above MaxSize,
// ErrMalformed when no line looks like SDP ("x=..."), and ErrNoMedia when
// there is no m= line. Anything else is read as far as it goes: unknown and
// broken lines are skipped, and when a line is given twice the first wins.
func Parse(b []byte) (*Session, error) {
	s, _, err := parse(b)
	return s, err
}

// reader names the reader that produced a Session, for tests.
type reader uint8

const (
	byPion reader = iota + 1
	byFallback
)

func parse(b []byte) (*Session, reader, error) {
	if len(b) > MaxSize {
		return nil, 0, fmt.Errorf("%w: %d > %d bytes", ErrTooLarge, len(b), MaxSize)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		// pion accepts an empty body as an SDP with nothing in it.
		return nil, 0, fmt.Errorf("%w: empty body of %d bytes", ErrMalformed, len(b))
	}
	if r, ok := readPion(b); ok {
		s, err := r.build()
		return s, byPion, err
	}
	var r raw
	if !readLines(b, &r) {
		return nil, byFallback, fmt.Errorf("%w: no type=value line in %d bytes", ErrMalformed, len(b))
	}
	s, err := r.build()
	return s, byFallback, err
}

// readPion reads b with pion's strict parser, reporting false if it fails.
func readPion(b []byte) (raw, bool) {
	// pion reads a bare CR inside a line differently from a line end (its
	// readLine keeps it); such bodies are left to the fallback.
	if hasBareCR(b) {
		return raw{}, false
	}
	var sd pion.SessionDescription
	if err := sd.Unmarshal(b); err != nil {
		return raw{}, false
	}
	// pion lets a line that ends in a field ("v=0 o=- 1 2 ...") carry the
	// next line after a blank; such a body is left to the fallback too.
	if pionLines(&sd) != countLines(b) {
		return raw{}, false
	}
	return fromPion(&sd), true
}

// pionLines counts the lines pion read into sd.
func pionLines(sd *pion.SessionDescription) int {
	n := 3 + len(sd.Bandwidth) + len(sd.TimeDescriptions) + len(sd.Attributes) // v= o= s=
	for _, p := range []bool{
		sd.SessionInformation != nil, sd.URI != nil, sd.EmailAddress != nil, sd.PhoneNumber != nil,
		sd.ConnectionInformation != nil, len(sd.TimeZones) > 0, sd.EncryptionKey != nil,
	} {
		if p {
			n++
		}
	}
	for _, td := range sd.TimeDescriptions {
		n += len(td.RepeatTimes)
	}
	for _, md := range sd.MediaDescriptions {
		n += 1 + len(md.Bandwidth) + len(md.Attributes)
		for _, p := range []bool{md.MediaTitle != nil, md.ConnectionInformation != nil, md.EncryptionKey != nil} {
			if p {
				n++
			}
		}
	}
	return n
}

// countLines counts the non-empty lines of b, which has no bare CR.
func countLines(b []byte) int {
	n := 0
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(bytes.TrimSuffix(line, []byte{'\r'})) > 0 {
			n++
		}
	}
	return n
}

// raw is an SDP body cut into the lines we need but not yet interpreted. Both
// readers (pion and the fallback) produce it and build interprets it, so the
// two cannot disagree on meaning.
type raw struct {
	origin Origin
	section
	media []mline
}

// section holds what a session or a media description may both carry.
type section struct {
	hasConn bool
	conn    string // the <connection-address> field of c=
	attrs   []pion.Attribute
}

// mline is one m= line and the lines that follow it.
type mline struct {
	typ     string
	port    int
	proto   string
	formats []string
	section
}

// fromPion copies what we need out of pion's description; the attribute and
// format slices are shared, not copied.
func fromPion(sd *pion.SessionDescription) raw {
	r := raw{
		origin: Origin{
			Username:  sd.Origin.Username,
			SessionID: sd.Origin.SessionID,
			Version:   sd.Origin.SessionVersion,
		},
		section: pionSection(sd.ConnectionInformation, sd.Attributes),
		media:   make([]mline, len(sd.MediaDescriptions)),
	}
	for i, md := range sd.MediaDescriptions {
		r.media[i] = mline{
			typ:     md.MediaName.Media,
			port:    md.MediaName.Port.Value,
			proto:   strings.Join(md.MediaName.Protos, "/"),
			formats: md.MediaName.Formats,
			section: pionSection(md.ConnectionInformation, md.Attributes),
		}
	}
	return r
}

func pionSection(ci *pion.ConnectionInformation, attrs []pion.Attribute) section {
	s := section{attrs: attrs}
	if ci != nil {
		s.hasConn = true
		if ci.Address != nil {
			s.conn = ci.Address.Address
		}
	}
	return s
}

// build interprets r.
func (r *raw) build() (*Session, error) {
	if len(r.media) == 0 {
		return nil, fmt.Errorf("%w: %d session attributes", ErrNoMedia, len(r.attrs))
	}
	s := &Session{
		Origin:    r.origin,
		Addr:      parseConn(r.conn),
		Direction: SendRecv,
		Media:     make([]Media, len(r.media)),
	}
	var sessPtime int
	var sessFingerprint bool
	sessDir := Direction(0)
	for _, a := range r.attrs {
		key, val := trimAttr(a)
		if d := parseDirection(key); d != 0 && sessDir == 0 {
			sessDir = d
		}
		switch {
		case strings.EqualFold(key, "ptime") && sessPtime == 0:
			sessPtime = leadingInt(val)
		case strings.EqualFold(key, "fingerprint"):
			sessFingerprint = true
		}
	}
	if sessDir != 0 {
		s.Direction = sessDir
	}
	for i := range r.media {
		s.Media[i] = r.media[i].build(s, sessPtime, sessFingerprint)
	}
	return s, nil
}

// build interprets one m= section; s holds the session-level defaults.
func (ml *mline) build(s *Session, sessPtime int, sessFingerprint bool) Media {
	m := Media{
		Type:        ml.typ,
		Port:        ml.port,
		Proto:       ml.proto,
		Addr:        s.Addr,
		Direction:   s.Direction,
		Fingerprint: sessFingerprint,
	}
	if ml.hasConn {
		// A media-level c= overrides the session one even when it cannot
		// be read: falling back would name the wrong address.
		m.Addr = parseConn(ml.conn)
	}
	rtp := m.IsRTP()
	// index maps a payload type to its place in m.Formats, plus one, so
	// that a=rtpmap and a=fmtp cost O(1) each.
	var index [128]uint16
	m.Formats = make([]Format, 0, len(ml.formats))
	for _, tok := range ml.formats {
		if !rtp {
			m.Formats = append(m.Formats, Format{Name: tok})
			continue
		}
		pt, ok := parsePT(tok)
		if !ok || index[pt] != 0 {
			continue
		}
		f := staticFormat(pt)
		if ml.typ != "audio" {
			f.Channels = 0
		}
		m.Formats = append(m.Formats, f)
		index[pt] = uint16(len(m.Formats)) //nolint:gosec // G115: at most 128 formats get here.
	}
	var dir Direction
	var rtcp, ptime int
	var mapped, fmtpSeen [128]bool
	for _, a := range ml.attrs {
		key, val := trimAttr(a)
		if d := parseDirection(key); d != 0 {
			if dir == 0 {
				dir = d
			}
			continue
		}
		switch {
		case strings.EqualFold(key, "rtpmap"):
			pt, rest, ok := splitPT(val)
			if ok && rtp && index[pt] != 0 && !mapped[pt] {
				mapped[pt] = applyRtpmap(&m.Formats[index[pt]-1], rest, ml.typ == "audio")
			}
		case strings.EqualFold(key, "fmtp"):
			pt, rest, ok := splitPT(val)
			if ok && rtp && index[pt] != 0 && !fmtpSeen[pt] {
				fmtpSeen[pt] = true
				m.Formats[index[pt]-1].Fmtp = rest
			}
		case strings.EqualFold(key, "ptime"):
			if ptime == 0 {
				ptime = leadingInt(val)
			}
		case strings.EqualFold(key, "rtcp"):
			if rtcp == 0 {
				if p, ok := parsePort(firstField(val)); ok {
					rtcp = p
				}
			}
		case strings.EqualFold(key, "rtcp-mux"):
			m.RTCPMux = true
		case strings.EqualFold(key, "crypto"):
			m.Crypto = true
		case strings.EqualFold(key, "fingerprint"):
			m.Fingerprint = true
		}
	}
	if dir != 0 {
		m.Direction = dir
	}
	m.Ptime = ptime
	if m.Ptime == 0 {
		m.Ptime = sessPtime
	}
	switch {
	case m.Port == 0 || !rtp:
		m.RTCPPort = 0
	case rtcp != 0:
		m.RTCPPort = rtcp
	case m.Port < 65535:
		m.RTCPPort = m.Port + 1
	}
	return m
}

// applyRtpmap fills f from "<encoding name>/<clock rate>[/<encoding
// parameters>]" (RFC 8866 §6.6). It reports false, leaving f alone, when the
// name or the clock rate is missing: a broken line must not erase what the
// static table said.
func applyRtpmap(f *Format, enc string, audio bool) bool {
	name, rest, _ := strings.Cut(firstField(enc), "/")
	rate, params, hasParams := strings.Cut(rest, "/")
	r, err := strconv.Atoi(rate)
	if name == "" || err != nil || r <= 0 {
		return false
	}
	f.Name, f.ClockRate, f.Channels = name, r, 0
	if audio {
		// For audio the parameter is the channel count, one when omitted.
		f.Channels = 1
		if c, err := strconv.Atoi(params); hasParams && err == nil && c > 0 {
			f.Channels = c
		}
	}
	return true
}

// staticFormat returns the RFC 3551 §6 (Tables 4 and 5) format of a static
// payload type; Name is empty for dynamic or unassigned ones.
func staticFormat(pt uint8) Format {
	name, rate, ch := "", 8000, 1
	switch pt {
	case 0:
		name = "PCMU"
	case 3:
		name = "GSM"
	case 4:
		name = "G723"
	case 5:
		name = "DVI4"
	case 6:
		name, rate = "DVI4", 16000
	case 7:
		name = "LPC"
	case 8:
		name = "PCMA"
	case 9:
		// G.722 samples at 16 kHz but its RTP clock is 8000 (RFC 3551 §4.5.2).
		name = "G722"
	case 10:
		name, rate, ch = "L16", 44100, 2
	case 11:
		name, rate = "L16", 44100
	case 12:
		name = "QCELP"
	case 13:
		name = "CN"
	case 14:
		name, rate = "MPA", 90000
	case 15:
		name = "G728"
	case 16:
		name, rate = "DVI4", 11025
	case 17:
		name, rate = "DVI4", 22050
	case 18:
		name = "G729"
	case 25:
		name, rate, ch = "CelB", 90000, 0
	case 26:
		name, rate, ch = "JPEG", 90000, 0
	case 28:
		name, rate, ch = "nv", 90000, 0
	case 31:
		name, rate, ch = "H261", 90000, 0
	case 32:
		name, rate, ch = "MPV", 90000, 0
	case 33:
		name, rate, ch = "MP2T", 90000, 0
	case 34:
		name, rate, ch = "H263", 90000, 0
	default:
		return Format{PT: pt}
	}
	return Format{PT: pt, Name: name, ClockRate: rate, Channels: ch}
}

// parseDirection returns the direction named by an attribute, or 0.
func parseDirection(key string) Direction {
	switch {
	case strings.EqualFold(key, "sendrecv"):
		return SendRecv
	case strings.EqualFold(key, "sendonly"):
		return SendOnly
	case strings.EqualFold(key, "recvonly"):
		return RecvOnly
	case strings.EqualFold(key, "inactive"):
		return Inactive
	}
	return 0
}

// parseConn reads the <connection-address> of c=, dropping a multicast
// "/ttl[/count]" suffix (RFC 8866 §5.7). A host name gives an invalid Addr.
func parseConn(s string) netip.Addr {
	s, _, _ = strings.Cut(s, "/")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a
}

// parsePort reads a port as pion does (strconv.Atoi, 0..65535).
func parsePort(s string) (int, bool) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > 65535 {
		return 0, false
	}
	return p, true
}

// parsePT reads an RTP payload type, 0..127 (RFC 3550 §5.1).
func parsePT(s string) (uint8, bool) {
	if s == "" || len(s) > 3 {
		return 0, false
	}
	n := 0
	for i := range len(s) {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n > 127 {
		return 0, false
	}
	return uint8(n), true //nolint:gosec // G115: checked above.
}

// splitPT splits "<payload type> <rest>" of a=rtpmap and a=fmtp.
func splitPT(v string) (uint8, string, bool) {
	i := strings.IndexAny(v, " \t")
	if i < 0 {
		return 0, "", false
	}
	pt, ok := parsePT(v[:i])
	return pt, strings.Trim(v[i:], " \t"), ok
}

// leadingInt reads the leading digits of s ("20", "20.0"), 0 if none or if
// they are absurdly many.
func leadingInt(s string) int {
	n := 0
	for i := range len(s) {
		c := s[i]
		if c < '0' || c > '9' {
			break
		}
		if i >= 6 {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// trimAttr returns the key and value of a, without surrounding blanks (pion
// keeps trailing blanks in the value).
func trimAttr(a pion.Attribute) (string, string) {
	return strings.Trim(a.Key, " \t"), strings.Trim(a.Value, " \t")
}

// firstField returns s up to its first blank.
func firstField(s string) string {
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i]
	}
	return s
}

// hasBareCR reports whether b holds a CR that is not followed by LF.
func hasBareCR(b []byte) bool {
	for {
		i := bytes.IndexByte(b, '\r')
		if i < 0 {
			return false
		}
		if i+1 == len(b) || b[i+1] != '\n' {
			return true
		}
		b = b[i+2:]
	}
}

// containsFold reports whether s contains the upper-case ASCII substr, in
// any case.
func containsFold(s, substr string) bool {
	for i := 0; i+len(substr) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(substr)], substr) {
			return true
		}
	}
	return false
}
