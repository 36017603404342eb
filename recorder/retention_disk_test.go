package recorder

import (
	"testing"
	"time"
)

func TestDiskBudget(t *testing.T) {
	const mib = 1 << 20
	cases := []struct {
		name              string
		free, floor, want uint64
	}{
		{"far above", 1000 * mib, 10 * mib, 495 * mib},
		{"near", 12 * mib, 10 * mib, 1 * mib},
		{"half a step above", 10*mib + mib/2, 10 * mib, minDiskStep},
		{"at floor", 10 * mib, 10 * mib, minDiskStep},
		{"below floor", 1 * mib, 10 * mib, minDiskStep},
		{"no floor", 64 * mib, 0, 32 * mib},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := diskBudget(tc.free, tc.floor); got != tc.want {
				t.Errorf("diskBudget(%d, %d) = %d, want %d", tc.free, tc.floor, got, tc.want)
			}
		})
	}
}

// TestDiskFloorByBytes is issue 9's overshoot: the free space was checked
// every 10 s of wall clock, so at 1.9 MB/s a 10 MiB floor was overshot by
// 19 MB. Here the wall clock never moves: the check must come from the
// bytes the recorder writes, and the floor be overshot by at most one
// step (minDiskStep) plus the second of audio between two Advance scans.
func TestDiskFloorByBytes(t *testing.T) {
	const (
		floor = 2 << 20
		room  = 3 << 20 // above the floor at the start
	)
	wall := t0 // frozen: no wall-clock check is ever due
	r := newRecorder(t, Config{MinFreeBytes: floor, Now: func() time.Time { return wall }})
	var checks int
	r.mu.Lock()
	r.statfs = func(string) (uint64, error) {
		checks++
		// The disk holds only what the recorder wrote.
		return minus(floor+room, r.writtenLocked()), nil
	}
	r.checkDiskLocked()
	r.mu.Unlock()
	checks = 0

	answer(r, sdpBody(callerAddr, "RTP/AVP", "0", ""), sdpBody(calleeAddr, "RTP/AVP", "0", ""))
	a := &talker{src: callerAddr, dst: calleeAddr, ssrc: 1}
	b := &talker{src: calleeAddr, dst: callerAddr, ssrc: 2}
	at := t0
	var writtenAtFloor uint64
	for i := range 30000 { // 600 s of audio, 16 kB/s: far past the room
		at = t0.Add(time.Duration(i) * 20 * time.Millisecond)
		a.send(t, r, at, 0x55)
		b.send(t, r, at, 0x33)
		r.Advance(at)
		if r.Stats().FloorReached {
			r.mu.Lock()
			writtenAtFloor = r.writtenLocked()
			r.mu.Unlock()
			break
		}
	}
	if writtenAtFloor == 0 {
		t.Fatalf("floor never reached after %v of audio (%d checks)", at.Sub(t0), checks)
	}
	const perSecond = 2 * sampleRate // G.711 stereo bytes per second
	over := writtenAtFloor - room
	if writtenAtFloor < room || over > minDiskStep+2*perSecond {
		t.Errorf("floor reached after %d bytes written, room %d: overshoot %d", writtenAtFloor, room, over)
	}
	if checks > 12 {
		t.Errorf("%d free-space checks for %d bytes: not cheap", checks, writtenAtFloor)
	}
	rec := r.End(callID, at)
	syncRec(t, r)
	if rec == nil || rec.NotRecordable != ReasonDiskTruncated {
		t.Fatalf("recording %+v, want truncated at the floor", rec)
	}
	t.Logf("floor reached after %d bytes (overshoot %d), %d checks", writtenAtFloor, over, checks)
}

func minus(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}
