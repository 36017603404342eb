package sdp

import (
	"iter"
	"strings"

	pion "github.com/pion/sdp/v3"
)

// readLines is the tolerant reader used when pion rejects the body. It reads
// the o=, c=, m= and a= lines in any order and skips everything else, so a
// missing s= or t=, an a= before t=, unknown types or a last line without
// a newline do not matter. Lines may end in CRLF, LF or a bare CR. It
// reports whether any line looked like SDP.
func readLines(b []byte, r *raw) bool {
	text := string(b)
	seen := false
	haveOrigin := false
	cur := &r.section
	for len(text) > 0 {
		i := strings.IndexAny(text, "\r\n")
		line := text
		if i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		line = strings.Trim(line, " \t")
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		seen = true
		val := line[2:]
		switch line[0] {
		case 'o':
			if !haveOrigin {
				haveOrigin = true
				r.origin = parseOrigin(val)
			}
		case 'c':
			if !cur.hasConn {
				cur.hasConn = true
				cur.conn = nthField(val, 2)
			}
		case 'm':
			r.media = append(r.media, parseMLine(val))
			cur = &r.media[len(r.media)-1].section
		case 'a':
			cur.attrs = append(cur.attrs, splitAttr(val))
		}
	}
	return seen
}

// parseMLine reads "<media> <port>[/<count>] <proto> <fmt> ..." (RFC 8866
// §5.14). An unreadable port gives 0: the entry is kept so that m= indexes
// still pair offer and answer (RFC 3264 §6).
func parseMLine(v string) mline {
	var ml mline
	n := 0
	for f := range fields(v) {
		switch n {
		case 0:
			ml.typ = f
		case 1:
			port, _, _ := strings.Cut(f, "/")
			ml.port, _ = parsePort(port)
		case 2:
			ml.proto = f
		default:
			ml.formats = append(ml.formats, f)
		}
		n++
	}
	return ml
}

// parseOrigin reads "<username> <sess-id> <sess-version> ..." (RFC 8866
// §5.2).
func parseOrigin(v string) Origin {
	var o Origin
	n := 0
	if v != "" && (v[0] == ' ' || v[0] == '\t') {
		// A blank first means an empty username to pion; agree with it.
		n = 1
	}
	for f := range fields(v) {
		switch n {
		case 0:
			o.Username = f
		case 1:
			o.SessionID = wrapUint(f)
		case 2:
			o.Version = wrapUint(f)
		}
		n++
	}
	return o
}

// splitAttr splits "<key>[:<value>]" where pion does: at the first colon,
// unless it is the first byte.
func splitAttr(v string) pion.Attribute {
	if i := strings.IndexByte(v, ':'); i > 0 {
		return pion.Attribute{Key: v[:i], Value: v[i+1:]}
	}
	return pion.Attribute{Key: v}
}

// wrapUint reads a decimal number, wrapping past 64 bits as pion does so
// that both readers agree; 0 if s has a non-digit.
func wrapUint(s string) uint64 {
	var n uint64
	for i := range len(s) {
		c := s[i]
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + uint64(c-'0')
	}
	return n
}

// nthField returns the n-th (from 0) blank-separated field of v, or "".
func nthField(v string, n int) string {
	for f := range fields(v) {
		if n == 0 {
			return f
		}
		n--
	}
	return ""
}

// fields yields the fields of v separated by spaces and tabs, the only
// blanks SDP knows (pion splits the same way; strings.Fields would also
// split on Unicode spaces).
func fields(v string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for v != "" {
			v = strings.TrimLeft(v, " \t")
			if v == "" {
				return
			}
			i := strings.IndexAny(v, " \t")
			if i < 0 {
				yield(v)
				return
			}
			if !yield(v[:i]) {
				return
			}
			v = v[i:]
		}
	}
}
