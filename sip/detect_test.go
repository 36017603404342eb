package sip

import "testing"

func TestLooksLikeSIP(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"INVITE sip:201@192.0.2.20 SIP/2.0\r\n", true},
		{"SIP/2.0 180 Ringing\r\n", true},
		{"OPTIONS sips:a@b SIP/3.0\r\nX: y\r\n", true},
		{"!interesting-Method0123456789_*+`.%indeed'~ sip:1@b SIP/2.0\r\n", true},
		{"INVITE sip:alan@jasomi.com\r\nTO : x\r\n", true},
		{"GET / HTTP/1.1\r\nHost: x\r\n", false},
		{"\x80\x00\x12\x34 rtp payload.....", false},
		{"INVITE sip:no-line-end SIP/2.0", false},
		{"short", false},
	}
	for _, tc := range tests {
		if got := LooksLikeSIP([]byte(tc.in)); got != tc.want {
			t.Errorf("LooksLikeSIP(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
