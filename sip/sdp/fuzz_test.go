package sdp

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics, returns a known error or a
// consistent Session, and that the fallback agrees with pion whenever pion
// accepts the body. Seeds are in testdata/fuzz/FuzzParse and below.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		asteriskOffer, ciscoAnswer, polycomOffer, yealinkOffer, holdSendonly, holdLegacy,
		rejectedVideo, t38, sdesSRTP, dtls, ipv6, noSessionName, lfOnly, sloppy, multicastTTL,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			if s != nil {
				t.Fatalf("session %+v with error %v", s, err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNoMedia) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unknown error %v", err)
			}
			return
		}
		if len(s.Media) == 0 {
			t.Fatal("no media without ErrNoMedia")
		}
		for _, m := range s.Media {
			if m.Port < 0 || m.Port > 65535 || m.RTCPPort < 0 || m.RTCPPort > 65535 {
				t.Fatalf("port out of range: %+v", m)
			}
			if m.Direction < SendRecv || m.Direction > Inactive {
				t.Fatalf("direction %d", m.Direction)
			}
			if len(m.Formats) > 128 && m.IsRTP() {
				t.Fatalf("%d RTP formats", len(m.Formats))
			}
			_ = m.RTPAddr()
		}
		r, ok := readPion(b)
		if !ok {
			return
		}
		want, _ := r.build()
		var fb raw
		readLines(b, &fb)
		got, _ := fb.build()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("readers disagree\nfallback %+v\npion     %+v", got, want)
		}
	})
}
