package sip

import (
	"bytes"
	"net/netip"
	"strconv"
)

// bracketIPv6 returns b with bare IPv6 hosts in SIP URIs and Via headers
// put in brackets ("sip:4321@fec0::1:5060" → "sip:4321@[fec0::1]:5060"),
// as RFC 3261 §25.1 (IPv6reference) requires and some phones omit. The
// Call-ID line is left untouched: it is an opaque identifier. It returns
// nil when there is nothing to fix.
func bracketIPv6(b []byte) []byte {
	var out []byte
	last := 0
	lineStart := 0
	skipLine := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if i == lineStart {
			skipLine = isCallIDLine(b[i:])
		}
		if c == '\n' {
			lineStart = i + 1
			continue
		}
		if skipLine || (c != '@' && c != ' ') {
			continue
		}
		if i+1 < len(b) && b[i+1] == '[' {
			continue
		}
		j := i + 1
		for j < len(b) && isHostChar(b[j]) {
			j++
		}
		repl := bracketHost(b[i+1 : j])
		if repl == nil {
			continue
		}
		out = append(out, b[last:i+1]...)
		out = append(out, repl...)
		last = j
		i = j - 1
	}
	if out == nil {
		return nil
	}
	return append(out, b[last:]...)
}

func isCallIDLine(b []byte) bool {
	for _, p := range [][]byte{[]byte("call-id"), []byte("i")} {
		if len(b) > len(p) && bytes.EqualFold(b[:len(p)], p) {
			rest := bytes.TrimLeft(b[len(p):], " \t")
			if len(rest) > 0 && rest[0] == ':' {
				return true
			}
		}
	}
	return false
}

func isHostChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.'
}

// bracketHost brackets an IPv6 address, with an optional trailing port
// after the last colon, or returns nil when h is not one.
func bracketHost(h []byte) []byte {
	if bytes.Count(h, []byte(":")) < 2 {
		return nil
	}
	if a, err := netip.ParseAddr(string(h)); err == nil && a.Is6() {
		return append(append([]byte("["), h...), ']')
	}
	k := bytes.LastIndexByte(h, ':')
	port, err := strconv.Atoi(string(h[k+1:]))
	if err != nil || port < 0 || port > 65535 {
		return nil
	}
	if a, err := netip.ParseAddr(string(h[:k])); err == nil && a.Is6() {
		out := append([]byte("["), h[:k]...)
		return append(append(out, ']'), h[k:]...)
	}
	return nil
}
