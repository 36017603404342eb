package sip

import "strings"

// own makes the strings *ss point into one compact copy of their own.
// The strings of a Message point into what sipgo made of the packet (a
// header's whole value, a start line): a leg that kept them as they are
// would keep all of those alive for the call's life (issue 12). One
// allocation for all the strings a leg keeps from its INVITE costs less
// than one each.
func own(ss ...*string) {
	n := 0
	for _, s := range ss {
		n += len(*s)
	}
	if n == 0 {
		return
	}
	var b strings.Builder
	b.Grow(n)
	for _, s := range ss {
		b.WriteString(*s)
	}
	all := b.String()
	for _, s := range ss {
		k := len(*s)
		*s, all = all[:k], all[k:]
	}
}
