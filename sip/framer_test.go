package sip

import (
	"errors"
	"strings"
	"testing"
)

const (
	fInvite = "INVITE sip:201@192.0.2.20 SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.10;branch=z9hG4bK1\r\nCall-ID: f1\r\nContent-Length: 4\r\n\r\nv=0\n"
	fRing   = "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/TCP 192.0.2.10;branch=z9hG4bK1\r\nCall-ID: f1\r\nl: 0\r\n\r\n"
	fTrying = "SIP/2.0 100 Trying\r\nCall-ID: f1\r\n\r\n"
)

func TestFramer(t *testing.T) {
	tests := []struct {
		name      string
		chunks    []string
		want      []string
		discarded int
	}{
		{"one message", []string{fInvite}, []string{fInvite}, 0},
		{"two in one segment", []string{fTrying + fRing}, []string{fTrying, fRing}, 0},
		{"split in three", []string{fInvite[:10], fInvite[10:70], fInvite[70:]}, []string{fInvite}, 0},
		{"split inside the body", []string{fInvite[:len(fInvite)-2], fInvite[len(fInvite)-2:]}, []string{fInvite}, 0},
		{"crlf keep-alives", []string{"\r\n\r\n", fTrying, "\r\n\r\n\r\n", fRing}, []string{fTrying, fRing}, 0},
		{"garbage line before a message", []string{"hello world\r\n" + fRing}, []string{fRing}, len("hello world\r\n")},
		{"compact content length", []string{fRing + fRing}, []string{fRing, fRing}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f Framer
			var got []string
			disc := 0
			for _, c := range tc.chunks {
				n, err := f.Write([]byte(c), func(m []byte) { got = append(got, string(m)) })
				if err != nil {
					t.Fatal(err)
				}
				disc += n
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("got %q\nwant %q", got, tc.want)
			}
			if disc != tc.discarded {
				t.Errorf("discarded %d, want %d", disc, tc.discarded)
			}
			if f.Buffered() != 0 {
				t.Errorf("%d bytes left buffered", f.Buffered())
			}
		})
	}
}

func TestFramerBounded(t *testing.T) {
	var f Framer
	hdr := "INVITE sip:a@b SIP/2.0\r\nX: " + strings.Repeat("a", MaxMessageSize) + "\r\n"
	_, err := f.Write([]byte(hdr), func([]byte) { t.Fatal("no message expected") })
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if f.Buffered() > MaxMessageSize {
		t.Fatalf("framer holds %d bytes", f.Buffered())
	}
	big := "SIP/2.0 200 OK\r\nContent-Length: 999999\r\n\r\n"
	if _, err := f.Write([]byte(big), func([]byte) {}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("huge Content-Length: err = %v", err)
	}
	var got []string
	if _, err := f.Write([]byte(fRing), func(m []byte) { got = append(got, string(m)) }); err != nil || len(got) != 1 {
		t.Fatalf("framer did not resynchronise: %v %q", err, got)
	}
}

func FuzzFramer(f *testing.F) {
	f.Add([]byte(fInvite+fRing), 7)
	f.Add([]byte("\r\n\r\n"+fTrying), 3)
	f.Add([]byte("SIP/2.0 200 OK\r\nContent-Length: -5\r\n\r\n"), 1)
	f.Fuzz(func(t *testing.T, b []byte, cut int) {
		var fr Framer
		if len(b) == 0 {
			cut = 0
		} else {
			cut = int(uint(cut) % uint(len(b)))
		}
		total := 0
		emit := func(m []byte) {
			total += len(m)
			// A framed message starts at a start line: never empty,
			// never on a keep-alive CRLF.
			if len(m) == 0 || m[0] == '\r' || m[0] == '\n' {
				t.Fatalf("framed %q", m)
			}
		}
		_, _ = fr.Write(b[:cut], emit)
		_, _ = fr.Write(b[cut:], emit)
		if fr.Buffered() > len(b) || total > len(b) {
			t.Fatalf("framer produced more than it was given")
		}
	})
}
