package sdp

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// crlf turns a literal written with LF line ends into what SIP carries.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// Realistic bodies, shaped after what the named systems send.
var (
	asteriskOffer = crlf(`v=0
o=- 1234567890 1234567890 IN IP4 192.0.2.10
s=Asterisk
c=IN IP4 192.0.2.10
t=0 0
m=audio 10000 RTP/AVP 8 0 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=maxptime:150
a=sendrecv
`)
	ciscoAnswer = crlf(`v=0
o=Cisco-SIPUA 17767 0 IN IP4 192.0.2.21
s=SIP Call
t=0 0
m=audio 24580 RTP/AVP 0 8 18 9 101
c=IN IP4 192.0.2.21
b=TIAS:64000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:9 G722/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=trafficclass:conversational.audio.aq:admitted
a=sendrecv
`)
	polycomOffer = crlf(`v=0
o=- 1700000000 1700000000 IN IP4 192.0.2.31
s=Polycom IP Phone
c=IN IP4 192.0.2.31
t=0 0
a=sendrecv
m=audio 2222 RTP/AVP 9 0 8 18 127
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:127 telephone-event/8000
`)
	// Yealink puts a= before t= in some firmware: pion rejects it.
	yealinkOffer = crlf(`v=0
o=- 20001 20001 IN IP4 192.0.2.41
s=SDP data
c=IN IP4 192.0.2.41
a=X-yealink:sdp
t=0 0
m=audio 11800 RTP/AVP 8 0 9 18 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:9 G722/8000
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=ptime:20
a=sendrecv
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
`)
	holdSendonly = crlf(`v=0
o=- 1234567890 1234567891 IN IP4 192.0.2.10
s=Asterisk
c=IN IP4 192.0.2.10
t=0 0
m=audio 10000 RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendonly
`)
	holdLegacy = crlf(`v=0
o=user 42 43 IN IP4 192.0.2.50
s=-
c=IN IP4 0.0.0.0
t=0 0
m=audio 6000 RTP/AVP 0
`)
	rejectedVideo = crlf(`v=0
o=- 7 8 IN IP4 192.0.2.60
s=-
c=IN IP4 192.0.2.60
t=0 0
m=audio 7078 RTP/AVP 8
a=rtpmap:8 PCMA/8000
m=video 0 RTP/AVP 96
`)
	t38 = crlf(`v=0
o=- 1 2 IN IP4 192.0.2.70
s=-
c=IN IP4 192.0.2.70
t=0 0
m=image 4000 udptl t38
a=T38FaxVersion:0
a=T38MaxBitRate:14400
a=T38FaxRateManagement:transferredTCF
a=T38FaxMaxDatagram:400
a=T38FaxUdpEC:t38UDPRedundancy
`)
	sdesSRTP = crlf(`v=0
o=- 3 3 IN IP4 192.0.2.80
s=-
c=IN IP4 192.0.2.80
t=0 0
m=audio 5004 RTP/SAVP 0 101
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:32
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
`)
	dtls = crlf(`v=0
o=- 4611731400430051336 2 IN IP4 198.51.100.9
s=-
t=0 0
a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2
a=group:BUNDLE 0
m=audio 40000 UDP/TLS/RTP/SAVPF 111 0 8
c=IN IP4 198.51.100.9
a=rtcp:40000 IN IP4 198.51.100.9
a=setup:actpass
a=mid:0
a=sendrecv
a=rtcp-mux
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
`)
	ipv6 = crlf(`v=0
o=- 5 5 IN IP6 2001:db8::10
s=-
c=IN IP6 2001:db8::10
t=0 0
m=audio 16384 RTP/AVP 8 13
a=ptime:30
a=recvonly
`)
	// No s= and no t=, as some gateways send.
	noSessionName = crlf(`v=0
o=gw 100 101 IN IP4 192.0.2.90
c=IN IP4 192.0.2.90
m=audio 30000 RTP/AVP 18 101
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=fmtp:18 annexb=no
`)
	lfOnly = `v=0
o=- 9 9 IN IP4 192.0.2.91
s=-
c=IN IP4 192.0.2.91
t=0 0
m=audio 31000 RTP/AVP 0 8
a=rtcp:31005
a=rtcp-mux
a=inactive
`
	// Trailing blanks, unknown lines, garbage, no final newline.
	sloppy = "v=0 \r\no=- 11 12 IN IP4 192.0.2.92\t\r\ns=-\r\nc=IN IP4 192.0.2.92  \r\n" +
		"t=0 0\r\nx=unknown\r\nthis is not sdp\r\n\r\nm=audio 32000 RTP/AVP 0 101 \r\n" +
		"a=rtpmap:101 telephone-event/8000 \r\na=fmtp:101 0-16 \r\na=ptime:20 \r\na=sendrecv "
	multicastTTL = crlf(`v=0
o=- 13 13 IN IP4 192.0.2.93
s=-
c=IN IP4 233.252.0.1/127
t=0 0
m=audio 33000/2 RTP/AVP 0
`)
)

// pcmu, pcma and te are the usual audio formats.
func pcmu() Format { return Format{PT: 0, Name: "PCMU", ClockRate: 8000, Channels: 1} }
func pcma() Format { return Format{PT: 8, Name: "PCMA", ClockRate: 8000, Channels: 1} }
func te(pt uint8, fmtp string) Format {
	return Format{PT: pt, Name: "telephone-event", ClockRate: 8000, Channels: 1, Fmtp: fmtp}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		reader reader
		want   *Session
	}{
		{"asterisk", asteriskOffer, byPion, &Session{
			Origin: Origin{"-", 1234567890, 1234567890}, Addr: addr("192.0.2.10"), Direction: SendRecv,
			Media: []Media{{
				Type: "audio", Port: 10000, Proto: "RTP/AVP",
				Formats: []Format{pcma(), pcmu(), te(101, "0-16")},
				Addr:    addr("192.0.2.10"), Direction: SendRecv, Ptime: 20, RTCPPort: 10001,
			}},
		}},
		{"cisco media-level c=", ciscoAnswer, byPion, &Session{
			Origin: Origin{"Cisco-SIPUA", 17767, 0}, Direction: SendRecv,
			Media: []Media{{
				Type: "audio", Port: 24580, Proto: "RTP/AVP",
				Formats: []Format{pcmu(), pcma(),
					{PT: 18, Name: "G729", ClockRate: 8000, Channels: 1, Fmtp: "annexb=no"},
					{PT: 9, Name: "G722", ClockRate: 8000, Channels: 1}, te(101, "0-15")},
				Addr: addr("192.0.2.21"), Direction: SendRecv, RTCPPort: 24581,
			}},
		}},
		{"polycom session-level direction", polycomOffer, byPion, &Session{
			Origin: Origin{"-", 1700000000, 1700000000}, Addr: addr("192.0.2.31"), Direction: SendRecv,
			Media: []Media{{
				Type: "audio", Port: 2222, Proto: "RTP/AVP",
				Formats: []Format{{PT: 9, Name: "G722", ClockRate: 8000, Channels: 1}, pcmu(), pcma(),
					{PT: 18, Name: "G729", ClockRate: 8000, Channels: 1, Fmtp: "annexb=no"}, te(127, "")},
				Addr: addr("192.0.2.31"), Direction: SendRecv, RTCPPort: 2223,
			}},
		}},
		{"yealink a= before t=", yealinkOffer, byFallback, &Session{
			Origin: Origin{"-", 20001, 20001}, Addr: addr("192.0.2.41"), Direction: SendRecv,
			Media: []Media{{
				Type: "audio", Port: 11800, Proto: "RTP/AVP",
				Formats: []Format{pcma(), pcmu(), {PT: 9, Name: "G722", ClockRate: 8000, Channels: 1},
					{PT: 18, Name: "G729", ClockRate: 8000, Channels: 1, Fmtp: "annexb=no"}, te(101, "0-15")},
				Addr: addr("192.0.2.41"), Direction: SendRecv, Ptime: 20, RTCPPort: 11801,
			}},
		}},
		{"hold sendonly", holdSendonly, byPion, &Session{
			Origin: Origin{"-", 1234567890, 1234567891}, Addr: addr("192.0.2.10"), Direction: SendRecv,
			Media: []Media{{
				Type: "audio", Port: 10000, Proto: "RTP/AVP", Formats: []Format{pcma(), te(101, "0-16")},
				Addr: addr("192.0.2.10"), Direction: SendOnly, Ptime: 20, RTCPPort: 10001,
			}},
		}},
		{"hold c=0.0.0.0", holdLegacy, byPion, &Session{
			Origin: Origin{"user", 42, 43}, Addr: addr("0.0.0.0"), Direction: SendRecv,
			Media: []Media{{
				Type: "audio", Port: 6000, Proto: "RTP/AVP", Formats: []Format{pcmu()},
				Addr: addr("0.0.0.0"), Direction: SendRecv, RTCPPort: 6001,
			}},
		}},
		{"port 0 rejected video", rejectedVideo, byPion, &Session{
			Origin: Origin{"-", 7, 8}, Addr: addr("192.0.2.60"), Direction: SendRecv,
			Media: []Media{
				{Type: "audio", Port: 7078, Proto: "RTP/AVP", Formats: []Format{pcma()},
					Addr: addr("192.0.2.60"), Direction: SendRecv, RTCPPort: 7079},
				{Type: "video", Port: 0, Proto: "RTP/AVP", Formats: []Format{{PT: 96}},
					Addr: addr("192.0.2.60"), Direction: SendRecv},
			},
		}},
		{"t38 image udptl", t38, byFallback, &Session{
			Origin: Origin{"-", 1, 2}, Addr: addr("192.0.2.70"), Direction: SendRecv,
			Media: []Media{{
				Type: "image", Port: 4000, Proto: "udptl", Formats: []Format{{Name: "t38"}},
				Addr: addr("192.0.2.70"), Direction: SendRecv,
			}},
		}},
		{"sdes srtp", sdesSRTP, byPion, &Session{
			Origin: Origin{"-", 3, 3}, Addr: addr("192.0.2.80"), Direction: SendRecv,
			Media: []Media{{
				Type: "audio", Port: 5004, Proto: "RTP/SAVP", Formats: []Format{pcmu(), te(101, "0-16")},
				Addr: addr("192.0.2.80"), Direction: SendRecv, RTCPPort: 5005, Crypto: true,
			}},
		}},
		{"dtls fingerprint rtcp-mux", dtls, byPion, &Session{
			Origin: Origin{"-", 4611731400430051336, 2}, Direction: SendRecv,
			Media: []Media{{
				Type: "audio", Port: 40000, Proto: "UDP/TLS/RTP/SAVPF",
				Formats: []Format{{PT: 111, Name: "opus", ClockRate: 48000, Channels: 2,
					Fmtp: "minptime=10;useinbandfec=1"}, pcmu(), pcma()},
				Addr: addr("198.51.100.9"), Direction: SendRecv, RTCPPort: 40000, RTCPMux: true,
				Fingerprint: true,
			}},
		}},
		{"ipv6", ipv6, byPion, &Session{
			Origin: Origin{"-", 5, 5}, Addr: addr("2001:db8::10"), Direction: SendRecv,
			Media: []Media{{
				Type: "audio", Port: 16384, Proto: "RTP/AVP",
				Formats: []Format{pcma(), {PT: 13, Name: "CN", ClockRate: 8000, Channels: 1}},
				Addr:    addr("2001:db8::10"), Direction: RecvOnly, Ptime: 30, RTCPPort: 16385,
			}},
		}},
		{"missing s= and t=", noSessionName, byFallback, &Session{
			Origin: Origin{"gw", 100, 101}, Addr: addr("192.0.2.90"), Direction: SendRecv,
			Media: []Media{{
				Type: "audio", Port: 30000, Proto: "RTP/AVP",
				Formats: []Format{{PT: 18, Name: "G729", ClockRate: 8000, Channels: 1, Fmtp: "annexb=no"},
					te(101, "0-16")},
				Addr: addr("192.0.2.90"), Direction: SendRecv, RTCPPort: 30001,
			}},
		}},
		{"lf only rtcp inactive", lfOnly, byPion, &Session{
			Origin: Origin{"-", 9, 9}, Addr: addr("192.0.2.91"), Direction: SendRecv,
			Media: []Media{{
				Type: "audio", Port: 31000, Proto: "RTP/AVP", Formats: []Format{pcmu(), pcma()},
				Addr: addr("192.0.2.91"), Direction: Inactive, RTCPPort: 31005, RTCPMux: true,
			}},
		}},
		{"sloppy", sloppy, byFallback, &Session{
			Origin: Origin{"-", 11, 12}, Addr: addr("192.0.2.92"), Direction: SendRecv,
			Media: []Media{{
				Type: "audio", Port: 32000, Proto: "RTP/AVP", Formats: []Format{pcmu(), te(101, "0-16")},
				Addr: addr("192.0.2.92"), Direction: SendRecv, Ptime: 20, RTCPPort: 32001,
			}},
		}},
		{"multicast ttl and port count", multicastTTL, byPion, &Session{
			Origin: Origin{"-", 13, 13}, Addr: addr("233.252.0.1"), Direction: SendRecv,
			Media: []Media{{
				Type: "audio", Port: 33000, Proto: "RTP/AVP", Formats: []Format{pcmu()},
				Addr: addr("233.252.0.1"), Direction: SendRecv, RTCPPort: 33001,
			}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rd, err := parse([]byte(tt.body))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if rd != tt.reader {
				t.Errorf("reader = %d, want %d", rd, tt.reader)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			// The same body with LF-only line ends reads the same.
			lf, err := Parse([]byte(strings.ReplaceAll(tt.body, "\r\n", "\n")))
			if err != nil || !reflect.DeepEqual(lf, tt.want) {
				t.Errorf("LF-only: %v\ngot  %+v\nwant %+v", err, lf, tt.want)
			}
		})
	}
}

// TestReadersAgree checks that the fallback gives what pion gives on SDP
// that pion accepts, so switching reader never changes a result.
func TestReadersAgree(t *testing.T) {
	bodies := map[string]string{
		"asterisk": asteriskOffer, "cisco": ciscoAnswer, "polycom": polycomOffer,
		"hold": holdSendonly, "legacy hold": holdLegacy, "rejected": rejectedVideo,
		"sdes": sdesSRTP, "dtls": dtls, "ipv6": ipv6, "lf": lfOnly, "multicast": multicastTTL,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			r, ok := readPion([]byte(body))
			if !ok {
				t.Fatal("pion rejected a valid body")
			}
			want, err := r.build()
			if err != nil {
				t.Fatal(err)
			}
			var fb raw
			if !readLines([]byte(body), &fb) {
				t.Fatal("fallback saw no line")
			}
			got, err := fb.build()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("fallback %+v\npion     %+v", got, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		err  error
	}{
		{"empty", "", ErrMalformed},
		{"text", "hello world\r\n", ErrMalformed},
		{"no media", crlf("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\na=sendrecv\n"), ErrNoMedia},
		{"too large", "v=0\r\n" + strings.Repeat("a=x\r\n", MaxSize/5), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(tt.body))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if s != nil {
				t.Errorf("session = %+v, want nil", s)
			}
		})
	}
}

// TestTolerance covers bodies that only the fallback reads, field by field.
func TestTolerance(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, s *Session)
	}{
		{"bad port keeps the m= index", crlf("v=0\nc=IN IP4 192.0.2.1\nm=audio x RTP/AVP 0\nm=audio 4000 RTP/AVP 8\n"),
			func(t *testing.T, s *Session) {
				t.Helper()
				if len(s.Media) != 2 || s.Media[0].Port != 0 || s.Media[1].Port != 4000 {
					t.Errorf("media = %+v", s.Media)
				}
				if got := s.Media[1].RTPAddr(); got != netip.MustParseAddrPort("192.0.2.1:4000") {
					t.Errorf("RTPAddr = %v", got)
				}
			}},
		{"bare CR line ends", "v=0\ro=- 1 2 IN IP4 192.0.2.1\rc=IN IP4 192.0.2.1\rm=audio 4000 RTP/AVP 8\ra=recvonly\r",
			func(t *testing.T, s *Session) {
				t.Helper()
				if s.Origin.Version != 2 || len(s.Media) != 1 || s.Media[0].Direction != RecvOnly {
					t.Errorf("session = %+v", s)
				}
			}},
		{"first line wins", crlf("c=IN IP4 192.0.2.1\nc=IN IP4 192.0.2.2\nm=audio 4000 RTP/AVP 8\na=sendonly\na=recvonly\na=rtpmap:8 PCMA/8000\na=rtpmap:8 G726-32/8000\n"),
			func(t *testing.T, s *Session) {
				t.Helper()
				m := s.Media[0]
				if s.Addr != addr("192.0.2.1") || m.Direction != SendOnly || m.Formats[0].Name != "PCMA" {
					t.Errorf("session = %+v", s)
				}
			}},
		{"host name c= is invalid, not the session's", crlf("c=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 8\nc=IN IP4 pbx.example.com\n"),
			func(t *testing.T, s *Session) {
				t.Helper()
				if s.Media[0].Addr.IsValid() {
					t.Errorf("addr = %v, want invalid", s.Media[0].Addr)
				}
			}},
		{"rtpmap for unlisted and bad payload types", crlf("m=audio 4000 RTP/AVP 96 200 x 96\na=rtpmap:97 AMR/8000\na=rtpmap:96 speex/16000\na=rtpmap:200 x/1\n"),
			func(t *testing.T, s *Session) {
				t.Helper()
				want := []Format{{PT: 96, Name: "speex", ClockRate: 16000, Channels: 1}}
				if !reflect.DeepEqual(s.Media[0].Formats, want) {
					t.Errorf("formats = %+v", s.Media[0].Formats)
				}
			}},
		{"broken rtpmap keeps the static format", crlf("m=audio 4000 RTP/AVP 0 8\na=rtpmap:0 /\na=rtpmap:8 PCMA\na=rtpmap:0 PCMU/8000\n"),
			func(t *testing.T, s *Session) {
				t.Helper()
				if want := []Format{pcmu(), pcma()}; !reflect.DeepEqual(s.Media[0].Formats, want) {
					t.Errorf("formats = %+v", s.Media[0].Formats)
				}
			}},
		{"session ptime and fingerprint apply to media", crlf("a=ptime:30\na=fingerprint:sha-1 00\na=inactive\nm=audio 4000 RTP/AVP 0\nm=audio 5000 RTP/AVP 0\na=ptime:20\na=sendrecv\n"),
			func(t *testing.T, s *Session) {
				t.Helper()
				a, b := s.Media[0], s.Media[1]
				if a.Ptime != 30 || b.Ptime != 20 || !a.Fingerprint || !b.Encrypted() {
					t.Errorf("media = %+v", s.Media)
				}
				if s.Direction != Inactive || a.Direction != Inactive || b.Direction != SendRecv {
					t.Errorf("directions %v %v %v", s.Direction, a.Direction, b.Direction)
				}
			}},
		{"port 65535 has no RTCP port+1", crlf("m=audio 65535 RTP/AVP 0\n"),
			func(t *testing.T, s *Session) {
				t.Helper()
				if s.Media[0].RTCPPort != 0 {
					t.Errorf("rtcp = %d", s.Media[0].RTCPPort)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}

func TestMediaMethods(t *testing.T) {
	tests := []struct {
		name      string
		m         Media
		encrypted bool
		onHold    bool
		rtp       bool
	}{
		{"plain", Media{Proto: "RTP/AVP", Addr: addr("192.0.2.1"), Direction: SendRecv}, false, false, true},
		{"savp", Media{Proto: "RTP/SAVP", Addr: addr("192.0.2.1"), Direction: SendRecv}, true, false, true},
		{"dtls", Media{Proto: "UDP/TLS/RTP/SAVPF", Addr: addr("192.0.2.1"), Direction: SendRecv}, true, false, true},
		{"best-effort sdes", Media{Proto: "RTP/AVP", Crypto: true, Addr: addr("192.0.2.1"), Direction: SendRecv}, true, false, true},
		{"sendonly", Media{Proto: "RTP/AVP", Addr: addr("192.0.2.1"), Direction: SendOnly}, false, true, true},
		{"inactive", Media{Proto: "RTP/AVP", Addr: addr("192.0.2.1"), Direction: Inactive}, false, true, true},
		{"recvonly", Media{Proto: "RTP/AVP", Addr: addr("192.0.2.1"), Direction: RecvOnly}, false, false, true},
		{"c=0.0.0.0", Media{Proto: "RTP/AVP", Addr: addr("0.0.0.0"), Direction: SendRecv}, false, true, true},
		{"udptl", Media{Proto: "udptl", Addr: addr("192.0.2.1"), Direction: SendRecv}, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Encrypted(); got != tt.encrypted {
				t.Errorf("Encrypted = %v", got)
			}
			if got := tt.m.OnHold(); got != tt.onHold {
				t.Errorf("OnHold = %v", got)
			}
			if got := tt.m.IsRTP(); got != tt.rtp {
				t.Errorf("IsRTP = %v", got)
			}
		})
	}
	s, err := Parse([]byte(asteriskOffer))
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := s.Media[0].Format(101); !ok || f.Fmtp != "0-16" {
		t.Errorf("Format(101) = %+v, %v", f, ok)
	}
	if _, ok := s.Media[0].Format(18); ok {
		t.Error("Format(18) found in an offer without it")
	}
	if got := s.Media[0].RTPAddr(); got != netip.MustParseAddrPort("192.0.2.10:10000") {
		t.Errorf("RTPAddr = %v", got)
	}
}

func TestDirection(t *testing.T) {
	tests := []struct {
		d              Direction
		name           string
		sends, receive bool
	}{
		{SendRecv, "sendrecv", true, true},
		{SendOnly, "sendonly", true, false},
		{RecvOnly, "recvonly", false, true},
		{Inactive, "inactive", false, false},
		{0, "unknown", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.d.String() != tt.name || tt.d.Sends() != tt.sends || tt.d.Receives() != tt.receive {
				t.Errorf("%d: %s %v %v", tt.d, tt.d, tt.d.Sends(), tt.d.Receives())
			}
		})
	}
}

// BenchmarkParse reads a typical 12-line audio offer (pion's path).
func BenchmarkParse(b *testing.B) {
	body := []byte(asteriskOffer)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseFallback reads a body pion rejects (a= before t=).
func BenchmarkParseFallback(b *testing.B) {
	body := []byte(yealinkOffer)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}
