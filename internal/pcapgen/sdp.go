package pcapgen

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// Payload types offered in every SDP (RFC 3551 6; 101 is the usual
// dynamic type for telephone-event, RFC 4733).
const (
	PayloadPCMU           = 0
	PayloadPCMA           = 8
	PayloadTelephoneEvent = 101
)

// sdp returns an SDP offer or answer (RFC 4566, RFC 3264) for the caller's
// or the callee's media address: audio PCMU, PCMA and telephone-event,
// ptime 20. The origin's version grows with every SDP of that side, as a
// re-INVITE requires (RFC 3264 8).
func (d *Dialog) sdp(caller bool, direction string) []byte {
	p := d.party(caller)
	s := side(caller)
	d.sdpVer[s]++
	h := fnv.New32a()
	_, _ = h.Write([]byte(d.CallID + p.User))
	media := p.MediaAddr()
	family := "IP4"
	if media.Addr().Is6() && !media.Addr().Is4In6() {
		family = "IP6"
	}
	ip := media.Addr().Unmap().String()
	if direction == "" {
		direction = "sendrecv"
	}
	var b strings.Builder
	b.WriteString("v=0\r\n")
	fmt.Fprintf(&b, "o=%s %d %d IN %s %s\r\n", p.User, h.Sum32(), d.sdpVer[s], family, ip)
	b.WriteString("s=pcapgen\r\n")
	fmt.Fprintf(&b, "c=IN %s %s\r\n", family, ip)
	b.WriteString("t=0 0\r\n")
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %d %d %d\r\n", media.Port(), PayloadPCMU, PayloadPCMA, PayloadTelephoneEvent)
	fmt.Fprintf(&b, "a=rtpmap:%d PCMU/8000\r\n", PayloadPCMU)
	fmt.Fprintf(&b, "a=rtpmap:%d PCMA/8000\r\n", PayloadPCMA)
	fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\n", PayloadTelephoneEvent)
	fmt.Fprintf(&b, "a=fmtp:%d 0-16\r\n", PayloadTelephoneEvent)
	b.WriteString("a=ptime:20\r\n")
	b.WriteString("a=" + direction + "\r\n")
	return []byte(b.String())
}
