package speech

import "math"

// ringFrames is how many frames of decided labels a side keeps until the
// analyzer has both sides' label for them: more than the longest
// undecided span (a pending turn: MinSpeech active frames each up to
// MinSpeech apart, 20×21 frames at most; a turn's gap: Hangover, 100
// frames at most).
const (
	ringFrames = 512
	ringWords  = ringFrames / 64
)

// Turn states of a side.
const (
	idle    = iota
	pending // active frames seen, fewer than MinSpeech
	turn    // confirmed speech; ends after Hangover of silence
)

// params are the thresholds of a Config in the units of a frame: linear
// mean squares relative to full scale and per-frame factors.
type params struct {
	minLevel   float64 // mean square under which a frame is silence
	above      float64 // factor over the floor for speech
	noisy      float64 // further factor for a noise-like frame
	rise       float64 // floor factor a frame, slow
	noisyRise  float64 // floor factor a frame on noise-like frames
	noiseCross int     // crossings in a frame above which it is noise-like
	minRun     int     // active frames that make a turn
	hang       int64   // silent frames that end a turn
}

// fullScale is the mean square of 0 dBov.
const fullScale = 32768.0 * 32768.0

func dbRatio(db float64) float64 { return math.Pow(10, db/10) }

func newParams(c Config) params {
	return params{
		minLevel:   fullScale * dbRatio(c.MinLevelDBov),
		above:      dbRatio(c.AboveFloorDB),
		noisy:      dbRatio(c.NoisyExtraDB),
		rise:       dbRatio(c.FloorRiseDBPerSecond * frameSeconds),
		noisyRise:  dbRatio(c.NoisyRiseDBPerSecond * frameSeconds),
		noiseCross: int(c.NoiseZCR * FrameSamples),
		minRun:     frames(c.MinSpeech),
		hang:       int64(frames(c.Hangover)),
	}
}

// segment is one turn of a side: samples [start, end) from the answer.
type segment struct {
	side       uint8
	start, end int64
}

// track is the detector of one side.
type track struct {
	floor    float64
	prevLast int16 // last sample of the previous frame
	// prev is the previous frame, for the onset: nil before the first
	// frame of Feed (as zeros), and for a G.711 leg, fed codes, always.
	prev *[FrameSamples]int16
	// prevCodes is prev for G.711 codes (frameCodes).
	prevCodes [FrameSamples]byte

	state      uint8
	start      int64 // first active frame of the pending turn or turn
	onset      int64 // sample where it starts (refined inside the frame)
	active     int   // active frames of a pending turn
	lastActive int64
	first      int64 // onset sample of the first turn, -1 before it

	// decided is the first frame whose label is not known yet; labels of
	// frames before it are in bits (1: speech), ringFrames of them.
	decided int64
	bits    [ringWords]uint64
}

func newTrack(p *params) track { return track{floor: p.minLevel, first: -1} }

// label writes the label of frames [from, to) and moves decided to to.
func (t *track) label(from, to int64, speech bool) {
	for f := from; f < to; f++ {
		w, b := (f/64)%ringWords, uint(f%64)
		if speech {
			t.bits[w] |= 1 << b
		} else {
			t.bits[w] &^= 1 << b
		}
	}
	t.decided = to
}

// speech is the label of a decided frame still in the ring.
func (t *track) speech(f int64) bool {
	return t.bits[(f/64)%ringWords]&(1<<uint(f%64)) != 0
}

// frame takes frame n (FrameSamples samples) and returns the turn that
// ended with it, if any.
func (t *track) frame(p *params, n int64, x *[FrameSamples]int16) (segment, bool) {
	sum, cross := energy(x, t.prevLast)
	t.prevLast = x[FrameSamples-1]
	active, onset, amp := t.level(p, sum, cross)
	if onset {
		t.onset = n*FrameSamples + t.refine(x[:], amp)
	}
	if t.prev == nil {
		t.prev = new([FrameSamples]int16)
	}
	*t.prev = *x
	return t.step(p, n, active)
}

// frameCodes is frame for G.711 codes (FeedG711): the same decisions from
// the same sums, the samples decoded only to place an onset.
func (t *track) frameCodes(p *params, n int64, x *[FrameSamples]byte, law *lawTables) (segment, bool) {
	sum, cross := energyG711(x, &law.code, t.prevLast)
	t.prevLast = law.linear[x[FrameSamples-1]]
	active, onset, amp := t.level(p, sum, cross)
	if onset {
		t.onset = n*FrameSamples + t.refineCodes(n > 0, x, law, amp)
	}
	t.prevCodes = *x
	return t.step(p, n, active)
}

// level classifies a frame by its sum of squares and zero crossings and
// moves the noise floor: active says it is speech, onset that a turn may
// start in it (idle before), at amp, the level that made it active.
func (t *track) level(p *params, sum int64, cross int) (active, onset bool, amp float64) {
	e := float64(sum) / FrameSamples
	if e < p.minLevel {
		return false, false, 0
	}
	noisy := cross > p.noiseCross
	thr := t.floor * p.above
	if noisy && t.state != turn {
		// Inside a turn the noise-like tail of a word (a fricative,
		// speech fading into the line's noise) goes on the turn: the
		// extra margin only guards its start.
		thr *= p.noisy
	}
	active = e > thr
	if active && t.state == idle {
		onset, amp = true, math.Sqrt(thr)
	}
	// Down at once, up slowly (faster on noise), never past the frame,
	// never under the minimum level.
	switch {
	case e < t.floor:
		t.floor = e
	case noisy:
		t.floor = min(t.floor*p.noisyRise, e)
	default:
		t.floor = min(t.floor*p.rise, e)
	}
	t.floor = max(t.floor, p.minLevel)
	return active, onset, amp
}

// energy returns the sum of squares of the frame's samples and the number
// of sign changes from last, the previous frame's last sample, through
// the frame. Branch-free (a sign change is the top bit of a XOR, speech
// changes sign unpredictably) and in four independent sums, so the loop
// runs at the multiplier's pace; a frame's 80 squares of 16-bit samples
// fit an int64 many times over.
func energy(x *[FrameSamples]int16, last int16) (sum int64, cross int) {
	var s0, s1, s2, s3 int64
	var c uint32
	prev := uint16(last) //nolint:gosec // G115: the bits of a signed sample.
	for i := 0; i < FrameSamples; i += 4 {
		a, b, cc, d := x[i], x[i+1], x[i+2], x[i+3]
		s0 += int64(a) * int64(a)
		s1 += int64(b) * int64(b)
		s2 += int64(cc) * int64(cc)
		s3 += int64(d) * int64(d)
		ua, ub, uc, ud := uint16(a), uint16(b), uint16(cc), uint16(d) //nolint:gosec // G115: the bits of signed samples.
		c += uint32((prev^ua)>>15) + uint32((ua^ub)>>15) + uint32((ub^uc)>>15) + uint32((uc^ud)>>15)
		prev = ud
	}
	return s0 + s1 + s2 + s3, int(c)
}

// refine returns the offset from the frame's start (negative: in the
// previous frame's second half) of the first sample at the level that made
// the frame active.
func (t *track) refine(x []int16, amp float64) int64 {
	for i := FrameSamples / 2; t.prev != nil && i < FrameSamples; i++ {
		if math.Abs(float64(t.prev[i])) >= amp {
			return int64(i - FrameSamples)
		}
	}
	for i, s := range x {
		if math.Abs(float64(s)) >= amp {
			return int64(i)
		}
	}
	return 0
}

// refineCodes is refine for G.711 codes; before the first frame (not
// prev) there is nothing, as refine's zeros.
func (t *track) refineCodes(prev bool, x *[FrameSamples]byte, law *lawTables, amp float64) int64 {
	for i := FrameSamples / 2; prev && i < FrameSamples; i++ {
		if math.Abs(float64(law.linear[t.prevCodes[i]])) >= amp {
			return int64(i - FrameSamples)
		}
	}
	for i, c := range x {
		if math.Abs(float64(law.linear[c])) >= amp {
			return int64(i)
		}
	}
	return 0
}

// step moves the turn state by one frame's activity.
func (t *track) step(p *params, n int64, active bool) (segment, bool) {
	switch t.state {
	case idle:
		if !active {
			t.label(t.decided, n+1, false)
			return segment{}, false
		}
		t.state, t.start, t.active, t.lastActive = pending, n, 1, n
		t.decided = n
	case pending:
		if active {
			t.active++
			t.lastActive = n
		} else if n-t.lastActive > int64(p.minRun) {
			// Too little speech: a click, a burst of noise.
			t.state = idle
			t.label(t.decided, n+1, false)
			return segment{}, false
		}
	case turn:
		if active {
			t.label(t.decided, n+1, true)
			t.lastActive = n
		} else if n-t.lastActive > p.hang {
			return t.end(n + 1), true
		}
		return segment{}, false
	}
	if t.state == pending && t.active >= p.minRun {
		t.state = turn
		if t.first < 0 {
			t.first = max(t.onset, 0)
		}
		t.label(t.start, t.lastActive+1, true)
	}
	return segment{}, false
}

// end closes the turn at its last active frame: frames after it up to
// (not including) upto are silence.
func (t *track) end(upto int64) segment {
	t.label(t.lastActive+1, upto, false)
	t.state = idle
	return segment{start: max(t.onset, 0), end: (t.lastActive + 1) * FrameSamples}
}

// finish decides the frames left undecided at the end of the audio
// (frames [0, upto)): a turn ends there, a pending one is dropped.
func (t *track) finish(upto int64) (segment, bool) {
	switch t.state {
	case turn:
		return t.end(upto), true
	case pending:
		t.state = idle
	}
	t.label(t.decided, upto, false)
	return segment{}, false
}
