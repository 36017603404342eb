package sip

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func addTortureSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "torture", "*", "*.dat"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(fInvite))
	f.Add([]byte(fRing))
}

// FuzzParse: no input may panic the parser, and whatever it accepts has
// the fields the tracker relies on.
func FuzzParse(f *testing.F) {
	addTortureSeeds(f)
	p := NewParser()
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := p.Parse(b)
		if err != nil {
			return
		}
		if m.CallID == "" {
			t.Fatal("accepted a message without Call-ID")
		}
		if !m.IsRequest && (m.StatusCode < 100 || m.StatusCode > 699) {
			t.Fatalf("accepted status %d", m.StatusCode)
		}
	})
}

// FuzzTracker feeds parsed fuzz messages to a tracker: it must never panic
// and must emit every leg it opened once flushed, and each record's ladder
// must hold cuts of the very bytes given, within the bounds.
func FuzzTracker(f *testing.F) {
	addTortureSeeds(f)
	p := NewParser()
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := p.Parse(b)
		if err != nil {
			return
		}
		n := 0
		tr := NewTracker(TrackerConfig{}, func(c Call) {
			n++
			checkLadder(t, c, b)
		})
		for i := range 3 {
			mc := *m
			pk := pkt(i * 1000)
			pk.Raw = b
			tr.Handle(&mc, pk)
			tr.Advance(at(i * 1000))
		}
		tr.Flush(at(5000), "end")
		if st := tr.Stats(); uint64(n)+st.Aggregated != st.LegsOpened || st.Open != 0 || st.MessageBytes != 0 {
			t.Fatalf("opened %d legs, emitted %d, aggregated %d, %d still open, %d message bytes held", st.LegsOpened, n, st.Aggregated, st.Open, st.MessageBytes)
		}
		// Every index lets go of a closed leg.
		if st := tr.Stats(); st.Unrung != 0 || st.FloodLegs != 0 || st.Sources != 0 || len(tr.due) != 0 || len(tr.xfer) != 0 {
			t.Fatalf("after flush: %+v, %d scheduled, %d transfer keys", st, len(tr.due), len(tr.xfer))
		}
	})
}

// checkLadder checks the messages of c, every one carried by raw.
func checkLadder(t *testing.T, c Call, raw []byte) {
	t.Helper()
	if len(c.Messages) > MaxLegMessages || len(c.Messages) == 0 {
		t.Fatalf("%d messages", len(c.Messages))
	}
	total := 0
	for i, lm := range c.Messages {
		total += len(lm.Raw)
		if len(lm.Raw) > MaxLegMessageRaw || !bytes.HasPrefix(raw, []byte(lm.Raw)) || lm.Size != len(raw) || lm.Truncated != (len(lm.Raw) < len(raw)) {
			t.Fatalf("message %d: %d of %d bytes kept (size %d, truncated %v), or not a prefix", i, len(lm.Raw), len(raw), lm.Size, lm.Truncated)
		}
	}
	if total > MaxLegMessageBytes {
		t.Fatalf("%d bytes of raw text", total)
	}
}

func BenchmarkParseInvite(b *testing.B) {
	msg, err := os.ReadFile(filepath.Join("testdata", "torture", "valid", "dblreq.dat"))
	if err != nil {
		b.Fatal(err)
	}
	p := NewParser()
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := p.Parse(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseRinging(b *testing.B) {
	msg := []byte("SIP/2.0 180 Ringing\r\nv: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1\r\nf: <sip:5551234@192.0.2.10>;tag=a\r\nt: <sip:201@192.0.2.20>;tag=b\r\ni: c1@192.0.2.10\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n")
	p := NewParser()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLooksLikeSIP measures the test every captured payload goes
// through: an RTP packet must be dismissed without allocating.
func BenchmarkLooksLikeSIP(b *testing.B) {
	rtp := make([]byte, 172)
	rtp[0] = 0x80
	b.ReportAllocs()
	for b.Loop() {
		if LooksLikeSIP(rtp) {
			b.Fatal("rtp taken for sip")
		}
	}
}
