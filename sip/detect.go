package sip

import "bytes"

// maxStartLine bounds the search for the end of the start line, so a large
// binary payload is dismissed after a few hundred bytes.
const maxStartLine = 1024

var sipVersion = []byte("SIP/2.0")

// LooksLikeSIP reports whether b starts with a SIP start line: a status line
// ("SIP/2.0 200 OK") or a request line ("INVITE sip:… SIP/2.0"). Ports are
// never assumed (RFC 3261 §7.1): SIP is recognised by its first line. It does
// not allocate, so it can run on every captured payload.
func LooksLikeSIP(b []byte) bool {
	if len(b) < 12 {
		return false
	}
	if bytes.HasPrefix(b, sipVersion) && b[7] == ' ' {
		return true
	}
	// RFC 3261 §25.1: Method = token (RFC 4475 §3.1.1.3 uses odd ones).
	i := 0
	for i < len(b) && i < 64 && isTokenChar(b[i]) {
		i++
	}
	if i == 0 || i >= len(b) || b[i] != ' ' {
		return false
	}
	end := len(b)
	if end > maxStartLine {
		end = maxStartLine
	}
	nl := bytes.IndexByte(b[i:end], '\n')
	if nl < 0 {
		return false
	}
	line := bytes.TrimRight(b[i:i+nl], "\r \t")
	// Any version, or none, is accepted here when the Request-URI is a
	// SIP or tel URI, so that a broken request line is counted as a
	// rejected SIP message rather than silently ignored.
	if bytes.Contains(line, []byte(" SIP/")) {
		return true
	}
	uri := bytes.TrimLeft(line, " ")
	return bytes.HasPrefix(uri, []byte("sip:")) || bytes.HasPrefix(uri, []byte("sips:")) || bytes.HasPrefix(uri, []byte("tel:"))
}

// isTokenChar reports whether c may appear in an RFC 3261 §25.1 token.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '!', '%', '*', '_', '+', '`', '\'', '~':
		return true
	}
	return false
}
