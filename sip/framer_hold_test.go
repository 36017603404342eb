package sip

import (
	"fmt"
	"strings"
	"testing"
)

// TestFramerSplitAnywhere: a stream cut at any byte into two writes frames
// the same messages, and discards the same bytes, as written whole; the
// framer holds only the incomplete start of a message, and no buffer once
// the stream is between messages.
func TestFramerSplitAnywhere(t *testing.T) {
	streams := []struct {
		name  string
		s     string
		tail  string // left buffered at the end
		discr int
	}{
		{"messages and keep-alives", fInvite + "\r\n\r\n" + fRing + fTrying, "", 0},
		{"garbage between", fTrying + "junk line\r\n" + fInvite, "", len("junk line\r\n")},
		{"incomplete last", fRing + fInvite[:50], fInvite[:50], 0},
	}
	frame := func(chunks ...string) (msgs []string, disc int, f *Framer) {
		f = &Framer{}
		for _, c := range chunks {
			n, err := f.Write([]byte(c), func(m []byte) { msgs = append(msgs, string(m)) })
			if err != nil {
				t.Fatal(err)
			}
			disc += n
		}
		return msgs, disc, f
	}
	for _, st := range streams {
		t.Run(st.name, func(t *testing.T) {
			whole, wdisc, f := frame(st.s)
			if string(f.buf) != st.tail || wdisc != st.discr {
				t.Fatalf("whole: holds %q, discarded %d; want %q and %d", f.buf, wdisc, st.tail, st.discr)
			}
			for cut := range len(st.s) + 1 {
				msgs, disc, f := frame(st.s[:cut], st.s[cut:])
				if fmt.Sprint(msgs) != fmt.Sprint(whole) || disc != wdisc || string(f.buf) != st.tail {
					t.Fatalf("cut at %d: %q, discarded %d, holds %q; want %q, %d, %q", cut, msgs, disc, f.buf, whole, wdisc, st.tail)
				}
				if st.tail == "" && f.buf != nil {
					t.Fatalf("cut at %d: a buffer of %d bytes kept between messages", cut, cap(f.buf))
				}
			}
		})
	}
}

// TestFramerNoCopy: a segment of whole messages is framed in place (the
// messages alias the segment) and leaves nothing held.
func TestFramerNoCopy(t *testing.T) {
	seg := []byte(fTrying + fRing)
	var f Framer
	var starts []*byte
	if _, err := f.Write(seg, func(m []byte) { starts = append(starts, &m[0]) }); err != nil {
		t.Fatal(err)
	}
	if len(starts) != 2 || starts[0] != &seg[0] || starts[1] != &seg[len(fTrying)] || f.buf != nil {
		t.Fatalf("messages copied or buffer kept: %d messages, buffer %d bytes", len(starts), cap(f.buf))
	}
	// A message completed across writes comes from the buffer, which is
	// freed once it is framed.
	half := strings.Index(fInvite, "\r\n\r\n")
	if _, err := f.Write([]byte(fInvite[:half]), func([]byte) { t.Fatal("framed too early") }); err != nil {
		t.Fatal(err)
	}
	if f.Buffered() != half {
		t.Fatalf("holds %d bytes, want %d", f.Buffered(), half)
	}
	n := 0
	if _, err := f.Write([]byte(fInvite[half:]), func(m []byte) { n++ }); err != nil || n != 1 || f.buf != nil {
		t.Fatalf("%d messages, %v, buffer %d bytes", n, err, cap(f.buf))
	}
}
