package capacity_test

import (
	"strings"
	"testing"
	"time"
)

// TestTalkProblem runs without root: a complete recording passes and each
// way of being incomplete is named.
func TestTalkProblem(t *testing.T) {
	const n = 300 // past the payloads' 256-packet period
	good := testWAV(n, 410, 490, 490+n*160)
	tests := []struct {
		name string
		wav  []byte
		span time.Duration // answer to BYE; 0 for a BYE before the last packet
		want string        // substring of the problem; "" for none
	}{
		{name: "complete", wav: good},
		{name: "truncated file", wav: good[:len(good)-2], want: "RIFF size"},
		{name: "short talk", wav: testWAV(n-1, 410, 490, 490+(n-1)*160), want: "need"},
		{name: "trailing silence", wav: testWAV(n, 410, 490, 491+n*160), want: "want 48490"},
		{name: "to the BYE", wav: testWAV(n, 410, 490, 49000), span: 49000 * time.Second / 8000},
		{name: "to the BYE, in whole samples", wav: testWAV(n, 410, 490, 49000), span: 49001*time.Second/8000 - 1},
		{name: "short of the BYE", wav: testWAV(n, 410, 490, 48999), span: 49000 * time.Second / 8000, want: "want 49000"},
		{name: "callee first", wav: testWAV(n, 490, 410, 490+n*160)},
		// The callee's packet k+64 carries the caller's packet k: a swapped
		// recording is told by what comes before and after.
		{name: "channels swapped", wav: func() []byte {
			w := testWAV(n, 410, 490, 490+n*160)
			for i := len(w) - 2*(490+n*160); i+1 < len(w); i += 2 {
				w[i], w[i+1] = w[i+1], w[i]
			}
			return w
		}(), want: "caller channel"},
		{name: "no caller audio", wav: testWAV(0, 0, 490, 490+n*160), want: "caller channel: first packet not found"},
		{name: "gap", wav: func() []byte {
			w := testWAV(n, 410, 490, 490+n*160)
			w[len(w)-2*n*160+2*100*160] ^= 1 // a byte of the caller's packet ~100
			return w
		}(), want: "caller channel: packet"},
		{name: "noise before the talk", wav: func() []byte {
			w := testWAV(n, 410, 490, 490+n*160)
			w[len(w)-2*(490+n*160)+1] = 0 // callee channel, frame 0
			return w
		}(), want: "callee channel: frame 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, got := talkProblem(tc.wav, n, tc.span)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("talkProblem = %q, want %q", got, tc.want)
			}
		})
	}
}
