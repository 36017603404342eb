package sdp_test

import (
	"fmt"

	"github.com/switchtap/switchtap/sip/sdp"
)

func ExampleParse() {
	// An offer as some phones send it: a= before t=, no s=, LF line ends.
	body := []byte(`v=0
o=- 20001 20002 IN IP4 192.0.2.41
c=IN IP4 192.0.2.41
a=sendonly
t=0 0
m=audio 11800 RTP/AVP 8 101
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
`)
	s, err := sdp.Parse(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	m := s.Media[0]
	fmt.Println(s.Origin.Version, m.RTPAddr(), m.Direction, m.OnHold(), m.Encrypted())
	for _, f := range m.Formats {
		fmt.Printf("%d %s/%d %q\n", f.PT, f.Name, f.ClockRate, f.Fmtp)
	}
	// Output:
	// 20002 192.0.2.41:11800 sendonly true false
	// 8 PCMA/8000 ""
	// 101 telephone-event/8000 "0-16"
}
