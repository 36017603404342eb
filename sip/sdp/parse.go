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

// parse is Parse, also telling which reader was used.
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
	// pion lets a line read field by field carry the next line after a
	// blank ("v=0 o=- 1 2 ..."), and drops a last line without "=". Such a
	// body is left to the fallback too: the line counts tell.
	if n, ok := countLines(b); !ok || n != pionLines(&sd) {
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

// countLines counts the "x=" lines of b, which has no bare CR. It reports
// false if a line that pion reads field by field (v o c t r z m) holds a blank
// followed by "x=", which pion would read as a second line.
func countLines(b []byte) (int, bool) {
	n := 0
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		n++
		if strings.IndexByte("voctrzm", line[0]) < 0 {
			continue
		}
		for i := 2; i+2 < len(line); i++ {
			if (line[i] == ' ' || line[i] == '\t') && line[i+2] == '=' {
				return n, false
			}
		}
	}
	return n, true
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
	n := len(ml.formats)
	if rtp {
		n = min(n, len(index))
	}
	m.Formats = make([]Format, 0, n)
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
