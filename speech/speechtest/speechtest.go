// Package speechtest builds the spoken fixtures of the speech tests at run
// time: phrases said by espeak-ng, resampled to 8 kHz 16-bit by sox, laid on
// a two-channel timeline at known offsets, with noise, comfort noise and
// gaps. The truth (where each phrase's speech starts and ends) is found in
// the clean phrase by sox's silence effect, never by the detector tested.
package speechtest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/switchtap/switchtap/internal/testenv"
	"github.com/switchtap/switchtap/sip"
)

// Rate is the fixtures' sample rate.
const Rate = 8000

// Clip is one spoken phrase, 8 kHz mono, and the extent of its speech.
type Clip struct {
	Samples []int16
	// On and Off are the first sample and the sample after the last whose
	// amplitude reaches TruthLevel (sox: silence 1 0 1% trims the leading
	// audio under it; reversed, the trailing).
	On, Off int
}

// TruthLevel is the amplitude (of full scale) that marks speech in a clean
// phrase: 1 %, -40 dBFS.
const TruthLevel = "1%"

// Tools skips (or fails, in CI) a test when espeak-ng or sox is missing.
func Tools(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.SkipOrFail(t, tool+" is not installed (apt-get install -y espeak-ng sox)")
		}
	}
}

// Phrase says text with espeak-ng voice (e.g. "en", "en+f3").
func Phrase(t testing.TB, voice, text string) Clip {
	t.Helper()
	Tools(t)
	dir := t.TempDir()
	wav := filepath.Join(dir, "phrase.wav")
	run(t, "espeak-ng", "-v", voice, "-s", "150", "-w", wav, text)
	raw := filepath.Join(dir, "phrase.raw")
	run(t, "sox", wav, "-r", "8000", "-b", "16", "-e", "signed-integer", "-c", "1", "-t", "raw", raw)
	trimmed := filepath.Join(dir, "lead.raw")
	run(t, "sox", "-r", "8000", "-b", "16", "-e", "signed-integer", "-c", "1", "-t", "raw", raw,
		"-t", "raw", trimmed, "silence", "1", "0", TruthLevel)
	both := filepath.Join(dir, "both.raw")
	run(t, "sox", "-r", "8000", "-b", "16", "-e", "signed-integer", "-c", "1", "-t", "raw", trimmed,
		"-t", "raw", both, "reverse", "silence", "1", "0", TruthLevel, "reverse")
	s := readRaw(t, raw)
	lead := len(s) - len(readRaw(t, trimmed))
	c := Clip{Samples: s, On: lead, Off: lead + len(readRaw(t, both))}
	if c.Off <= c.On {
		t.Fatalf("espeak-ng said nothing for %q", text)
	}
	return c
}

// Noise returns n samples of sox's noise of kind ("whitenoise",
// "pinknoise") scaled to rms (of full scale, linear).
func Noise(t testing.TB, kind string, n int, rms float64) []int16 {
	t.Helper()
	Tools(t)
	out := filepath.Join(t.TempDir(), "noise.raw")
	run(t, "sox", "-R", "-r", "8000", "-n", "-r", "8000", "-b", "16", "-e", "signed-integer", "-c", "1", "-t", "raw", out,
		"synth", fmt.Sprintf("%ds", n), kind, "vol", "0.5")
	s := readRaw(t, out)
	if len(s) < n {
		t.Fatalf("sox made %d noise samples, want %d", len(s), n)
	}
	s = s[:n]
	scale := rms * 32768 / RMS(s)
	for i, v := range s {
		s[i] = clip(float64(v) * scale)
	}
	return s
}

// RMS is the root mean square of s (in sample units).
func RMS(s []int16) float64 {
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(max(len(s), 1)))
}

func clip(v float64) int16 {
	return int16(max(-32768, min(32767, math.Round(v))))
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	var errb bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, errb.String())
	}
}

func readRaw(t testing.TB, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:])) //nolint:gosec // G115: the bits of a signed sample.
	}
	return s
}

// Span is a stretch of samples [From, To).
type Span struct{ From, To int }

// Timeline is the two channels of a leg, from the answer, and the truth of
// where each side speaks.
type Timeline struct {
	Side [2][]int16
	// Speech holds the truth per side: each placed phrase's [On, Off).
	Speech [2][]Span
}

// NewTimeline returns seconds of digital silence on both sides.
func NewTimeline(seconds float64) *Timeline {
	n := int(seconds * Rate)
	return &Timeline{Side: [2][]int16{make([]int16, n), make([]int16, n)}}
}

// Say places c on side at sample at (the clip's start, its leading
// silence included) and returns the truth onset.
func (tl *Timeline) Say(side, at int, c Clip) int {
	copy(tl.Side[side][at:], c.Samples)
	tl.Speech[side] = append(tl.Speech[side], Span{at + c.On, min(at+c.Off, len(tl.Side[side]))})
	return at + c.On
}

// Add mixes s into side from sample at.
func (tl *Timeline) Add(side, at int, s []int16) {
	d := tl.Side[side][at:]
	for i := range min(len(d), len(s)) {
		d[i] = clip(float64(d[i]) + float64(s[i]))
	}
}

// Fill overwrites side's samples [from, to) with v (an idle pattern, a gap).
func (tl *Timeline) Fill(side int, sp Span, v ...int16) {
	for i := sp.From; i < sp.To; i++ {
		tl.Side[side][i] = v[i%len(v)]
	}
}

// SpeechRMS is the level of side's truth speech.
func (tl *Timeline) SpeechRMS(side int) float64 {
	var sum float64
	n := 0
	for _, sp := range tl.Speech[side] {
		for _, v := range tl.Side[side][sp.From:sp.To] {
			sum += float64(v) * float64(v)
		}
		n += sp.To - sp.From
	}
	return math.Sqrt(sum/float64(max(n, 1))) / 32768
}

// Truth is the figures of the timeline, in seconds.
type Truth struct {
	Talk              [2]float64
	Silence, Overtalk float64
	First             [2]float64 // -1 when the side never speaks
}

// Truth sums the truth spans sample by sample.
func (tl *Timeline) Truth() Truth {
	n := len(tl.Side[0])
	var on [2][]bool
	tr := Truth{First: [2]float64{-1, -1}}
	for s := range 2 {
		on[s] = make([]bool, n)
		for _, sp := range tl.Speech[s] {
			for i := sp.From; i < sp.To; i++ {
				on[s][i] = true
			}
			if f := float64(sp.From) / Rate; tr.First[s] < 0 || f < tr.First[s] {
				tr.First[s] = f
			}
		}
	}
	for i := range n {
		a, b := on[0][i], on[1][i]
		if a {
			tr.Talk[0]++
		}
		if b {
			tr.Talk[1]++
		}
		switch {
		case a && b:
			tr.Overtalk++
		case !a && !b:
			tr.Silence++
		}
	}
	for s := range 2 {
		tr.Talk[s] /= Rate
	}
	tr.Silence /= Rate
	tr.Overtalk /= Rate
	return tr
}

// Sides of a timeline (the channels: left caller, right callee).
const (
	Caller = 0
	Callee = 1
)

// Tolerances of issue 13's proof: onsets within 30 ms, talk, silence and
// overtalk within 2 % of the call's (the timeline's) length.
const (
	onsetTolerance = 0.030
	shareTolerance = 0.02
)

// Check compares the analyzer's figures with the timeline's truth.
func Check(t *testing.T, got *sip.Speech, tl *Timeline) {
	t.Helper()
	tr := tl.Truth()
	length := float64(len(tl.Side[0])) / Rate
	onset := func(name string, got *float64, want float64) {
		t.Helper()
		if got == nil {
			t.Errorf("%s: none, want %.3f s", name, want)
			return
		}
		if math.Abs(*got-want) > onsetTolerance {
			t.Errorf("%s: %.3f s, want %.3f s ±%.0f ms", name, *got, want, onsetTolerance*1000)
		}
	}
	onset("greeting latency", got.GreetingLatencySeconds, tr.First[Callee])
	onset("caller first", got.CallerFirstSeconds, tr.First[Caller])
	share := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > shareTolerance*length {
			t.Errorf("%s: %.3f s, want %.3f s ±%.3f s (2 %% of %.1f s)", name, got, want, shareTolerance*length, length)
		}
	}
	share("caller talk", got.TalkSeconds.Caller, tr.Talk[Caller])
	share("callee talk", got.TalkSeconds.Callee, tr.Talk[Callee])
	share("silence", got.SilenceSeconds, tr.Silence)
	share("overtalk", got.OvertalkSeconds, tr.Overtalk)
	if math.Abs(got.AnalysedSeconds-length) > 0.01 {
		t.Errorf("analysed %.3f s, want %.3f s", got.AnalysedSeconds, length)
	}
	// One turn per phrase.
	if want := len(tl.Speech[0]) + len(tl.Speech[1]); len(got.Segments) != want {
		t.Errorf("%d segments, want %d: %+v", len(got.Segments), want, got.Segments)
	}
}
