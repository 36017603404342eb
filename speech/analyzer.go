package speech

import (
	"fmt"
	"slices"

	"github.com/switchtap/switchtap/sip"
)

// Sides of a leg, the channels of its recording.
const (
	Caller = 0
	Callee = 1
)

var sideNames = [2]string{"caller", "callee"}

// Analyzer measures the speech of one leg. It is fed the two channels
// time-aligned from the answer on, in blocks of any size (a partial frame
// is kept for the next block), and sums as it goes. Its memory is bounded
// (at most MaxSpeechSegments turns) and taken as it is first needed, so a
// leg holds what its audio needs: 0.8 KB a G.711 leg before its first
// turn, against 2.9 KB when the analyzer held room for everything.
// Feeding allocates only the first time and as turns are added. It is not
// safe for concurrent use.
type Analyzer struct {
	p    params
	side [2]track
	// part is Feed's partial frame (nil until Feed is used: a G.711 leg,
	// fed codes, never needs it).
	part  *[2][FrameSamples]int16
	partN int
	// law and partCodes serve FeedG711 (g711.go).
	law       *lawTables
	partCodes [2][FrameSamples]byte
	n         int64 // frames analysed

	// Both sides' labels are summed up to frame done.
	done             int64
	talk             [2]int64
	silence, overlap int64
	spoke            bool  // a side has spoken (frames before done)
	quietFrom        int64 // start of the current silence after speech, -1 in speech
	longest, longAt  int64 // longest silence bounded by speech, frames

	// segs are the first turns by start, at most MaxSpeechSegments,
	// grown as turns come (a call has a handful; an array of them all
	// took 1.5 KB a recorded leg).
	segs      []segment
	truncated bool
}

// New returns an analyzer with cfg's thresholds.
func New(cfg Config) (*Analyzer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("speech analyzer: %w", err)
	}
	a := &Analyzer{p: newParams(cfg), quietFrom: -1}
	a.side[Caller], a.side[Callee] = newTrack(&a.p), newTrack(&a.p)
	return a, nil
}

// Feed takes the next samples of both sides, caller[i] and callee[i] at
// the same instant; a longer slice's tail past the shorter is ignored (the
// recorder always passes equal lengths).
func (a *Analyzer) Feed(caller, callee []int16) {
	k := min(len(caller), len(callee))
	if a.part == nil {
		a.part = new([2][FrameSamples]int16)
	}
	feedFrames(a.part, &a.partN, caller[:k], callee[:k], a.frame)
}

// feedFrames cuts two sides' samples c and e (of equal length) into
// frames for frame, keeping a partial frame in part (partN samples of it)
// for the next call.
func feedFrames[T int16 | byte](part *[2][FrameSamples]T, partN *int, c, e []T, frame func(c, e *[FrameSamples]T)) {
	if *partN > 0 {
		n := copy(part[Caller][*partN:], c)
		copy(part[Callee][*partN:], e)
		*partN += n
		c, e = c[n:], e[n:]
		if *partN < FrameSamples {
			return
		}
		frame(&part[Caller], &part[Callee])
		*partN = 0
	}
	for len(c) >= FrameSamples {
		frame((*[FrameSamples]T)(c), (*[FrameSamples]T)(e))
		c, e = c[FrameSamples:], e[FrameSamples:]
	}
	*partN = copy(part[Caller][:], c)
	copy(part[Callee][:], e)
}

// frame analyses one frame of both sides.
func (a *Analyzer) frame(caller, callee *[FrameSamples]int16) {
	for i, x := range [2]*[FrameSamples]int16{caller, callee} {
		if s, ok := a.side[i].frame(&a.p, a.n, x); ok {
			s.side = uint8(i) //nolint:gosec // G115: i is 0 or 1.
			a.add(s)
		}
	}
	a.next()
}

// next ends a frame of both sides.
func (a *Analyzer) next() {
	a.n++
	a.sum(min(a.side[Caller].decided, a.side[Callee].decided))
}

// sum adds the frames [done, to), decided on both sides.
func (a *Analyzer) sum(to int64) {
	for f := a.done; f < to; f++ {
		c, e := a.side[Caller].speech(f), a.side[Callee].speech(f)
		switch {
		case c && e:
			a.overlap++
		case !c && !e:
			a.silence++
		}
		if c {
			a.talk[Caller]++
		}
		if e {
			a.talk[Callee]++
		}
		if c || e {
			// A silence bounded by speech on both ends is dead air.
			if a.quietFrom >= 0 && f-a.quietFrom > a.longest {
				a.longest, a.longAt = f-a.quietFrom, a.quietFrom
			}
			a.spoke, a.quietFrom = true, -1
		} else if a.spoke && a.quietFrom < 0 {
			a.quietFrom = f
		}
	}
	a.done = max(a.done, to)
}

// add keeps a finished turn among the first MaxSpeechSegments by start
// (turns end in any order across the sides).
func (a *Analyzer) add(s segment) {
	i := len(a.segs)
	for i > 0 && a.segs[i-1].start > s.start {
		i--
	}
	if i == sip.MaxSpeechSegments {
		a.truncated = true
		return
	}
	if len(a.segs) == sip.MaxSpeechSegments {
		a.truncated = true
		a.segs = a.segs[:len(a.segs)-1]
	}
	a.segs = slices.Insert(a.segs, i, s)
}

// Result returns the figures of the audio fed so far, as if it ended
// there (turns still open end at their last speech). A trailing partial
// frame (under 10 ms) is not analysed. The analyzer is left as it was.
func (a *Analyzer) Result() *sip.Speech {
	b := *a
	// b adds the open turns to a copy of the turns: a is left as it was.
	b.segs = slices.Clone(a.segs)
	for i := range b.side {
		if s, ok := b.side[i].finish(b.n); ok {
			s.side = uint8(i) //nolint:gosec // G115: i is 0 or 1.
			b.add(s)
		}
	}
	b.sum(b.n)
	r := &sip.Speech{
		TalkSeconds:             sip.SideSeconds{Caller: seconds(b.talk[Caller]), Callee: seconds(b.talk[Callee])},
		SilenceSeconds:          seconds(b.silence),
		OvertalkSeconds:         seconds(b.overlap),
		AnalysedSeconds:         seconds(b.n),
		LongestSilenceSeconds:   seconds(b.longest),
		LongestSilenceAtSeconds: seconds(b.longAt),
		Segments:                make([]sip.SpeechSegment, len(b.segs)),
		SegmentsTruncated:       b.truncated,
	}
	if f := b.side[Callee].first; f >= 0 {
		v := sampleSeconds(f)
		r.GreetingLatencySeconds = &v
	}
	if f := b.side[Caller].first; f >= 0 {
		v := sampleSeconds(f)
		r.CallerFirstSeconds = &v
	}
	for i, s := range b.segs {
		r.Segments[i] = sip.SpeechSegment{Side: sideNames[s.side], StartSeconds: sampleSeconds(s.start), EndSeconds: sampleSeconds(s.end)}
	}
	return r
}

func seconds(frames int64) float64  { return float64(frames) * frameSeconds }
func sampleSeconds(s int64) float64 { return float64(s) / SampleRate }
