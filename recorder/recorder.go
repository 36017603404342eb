// Package recorder writes both directions of every answered call leg to a
// stereo WAV file: left is the audio the caller (the side that sent the
// INVITE) sent, right the audio of the answering side, 8 kHz, both aligned
// on capture time from the answer to the end.
//
// RTP is tied to a leg by the SDP offer/answer (RFC 3264): each side's SDP
// says where it receives, so RTP toward the callee's address is the
// caller's audio. Flows are keyed by destination first and their source is
// learned (symmetric RTP, RFC 4961). Each 5-tuple is rebuilt on its own
// timeline (RFC 3550 A.1 sequence unwrap, a small reorder window, loss and
// DTX as silence) and the two channels are interleaved into the file as the
// capture clock advances, so memory per leg is bounded. Audio is stored as
// G.711 when both directions use the same law, else as 16-bit PCM.
//
// Encrypted (SRTP) legs and codecs we cannot decode get no WAV: the call
// record says why, and the leg's RTP is kept as a pcap.
//
// WAV files are created, written and finished by a writer goroutine
// (writer.go): the pipeline interleaves the audio into pooled blocks and
// hands 16 KB chunks over a queue bounded in bytes. A finished file is made
// durable off the capture path, in groups, by a committer of its own
// (commit.go): the pipeline never waits on the disk, and a file is
// reported complete only once it is on disk and in place.
package recorder

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/sip"
	"github.com/switchtap/switchtap/sip/sdp"
	"github.com/switchtap/switchtap/speech"
)

// Defaults of Config.
const (
	DefaultStreamTimeout = 60 * time.Second
	DefaultMaxJump       = 5 * time.Second
	DefaultReorderWindow = 8
	// DefaultBufferFrames is how far (1 s) one channel may run ahead of the
	// file before the other is written as silence.
	DefaultBufferFrames = sampleRate
	// maxEnded bounds the results kept for a second End.
	maxEnded = 4096
	// scanEvery is the capture-time period of the stream timeout scan.
	scanEvery = time.Second
	// diskEvery is the wall-clock period of the free-space check when the
	// recorder writes little (the free space others take); by bytes written
	// it is checked sooner (retention.go diskDue).
	diskEvery = 10 * time.Second
)

// Reasons a leg is not recordable, as the call record shows them.
const (
	ReasonDiskFloor     = "disk floor"
	ReasonDiskTruncated = "disk floor (truncated)"
	ReasonWriteError    = "write error"
)

// Config configures a Recorder.
type Config struct {
	// Dir is the root of the recordings; files are DIR/YYYY/MM/DD/<id>.wav.
	Dir string
	// StreamTimeout closes a stream silent this long (capture time).
	StreamTimeout time.Duration
	// MaxJump caps RTP timestamp jumps: larger ones resynchronise the
	// stream on capture time.
	MaxJump time.Duration
	// ReorderWindow is the number of packets held to reorder per stream.
	ReorderWindow int
	// BufferFrames is how many frames a channel may run ahead of the file.
	BufferFrames int
	// PCM forces 16-bit PCM files even when both directions are G.711 of
	// the same law.
	PCM bool
	// MinFreeBytes is the free-space floor: below it no audio is written.
	MinFreeBytes uint64
	// MaxTotalBytes and MaxAge bound the recordings kept (Sweep); 0 means
	// no bound.
	MaxTotalBytes uint64
	MaxAge        time.Duration
	// Now is the wall clock, used only for disk checks and retention,
	// never to place audio. Default time.Now.
	Now func() time.Time
	// Syncer makes finished files durable, from the committer's goroutine
	// (commit.go). Default: the disk (syncfs for a group on Linux).
	Syncer Syncer
	// Speech tunes the voice-activity detector whose figures go into the
	// record's speech object (zero: speech.DefaultConfig()).
	Speech speech.Config
	// CommitQueue bounds the finished files waiting for the committer;
	// past it a leg's file is not promised (ReasonCommitFull). Default
	// DefaultCommitQueue.
	CommitQueue int
	// SyncOnClose makes every file durable in one round at Close (or
	// Sync) instead of as they finish: for replay, which stores nothing
	// and prints its records only after Close. No committer goroutine;
	// the files stay ".part" until then. It implies WaitForDisk.
	SyncOnClose bool
	// WaitForDisk makes the pipeline wait when the writer's queue is full
	// instead of cutting the leg: for an offline source (a capture file
	// read faster than real time), which the disk only slows down. A live
	// capture must not set it.
	WaitForDisk bool
	// CloseTimeout bounds Close's wait for the last files. Default
	// DefaultCloseTimeout.
	CloseTimeout time.Duration
	// WriteQueueBytes bounds the audio waiting for the writer goroutine
	// (writer.go); past it a leg is cut (ReasonCommitFull). Default
	// DefaultWriteQueueBytes.
	WriteQueueBytes int

	// openFile creates a recording's ".part" file (tests: a slow disk).
	openFile func(path string) (writeFile, error)
}

// Side gives the figures of one direction that the call record does not
// (yet) carry.
type Side struct {
	Codec       string  `json:"codec"`
	Packets     uint64  `json:"packets"`
	Lost        uint64  `json:"lost"`
	Late        uint64  `json:"late"`
	Duplicates  uint64  `json:"duplicates"`
	Bad         uint64  `json:"bad"`
	Undecodable uint64  `json:"undecodable"`
	Resyncs     uint64  `json:"resyncs"`
	Streams     int     `json:"streams"`
	Digits      []Digit `json:"digits,omitempty"`
}

// Result is what the recorder knows of a leg once it ended.
type Result struct {
	// Recording is the call record's recording object.
	Recording sip.Recording
	// Pcap is the path (relative to Dir) of the RTP kept instead of a WAV.
	Pcap string
	// Caller and Callee are the directions (left and right channel).
	Caller, Callee Side
	// LateSamples counts samples that came after their frames were written.
	LateSamples uint64
	// Speech and Quality are what the audio shows (issue 13): nil when
	// the leg had no audio file, or no RTP at all.
	Speech  *sip.Speech
	Quality *sip.Quality
}

// Recorder records the audio of answered legs. Its methods may be called
// from several goroutines; the pipeline calls them in capture order.
type Recorder struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	legs     map[string]*leg
	expect   map[netip.AddrPort]expectation
	tables   map[ptTable]*ptTable
	ended    map[string]*Result
	endOrder []string
	pkt      rtp.Packet
	stats    Stats
	scanned  time.Time
	diskAt   time.Time
	floor    bool
	// diskWritten is the bytes written at the last free-space check and
	// diskBudget how many more may be written before the next (retention.go).
	diskWritten, diskBudget uint64
	// statfs reads the free space of Dir (nil: statfs(2); tests fake it).
	statfs func(dir string) (uint64, error)
	// com makes the finished files durable (commit.go).
	com *committer
	// wr creates and writes the WAV files (writer.go).
	wr *fileWriter
}

// New returns a recorder writing under cfg.Dir (created with mode 0700).
func New(cfg Config, log *slog.Logger) (*Recorder, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("%w: no directory", ErrConfig)
	}
	if cfg.StreamTimeout <= 0 {
		cfg.StreamTimeout = DefaultStreamTimeout
	}
	if cfg.MaxJump <= 0 {
		cfg.MaxJump = DefaultMaxJump
	}
	if cfg.ReorderWindow <= 0 {
		cfg.ReorderWindow = DefaultReorderWindow
	}
	if cfg.BufferFrames < 2*maxPayload {
		cfg.BufferFrames = max(cfg.BufferFrames, DefaultBufferFrames)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Speech == (speech.Config{}) {
		cfg.Speech = speech.DefaultConfig()
	}
	if err := cfg.Speech.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Syncer == nil {
		cfg.Syncer = diskSyncer{}
	}
	if cfg.CommitQueue <= 0 {
		cfg.CommitQueue = DefaultCommitQueue
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = DefaultCloseTimeout
	}
	if cfg.WriteQueueBytes <= 0 {
		cfg.WriteQueueBytes = DefaultWriteQueueBytes
	}
	if cfg.openFile == nil {
		cfg.openFile = openPart
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	r := &Recorder{
		cfg:    cfg,
		log:    log,
		legs:   make(map[string]*leg),
		expect: make(map[netip.AddrPort]expectation),
		tables: make(map[ptTable]*ptTable),
		ended:  make(map[string]*Result),
		wr:     newFileWriter(cfg.openFile, cfg.WriteQueueBytes, cfg.WaitForDisk || cfg.SyncOnClose, log),
	}
	go r.wr.run()
	if cfg.SyncOnClose {
		r.com = newCommitter(cfg.Syncer, 0)
	} else {
		r.com = newCommitter(cfg.Syncer, cfg.CommitQueue)
		go r.runCommitter()
	}
	r.checkDisk()
	return r, nil
}

// Media takes one SDP body of a leg, in capture order: fromCaller says the
// caller sent it, early that it came in a provisional response. Every SDP
// re-keys the sender's receive address (re-INVITE, UPDATE, hold).
func (r *Recorder) Media(callID string, at time.Time, fromCaller, early bool, body []byte) {
	sess, err := sdp.Parse(body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.stats.BadSDP++
		r.log.Debug("sdp not usable", "call_id", callID, "err", err)
		return
	}
	if _, done := r.ended[callID]; done {
		return
	}
	l := r.leg(callID)
	s, channel := &l.callee, left
	other := &l.caller
	if fromCaller {
		s, channel, other = &l.caller, right, &l.callee
	}
	// A later SDP of the other side settles what an offer replaced: the
	// snapshot of the hold state no longer holds (offer.go).
	other.prior.holdValid = false
	s.prior = priorOffer{set: true, sess: s.sess, audio: s.audio, hold: l.hold, holdValid: true}
	r.describe(l, s, channel, sess, firstAudio(sess))
	_ = early // early SDP keys the flow; its RTP is counted, not recorded.
	l.hold.media(fromCaller, s.audio, at, l.answered, l.answerAt)
	if l.answered && !l.started {
		r.start(l)
	}
}

// describe makes sess (its audio line audio) side s's description: RTP
// toward its address is what the other side sends, on channel.
func (r *Recorder) describe(l *leg, s *side, channel int, sess *sdp.Session, audio *sdp.Media) {
	s.sess, s.audio = sess, audio
	if e, ok := r.expect[s.key]; ok && e.leg == l && !e.learned {
		delete(r.expect, s.key)
	}
	s.key = netip.AddrPort{}
	if s.audio != nil && s.audio.Addr.IsValid() && !s.audio.Addr.IsUnspecified() {
		s.key = s.audio.RTPAddr()
		r.expect[s.key] = expectation{leg: l, channel: channel}
	}
	l.tables[left] = r.table(tableFor(pick(l.callee.audio, l.caller.audio)))
	l.tables[right] = r.table(tableFor(pick(l.caller.audio, l.callee.audio)))
}

// maxTables bounds the payload tables shared between legs.
const maxTables = 64

// table returns the shared copy of t: legs negotiate the same few codec
// lists, so their tables stay in the cache. Past maxTables distinct
// tables (odd SDP), a leg has its own.
func (r *Recorder) table(t ptTable) *ptTable {
	if p, ok := r.tables[t]; ok {
		return p
	}
	p := &t
	if len(r.tables) < maxTables {
		r.tables[t] = p
	}
	return p
}

func pick(a, b *sdp.Media) *sdp.Media {
	if a != nil {
		return a
	}
	return b
}

func (r *Recorder) leg(callID string) *leg {
	l := r.legs[callID]
	if l == nil {
		l = &leg{callID: callID}
		d := r.table(defaultTable())
		l.tables = [2]*ptTable{d, d}
		r.legs[callID] = l
	}
	return l
}

// Answered starts the recorded span of the leg at capture time at; recordID
// names the file.
func (r *Recorder) Answered(callID, recordID string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, done := r.ended[callID]; done {
		return
	}
	l := r.leg(callID)
	if l.answered {
		return
	}
	l.answered, l.answerAt, l.recordID = true, at, recordID
	l.gaps.start(at)
	if l.caller.sess != nil || l.callee.sess != nil {
		r.start(l)
	}
}

// start opens the leg's WAV, or its pcap when the audio cannot be decoded.
func (r *Recorder) start(l *leg) {
	l.started = true
	reason, k := l.refusal()
	if reason == "" && r.floor {
		reason = ReasonDiskFloor
	}
	l.notRec = reason
	if reason == ReasonDiskFloor || reason == "no audio stream" {
		r.stats.NotRecordable++
		return
	}
	day := l.answerAt.UTC()
	rel := filepath.Join(day.Format("2006"), day.Format("01"), day.Format("02"))
	name := safeName(l.recordID, l.callID)
	if reason != "" {
		r.stats.NotRecordable++
		if err := os.MkdirAll(filepath.Join(r.cfg.Dir, rel), 0o700); err != nil {
			r.writeFailed(l, err)
			return
		}
		l.relPath = filepath.Join(rel, name+".pcap")
		p, err := createPcap(filepath.Join(r.cfg.Dir, l.relPath))
		if err != nil {
			r.writeFailed(l, err)
			return
		}
		l.pcap = p
		return
	}
	l.codecs = [2]kind{k, k}
	l.relPath = filepath.Join(rel, name+".wav")
	f := fileFormat(k, k, r.cfg.PCM)
	// Created by the writer goroutine: a failure there (the directory,
	// the file) is known to the committer, which does not promise the
	// file (Settle), as for a failed sync.
	l.file = &wavFile{path: filepath.Join(r.cfg.Dir, l.relPath), dir: filepath.Join(r.cfg.Dir, rel), fmt: f}
	r.wr.create(l.file)
	l.mix = newMixer(legFile{r.wr, l.file}, f, r.cfg.BufferFrames)
	// The configuration was validated by New.
	l.mix.speech, _ = newSpeechTap(f, r.cfg.Speech)
}

func (r *Recorder) writeFailed(l *leg, err error) {
	r.stats.WriteErrors++
	l.notRec = ReasonWriteError
	r.log.Warn("recording not written", "call_id", l.callID, "err", err)
}

// safeName keeps the record id usable as a file name.
func safeName(id, fallback string) string {
	if id == "" {
		id = fallback
	}
	b := []byte(id)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' && i > 0
		if !ok {
			b[i] = '_'
		}
	}
	if len(b) > 128 {
		b = b[:128]
	}
	return string(b)
}

// Packet takes a UDP datagram that is not SIP. It reports whether the
// datagram belongs to an expected stream; for others it returns fast,
// without allocating.
func (r *Recorder) Packet(d *capture.Datagram) bool {
	if d.Transport != capture.UDP {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.expect[d.Dst]
	if !ok {
		return false
	}
	r.stats.Matched++
	// The leg and the flow are fetched together, not one after the
	// other: neither address depends on the other's memory.
	l, fl := e.leg, e.last
	known := fl != nil && fl.src == d.Src
	switch {
	case !l.started:
		l.early++
		r.stats.Early++
		return true
	case l.pcap != nil:
		if err := l.pcap.write(d); err != nil {
			r.stats.WriteErrors++
		}
		return true
	case l.mix == nil:
		return true
	}
	p := d.Payload
	if len(p) < 12 || p[0]>>6 != 2 {
		// pion does not check the version (RFC 3550 §5.1: V=2).
		r.stats.BadRTP++
		return true
	}
	if p[1] >= 192 && p[1] <= 223 {
		// RTCP multiplexed on the RTP port (RFC 5761 §4).
		r.stats.RTCP++
		return true
	}
	if err := r.pkt.Unmarshal(p); err != nil {
		r.stats.BadRTP++
		return true
	}
	if k := l.tables[e.channel][r.pkt.PayloadType&0x7f]; (k == kindPCMU || k == kindPCMA) && len(r.pkt.Payload) > 0 {
		// On the wire, in capture order: the audio hold figure
		// (hold.go) wants when each direction sent audio, not when
		// the reorder window let it out.
		l.gaps.packet(e.channel, d.Time, len(r.pkt.Payload))
	}
	if !known {
		if fl = r.flow(l, d, e.channel); fl == nil {
			return true
		}
		// In the map by value (a packet fetches the map's slot, not an
		// object it points to): the cache is stored back.
		e.last = fl
		r.expect[d.Dst] = e
	}
	if fl.closed {
		fl.closed = false
		r.stats.StreamsOpen++
	}
	fl.st.push(d.Time, &r.pkt.Header, r.pkt.Payload)
	l.last = d.Time
	r.stats.Packets++
	if l.mix.err != nil {
		r.cut(l)
	}
	return true
}

// cut ends the audio of a leg whose chunk the writer's queue refused: the
// disk does not keep up. Its file is closed as it stands (".part", for
// Repair) and not promised, as when the committer's queue is full.
func (r *Recorder) cut(l *leg) {
	m := l.mix
	l.mix = nil
	l.frames, l.late = m.flushed, m.late
	// The figures cover the audio flushed before the cut.
	l.speech = m.speech.result()
	r.wr.abort(l.file, &m.pend)
	r.tooSlow(l, "the write queue is full")
}

// tooSlow marks a leg whose file the disk could not take in time.
func (r *Recorder) tooSlow(l *leg, why string) {
	l.notRec = ReasonCommitFull
	r.stats.Cut++
	r.log.Error("recording not kept: the disk is too slow", "call_id", l.callID,
		"file", l.relPath+partSuffix, "reason", why)
}

// flow returns the leg's flow of the datagram's 5-tuple, creating it and
// learning its source as the address of the other direction.
func (r *Recorder) flow(l *leg, d *capture.Datagram, channel int) *flow {
	for _, f := range l.flows {
		if f.src == d.Src && f.dst == d.Dst {
			return f
		}
	}
	if len(l.flows) >= maxStreams {
		r.stats.StreamsRefused++
		return nil
	}
	f := &flow{src: d.Src, dst: d.Dst, channel: channel}
	f.st = *newStream(l.answerAt, r.cfg.MaxJump, r.cfg.ReorderWindow, &l.tables[channel], l.mix.channel(channel), &l.dtmf[channel])
	l.flows = append(l.flows, f)
	r.stats.StreamsOpen++
	if _, ok := r.expect[d.Src]; !ok {
		// Symmetric RTP (RFC 4961): the peer sends back to where this
		// flow comes from, which NAT may have changed from the SDP.
		r.expect[d.Src] = expectation{leg: l, channel: 1 - channel, learned: true}
		l.learned = append(l.learned, d.Src)
	}
	return f
}

// Advance moves the capture clock to now: streams silent for StreamTimeout
// are closed. It also checks the free space when half the room above the
// floor has been written, or every diskEvery of wall clock.
func (r *Recorder) Advance(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Called for every captured frame: nothing but this comparison until a
	// second of capture time has passed (a quiet line is advanced by the
	// daemon's ticker, so the disk is still checked).
	if now.Sub(r.scanned) < scanEvery && !now.Before(r.scanned) {
		return
	}
	r.scanned = now
	if r.diskDue(r.cfg.Now()) {
		r.checkDiskLocked()
	}
	for _, l := range r.legs {
		for _, f := range l.flows {
			if !f.closed && now.Sub(f.st.lastSeen) > r.cfg.StreamTimeout {
				f.st.drain()
				f.closed = true
				r.stats.StreamsOpen--
				r.stats.StreamsTimedOut++
			}
		}
		if l.mix != nil && l.mix.err != nil {
			r.cut(l)
		}
	}
}

// End closes the leg's recording at capture time at and returns its
// recording object: nil if the leg was never answered or had no SDP. A
// second call returns the same result.
func (r *Recorder) End(callID string, at time.Time) *sip.Recording {
	res := r.EndResult(callID, at)
	if res == nil {
		return nil
	}
	rec := res.Recording
	return &rec
}

// Analysis returns the speech and RTP quality figures of a leg End closed
// (tap.MediaAnalysis), nil when there are none.
func (r *Recorder) Analysis(callID string) (*sip.Speech, *sip.Quality) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res, ok := r.ended[callID]
	if !ok {
		return nil, nil
	}
	return res.Speech, res.Quality
}

// EndResult is End returning everything known of the leg.
func (r *Recorder) EndResult(callID string, at time.Time) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	if res, ok := r.ended[callID]; ok {
		return res
	}
	l := r.legs[callID]
	if l == nil {
		return nil
	}
	res := r.finish(l, at, false)
	r.remember(callID, res)
	return res
}

func (r *Recorder) remember(callID string, res *Result) {
	if len(r.endOrder) >= maxEnded {
		delete(r.ended, r.endOrder[0])
		r.endOrder = r.endOrder[1:]
	}
	r.ended[callID] = res
	r.endOrder = append(r.endOrder, callID)
}

// finish closes a leg; with all it keeps every buffered frame (shutdown),
// else the file spans the answer to at.
func (r *Recorder) finish(l *leg, at time.Time, all bool) *Result {
	end := at // the leg's end, for hold; at may become the audio's end
	for _, k := range append([]netip.AddrPort{l.caller.key, l.callee.key}, l.learned...) {
		if e, ok := r.expect[k]; ok && e.leg == l {
			delete(r.expect, k)
		}
	}
	delete(r.legs, l.callID)
	allClosed := len(l.flows) > 0
	for _, f := range l.flows {
		f.st.drain()
		r.stats.Lost += f.st.c.Lost
		r.stats.Late += f.st.c.Late
		r.stats.Duplicates += f.st.c.Duplicates
		if !f.closed {
			allClosed = false
			f.closed = true
			r.stats.StreamsOpen--
		}
	}
	if !l.answered || !l.started {
		return nil
	}
	if allClosed && l.last.Before(at) {
		// Every stream timed out (no BYE): the audio ended with them.
		at = l.last
	}
	res := &Result{Recording: sip.Recording{NotRecordable: l.notRec}}
	res.Caller = l.side(left)
	res.Callee = l.side(right)
	if l.pcap != nil {
		if err := l.pcap.finish(); err != nil {
			r.writeFailed(l, err)
		} else if r.handOff(l, commitJob{callID: l.callID, rel: l.relPath, pcap: true}) {
			res.Pcap = l.relPath
		}
		l.pcap = nil
	}
	if l.mix != nil {
		frames := samplesOf(at.Sub(l.answerAt))
		// The audio of a packet captured before the end is kept whole,
		// even where it runs a few ms past the end.
		if hi := max(l.mix.ch[0].hi, l.mix.ch[1].hi); all || hi > frames {
			frames = hi
		}
		r.closeMix(l, max(frames, l.mix.flushed))
	}
	if l.notRec == "" || l.notRec == ReasonDiskTruncated {
		res.Recording.File = l.relPath
		res.Recording.DurationSeconds = float64(l.frames) / sampleRate
		res.LateSamples = l.late
	}
	res.Recording.NotRecordable = l.notRec
	res.Recording.Pcap = res.Pcap
	res.Recording.Caller = res.Caller.record()
	res.Recording.Callee = res.Callee.record()
	res.Speech, res.Quality = roundSpeech(l.speech), roundQuality(l.withHold(l.quality(), end, res.Recording.File != ""))
	if l.relPath != "" {
		// Committed (and failed) before the end: the disk floor closed
		// the file earlier.
		if reason := r.com.failure(l.relPath); reason != "" {
			failResult(res, l.relPath, reason)
		}
	}
	return res
}

// handOff gives the leg's closed file to the committer; when its queue is
// full the file is not promised and the leg says why.
func (r *Recorder) handOff(l *leg, j commitJob) bool {
	if r.com.handOff(j) {
		return true
	}
	if !j.pcap {
		// A pcap leg keeps the reason it has no WAV; it loses its pcap.
		l.notRec = ReasonCommitFull
	}
	r.log.Error("recording not kept: too many files wait for the disk", "call_id", l.callID,
		"file", l.relPath+partSuffix, "waiting", r.cfg.CommitQueue)
	return false
}

// record returns the side's figures as they go into the call record.
func (s Side) record() *sip.StreamRecording {
	sr := &sip.StreamRecording{
		Codec: s.Codec, Packets: int(s.Packets), Lost: int(s.Lost), Late: int(s.Late),
		Duplicates: int(s.Duplicates), Bad: int(s.Bad), Undecodable: int(s.Undecodable), Resyncs: int(s.Resyncs),
	}
	for _, d := range s.Digits {
		sr.DTMF = append(sr.DTMF, sip.DTMF{At: d.At, Digit: d.Digit, DurationSeconds: d.Duration.Seconds()})
	}
	return sr
}

// closeMix flushes the leg's file up to frames and hands its finish to the
// writer, then the file to the committer, which puts it in place.
func (r *Recorder) closeMix(l *leg, frames int64) {
	m := l.mix
	m.flushTo(frames)
	if m.err != nil {
		r.cut(l)
		return
	}
	l.mix = nil
	l.frames, l.late = m.flushed, m.late
	l.speech = m.speech.result()
	op, ok := r.wr.finish(l.file, &m.pend)
	if !ok {
		r.tooSlow(l, "the write queue is full")
		return
	}
	// Handed to the writer (bound for the page cache): counted for the
	// free-space budget now, as a finished file once durable
	// (commitRound).
	r.stats.BytesWritten += m.bytes + uint64(l.file.fmt.wav().headerBytes()) //nolint:gosec // G115: 44 or 58.
	r.handOff(l, commitJob{callID: l.callID, rel: l.relPath, file: l.file, op: op})
}

// side sums the flows of one channel.
func (l *leg) side(c int) Side {
	s := Side{Codec: l.codecs[c].String()}
	if l.codecs[c] == kindUnknown {
		s.Codec = ""
		if k, name := l.negotiated(); k == kindUnknown {
			s.Codec = name
		}
	}
	seen := false
	for _, f := range l.flows {
		if f.channel != c {
			continue
		}
		s.Streams++
		x := f.st.c
		s.Packets += x.Packets
		s.Lost += x.Lost
		s.Late += x.Late
		s.Duplicates += x.Duplicates
		s.Bad += x.Bad
		s.Undecodable += x.Undecodable
		s.Resyncs += x.Resyncs
		if !seen && f.st.firstKind != kindUnknown {
			s.Codec, seen = f.st.firstKind.String(), true
		}
	}
	s.Digits = append([]Digit(nil), l.dtmf[c].digits...)
	return s
}

// Close finishes every open file (headers patched) with what was received,
// then waits (at most CloseTimeout) until every finished file is durable.
// The recorder must not be used after.
func (r *Recorder) Close() error {
	r.mu.Lock()
	var errs []string
	before := r.stats.WriteErrors
	for id, l := range r.legs {
		res := r.finish(l, l.last, true)
		r.remember(id, res)
		if r.stats.WriteErrors != before {
			errs = append(errs, id)
			before = r.stats.WriteErrors
		}
	}
	r.mu.Unlock()
	// The committer publishes under r.mu: it is not held while waiting.
	deadline := time.Now().Add(r.cfg.CloseTimeout)
	err := r.stopCommitter(time.Until(deadline))
	if !r.wr.stopAndWait(time.Until(deadline)) && err == nil {
		err = errors.New("recorder: the disk did not take the last recordings in time")
	}
	r.mu.Lock()
	failed := r.stats.WriteErrors - before
	r.mu.Unlock()
	if len(errs) > 0 || failed > 0 {
		err = errors.Join(err, fmt.Errorf("recorder: %d recordings not finished: %s", len(errs)+int(failed), strings.Join(errs, ", "))) //nolint:gosec // G115: counts are small.
	}
	return err
}
