package recorder

import (
	"testing"
	"time"
)

func TestStreamTimeline(t *testing.T) {
	ms := time.Millisecond
	const S = -1 // silence
	tests := []struct {
		name   string
		window int
		pkts   []pkt
		want   []int
		c      streamCounters
	}{
		{
			name: "in order",
			pkts: []pkt{{seq: 10, ts: 1000, fill: 1}, {seq: 11, ts: 1160, at: 20 * ms, fill: 2}, {seq: 12, ts: 1320, at: 40 * ms, fill: 3}},
			want: expectRuns(run{1, 160}, run{2, 160}, run{3, 160}),
			c:    streamCounters{Packets: 3},
		},
		{
			name: "starts after the answer",
			pkts: []pkt{{seq: 10, ts: 1000, at: 50 * ms, fill: 1}, {seq: 11, ts: 1160, at: 70 * ms, fill: 2}},
			want: expectRuns(run{S, 400}, run{1, 160}, run{2, 160}),
			c:    streamCounters{Packets: 2},
		},
		{
			name: "loss is silence of the exact length",
			pkts: []pkt{{seq: 10, ts: 0, fill: 1}, {seq: 11, ts: 160, at: 20 * ms, fill: 2}, {seq: 14, ts: 640, at: 80 * ms, fill: 5}},
			want: expectRuns(run{1, 160}, run{2, 160}, run{S, 320}, run{5, 160}),
			c:    streamCounters{Packets: 3, Lost: 2},
		},
		{
			name: "reorder within the window",
			pkts: []pkt{{seq: 1, ts: 0, fill: 1}, {seq: 3, ts: 320, fill: 3}, {seq: 2, ts: 160, fill: 2}, {seq: 4, ts: 480, fill: 4}},
			want: expectRuns(run{1, 160}, run{2, 160}, run{3, 160}, run{4, 160}),
			c:    streamCounters{Packets: 4},
		},
		{
			name: "duplicates dropped",
			pkts: []pkt{{seq: 1, ts: 0, fill: 1}, {seq: 2, ts: 160, fill: 2}, {seq: 2, ts: 160, fill: 9}, {seq: 4, ts: 480, fill: 4}, {seq: 4, ts: 480, fill: 9}, {seq: 3, ts: 320, fill: 3}, {seq: 1, ts: 0, fill: 9}},
			want: expectRuns(run{1, 160}, run{2, 160}, run{3, 160}, run{4, 160}),
			c:    streamCounters{Packets: 4, Duplicates: 3},
		},
		{
			name:   "late after the window gave up",
			window: 2,
			pkts:   []pkt{{seq: 1, ts: 0, fill: 1}, {seq: 3, ts: 320, fill: 3}, {seq: 4, ts: 480, fill: 4}, {seq: 5, ts: 640, fill: 5}, {seq: 2, ts: 160, fill: 2}},
			want:   expectRuns(run{1, 160}, run{S, 160}, run{3, 160}, run{4, 160}, run{5, 160}),
			c:      streamCounters{Packets: 4, Lost: 1, Late: 1},
		},
		{
			name: "DTX: marker with a timestamp jump",
			pkts: []pkt{{seq: 1, ts: 0, fill: 1}, {seq: 2, ts: 160, fill: 2}, {seq: 3, ts: 1600, marker: true, at: 200 * ms, fill: 3}},
			want: expectRuns(run{1, 160}, run{2, 160}, run{S, 1280}, run{3, 160}),
			c:    streamCounters{Packets: 3},
		},
		{
			name: "comfort noise is silence",
			pkts: []pkt{{seq: 1, ts: 0, fill: 1}, {seq: 2, ts: 160, pt: 13, n: 1, fill: 40}, {seq: 3, ts: 800, marker: true, fill: 3}},
			want: expectRuns(run{1, 160}, run{S, 640}, run{3, 160}),
			c:    streamCounters{Packets: 3},
		},
		{
			name: "unknown payload type is silence and counted",
			pkts: []pkt{{seq: 1, ts: 0, fill: 1}, {seq: 2, ts: 160, pt: 18, n: 20, fill: 7}, {seq: 3, ts: 320, fill: 3}},
			want: expectRuns(run{1, 160}, run{S, 160}, run{3, 160}),
			c:    streamCounters{Packets: 3, Undecodable: 1},
		},
		{
			name: "sequence wrap at 65535",
			pkts: []pkt{{seq: 65534, ts: 0, fill: 1}, {seq: 65535, ts: 160, fill: 2}, {seq: 1, ts: 480, fill: 4}, {seq: 0, ts: 320, fill: 3}, {seq: 2, ts: 640, fill: 5}},
			want: expectRuns(run{1, 160}, run{2, 160}, run{3, 160}, run{4, 160}, run{5, 160}),
			c:    streamCounters{Packets: 5},
		},
		{
			name: "timestamp wrap at 2^32",
			pkts: []pkt{{seq: 1, ts: 1<<32 - 160, fill: 1}, {seq: 2, ts: 0, fill: 2}, {seq: 4, ts: 320, fill: 4}},
			want: expectRuns(run{1, 160}, run{2, 160}, run{S, 160}, run{4, 160}),
			c:    streamCounters{Packets: 3, Lost: 1},
		},
		{
			name: "SSRC change is a new segment placed by capture time",
			pkts: []pkt{{seq: 1, ts: 0, fill: 1}, {seq: 2, ts: 160, at: 20 * ms, fill: 2}, {seq: 900, ts: 777777, ssrc: 99, at: 100 * ms, fill: 3}, {seq: 901, ts: 777937, ssrc: 99, at: 120 * ms, fill: 4}},
			want: expectRuns(run{1, 160}, run{2, 160}, run{S, 480}, run{3, 160}, run{4, 160}),
			c:    streamCounters{Packets: 4},
		},
		{
			name: "absurd timestamp jump resyncs on capture time",
			pkts: []pkt{{seq: 1, ts: 0, fill: 1}, {seq: 2, ts: 8000 * 100, at: 60 * ms, fill: 2}, {seq: 3, ts: 8000*100 + 160, at: 80 * ms, fill: 3}},
			want: expectRuns(run{1, 160}, run{S, 320}, run{2, 160}, run{3, 160}),
			c:    streamCounters{Packets: 3, Resyncs: 1},
		},
		{
			name: "long DTX confirmed by capture time keeps timestamps",
			pkts: []pkt{{seq: 1, ts: 0, fill: 1}, {seq: 2, ts: 160, pt: 13, n: 1}, {seq: 3, ts: 8000*7 + 160, marker: true, at: 7*time.Second + 13*ms, fill: 3}},
			want: expectRuns(run{1, 160}, run{S, 8000 * 7}, run{3, 160}),
			c:    streamCounters{Packets: 3},
		},
		{
			name: "backwards timestamp resyncs without overwriting",
			pkts: []pkt{{seq: 1, ts: 5000, fill: 1}, {seq: 2, ts: 5160, at: 20 * ms, fill: 2}, {seq: 3, ts: 100, at: 40 * ms, fill: 3}},
			want: expectRuns(run{1, 160}, run{2, 160}, run{3, 160}),
			c:    streamCounters{Packets: 3, Resyncs: 1},
		},
		{
			name: "one stray sequence jump is dropped (RFC 3550 A.1)",
			pkts: []pkt{{seq: 1, ts: 0, fill: 1}, {seq: 20000, ts: 160, fill: 9}, {seq: 2, ts: 160, fill: 2}},
			want: expectRuns(run{1, 160}, run{2, 160}),
			c:    streamCounters{Packets: 2, Bad: 1},
		},
		{
			name: "a confirmed sequence jump restarts the sequence",
			pkts: []pkt{{seq: 1, ts: 0, fill: 1}, {seq: 20000, ts: 160, at: 20 * ms, fill: 2}, {seq: 20001, ts: 320, at: 40 * ms, fill: 3}},
			want: expectRuns(run{1, 160}, run{S, 160}, run{3, 160}),
			c:    streamCounters{Packets: 2, Bad: 1},
		},
		{
			name: "telephone events are not audio",
			pkts: []pkt{{seq: 1, ts: 0, fill: 1}, {seq: 2, ts: 160, pt: 101, raw: []byte{5, 10, 0, 160}}, {seq: 3, ts: 160, pt: 101, raw: []byte{5, 0x8a, 1, 64}}, {seq: 4, ts: 480, fill: 4}},
			want: expectRuns(run{1, 160}, run{S, 320}, run{4, 160}),
			c:    streamCounters{Packets: 4},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl := &timeline{}
			table := defaultTable()
			table[101] = kindEvent
			w := tc.window
			if w == 0 {
				w = DefaultReorderWindow
			}
			s := newStream(t0, DefaultMaxJump, w, tableOf(&table), tl, &dtmf{})
			for _, p := range tc.pkts {
				h := p.header()
				s.push(t0.Add(p.at), &h, p.payload())
			}
			s.drain()
			if d := diffTimeline(tl.samples(len(tc.want)), tc.want); d != "" {
				t.Error(d)
			}
			if last := tl.got[len(tl.got)-1]; last.pos+int64(len(last.payload)) != int64(len(tc.want)) {
				t.Errorf("timeline ends at %d, want %d", last.pos+int64(len(last.payload)), len(tc.want))
			}
			if s.c != tc.c {
				t.Errorf("counters %+v, want %+v", s.c, tc.c)
			}
		})
	}
}

func TestStreamDigits(t *testing.T) {
	table := defaultTable()
	table[101] = kindEvent
	d := &dtmf{}
	s := newStream(t0, DefaultMaxJump, 8, tableOf(&table), &timeline{}, d)
	seq := uint16(1)
	send := func(ts uint32, at time.Duration, p []byte) {
		h := pkt{seq: seq, ts: ts, pt: 101}.header()
		seq++
		s.push(t0.Add(at), &h, p)
	}
	// "1" then "#": several packets per event, the end packet three times.
	send(1000, 0, []byte{1, 10, 0, 160})
	send(1000, 20*time.Millisecond, []byte{1, 10, 1, 64})
	for range 3 {
		send(1000, 40*time.Millisecond, []byte{1, 0x8a, 3, 32})
	}
	send(9000, time.Second, []byte{11, 10, 0, 160})
	send(9000, time.Second+20*time.Millisecond, []byte{11, 0x8a, 1, 64})
	want := []Digit{
		{At: t0, Digit: "1", Duration: 100 * time.Millisecond},
		{At: t0.Add(time.Second), Digit: "#", Duration: 40 * time.Millisecond},
	}
	if len(d.digits) != len(want) {
		t.Fatalf("digits %+v, want %+v", d.digits, want)
	}
	for i := range want {
		if d.digits[i] != want[i] {
			t.Errorf("digit %d = %+v, want %+v", i, d.digits[i], want[i])
		}
	}
}
