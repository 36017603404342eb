package main

import (
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/sip"
)

// progressEvery is how often the progress line is redrawn: often enough to
// look alive, rarely enough that a terminal (or an SSH link to the board)
// is not kept busy by it.
const progressEvery = 250 * time.Millisecond

// progressFresh bounds how long a redraw waits for the reader to publish
// its figures at its next frame: a reader that waits for its frames
// (--realtime) shows the figures of its last frame instead.
const progressFresh = 20 * time.Millisecond

// progressEnv is what a progress line needs from the world, injected so
// that tests run it without a terminal or a clock. Zero fields take the
// real ones.
type progressEnv struct {
	// isTerminal says whether fd is a terminal (term.IsTerminal).
	isTerminal func(fd int) bool
	// width returns the terminal's columns (term.GetSize).
	width func(fd int) (int, error)
	now   func() time.Time
	// ticker returns a channel that ticks every d and a function that
	// stops it.
	ticker func(d time.Duration) (<-chan time.Time, func())
}

func (e progressEnv) withDefaults() progressEnv {
	if e.isTerminal == nil {
		e.isTerminal = term.IsTerminal
	}
	if e.width == nil {
		e.width = func(fd int) (int, error) {
			w, _, err := term.GetSize(fd)
			return w, err
		}
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.ticker == nil {
		e.ticker = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	return e
}

// progress is the line that long work (replay, run --pcap) keeps redrawn in
// place on a terminal's stderr: bytes read of the files' total, packets,
// calls, rates and time left. A nil *progress (stderr is not a terminal:
// tests, systemd, a redirect) does nothing, so callers need no branches.
type progress struct {
	w        io.Writer
	width    int
	realtime bool
	now      func() time.Time
	ticker   func(time.Duration) (<-chan time.Time, func())

	// What the line shows; set before start.
	input func() capture.Progress
	calls func() uint64
	unit  string
	ended func() bool

	mu    sync.Mutex
	start time.Time
	// drawn is the length of the line now on screen, 0 when none.
	drawn    int
	finished bool

	cancel context.CancelFunc
	done   chan struct{}
}

// newProgress returns a progress line on stderr when stderr is a terminal,
// else nil. realtime says the input is paced at capture speed (run --pcap
// --realtime): the time left then comes from capture time (see eta).
func newProgress(stderr io.Writer, realtime bool, env progressEnv) *progress {
	env = env.withDefaults()
	f, ok := stderr.(interface{ Fd() uintptr })
	if !ok {
		return nil
	}
	fd := int(f.Fd()) //nolint:gosec // G115: a file descriptor fits an int
	if !env.isTerminal(fd) {
		return nil
	}
	width, err := env.width(fd)
	if err != nil || width <= 0 {
		width = 80
	}
	return newProgressTo(stderr, width, realtime, env)
}

// newProgressTo draws on w, a terminal width columns wide, whatever w is.
func newProgressTo(w io.Writer, width int, realtime bool, env progressEnv) *progress {
	env = env.withDefaults()
	return &progress{w: w, width: width, realtime: realtime, now: env.now, ticker: env.ticker}
}

// watch counts how far src is read for the line and returns the source to
// read instead (src itself for files read as fast as they go: counting
// then costs the reader nothing a frame, see capture.Count).
func (p *progress) watch(src capture.Source) capture.Source {
	if p == nil {
		return src
	}
	rd, c := capture.Count(src, p.realtime)
	p.input = func() capture.Progress { return c.Progress(progressFresh) }
	return rd
}

// countCalls wraps the pipeline's output so that the line shows the calls
// so far. Records are upserts (a call is emitted again when the 200 to
// its BYE comes), so calls are counted by ID, as the Collector keeps them.
func (p *progress) countCalls(add func(sip.Call)) func(sip.Call) {
	if p == nil {
		return add
	}
	seen := map[string]struct{}{}
	var n atomic.Uint64
	p.calls = n.Load
	return func(c sip.Call) {
		if _, ok := seen[c.ID]; !ok {
			seen[c.ID] = struct{}{}
			n.Add(1)
		}
		add(c)
	}
}

// follow sets what the line shows when the input is not read here (run
// --pcap: the daemon reads it): input's figures, the calls stored so far,
// and ended, which says the work is over and the final line is due. Any
// of them may be nil.
func (p *progress) follow(input func() capture.Progress, calls func() uint64, ended func() bool) {
	if p == nil {
		return
	}
	p.input, p.calls, p.ended = input, calls, ended
}

// countsRecords labels the count "records": the daemon's records stored,
// where a call is stored again when a trailing message changes it.
func (p *progress) countsRecords() {
	if p != nil {
		p.unit = "records"
	}
}

// writer returns w for messages that share the terminal with the line (the
// log, warnings): each write first blanks the line, which the next tick
// draws again below the message.
func (p *progress) writer(w io.Writer) io.Writer {
	if p == nil {
		return w
	}
	return progressWriter{p: p, w: w}
}

type progressWriter struct {
	p *progress
	w io.Writer
}

func (pw progressWriter) Write(b []byte) (int, error) {
	pw.p.mu.Lock()
	defer pw.p.mu.Unlock()
	pw.p.clearLocked()
	return pw.w.Write(b)
}

// run starts redrawing the line and returns the function that stops it and
// draws the final line (also when ended reported the end before).
func (p *progress) run(ctx context.Context) (stop func()) {
	if p == nil {
		return func() {}
	}
	ctx, p.cancel = context.WithCancel(ctx)
	p.done = make(chan struct{})
	p.start = p.now()
	ticks, stopTicks := p.ticker(progressEvery)
	go func() {
		defer close(p.done)
		defer stopTicks()
		p.tick()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticks:
				if p.tick() {
					return
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			p.cancel()
			<-p.done
			p.finish()
		})
	}
}

// tick redraws the line; it returns true, having drawn the final line,
// once ended says the work is over.
func (p *progress) tick() bool {
	if p.ended != nil && p.ended() {
		p.finish()
		return true
	}
	s := p.sample()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return true
	}
	line := formatProgress(s)
	// A line longer than the terminal would wrap, and \r would then
	// redraw only its last row.
	if limit := p.width - 1; limit > 0 && len(line) > limit {
		line = line[:limit]
	}
	pad := max(0, p.drawn-len(line))
	_, _ = io.WriteString(p.w, "\r"+line+strings.Repeat(" ", pad))
	p.drawn = len(line)
	return false
}

// finish replaces the line by the final one, ended by a newline, once.
func (p *progress) finish() {
	s := p.sample()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	p.clearLocked()
	_, _ = io.WriteString(p.w, formatFinal(s)+"\n")
}

// clearLocked blanks the line now on screen and returns the cursor to its
// start.
func (p *progress) clearLocked() {
	if p.drawn == 0 {
		return
	}
	_, _ = io.WriteString(p.w, "\r"+strings.Repeat(" ", p.drawn)+"\r")
	p.drawn = 0
}

// sample reads the figures the line shows.
func (p *progress) sample() progressSample {
	s := progressSample{elapsed: p.now().Sub(p.start), realtime: p.realtime, unit: p.unit}
	if p.input != nil {
		s.in = p.input()
	}
	if p.calls != nil {
		s.calls = p.calls()
	}
	return s
}
