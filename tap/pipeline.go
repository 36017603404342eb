package tap

import (
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/device"
	"github.com/switchtap/switchtap/sip"
)

// Limits on TCP framing state, so garbage streams cannot grow memory.
const (
	maxFramers   = 4096
	framerIdle   = 5 * time.Minute
	expireEvery  = time.Second
	reasonOther  = "other"
	reasonNotSIP = "not_sip"
)

// Stats counts what the pipeline did, for logs and metrics.
type Stats struct {
	Decoder capture.DecoderStats
	Tracker sip.TrackerStats
	// SIPMessages counts messages parsed.
	SIPMessages uint64
	// SIPErrors counts messages rejected, by reason.
	SIPErrors map[string]uint64
	// NonSIP counts UDP datagrams that are not SIP (RTP, RTCP, other).
	NonSIP uint64
	// StreamBytesDiscarded counts TCP bytes that framed no SIP message.
	StreamBytesDiscarded uint64
	// Framers is the number of TCP directions being framed.
	Framers int
	// FramersRefused counts SIP streams not framed because the table was full.
	FramersRefused uint64
	// LastSIP is the capture time of the newest SIP message parsed.
	LastSIP time.Time
	// RecorderWaits counts the times the pipeline waited for the
	// recorder's goroutine (WithRecorderGoroutine) to take a full batch:
	// the recorder falling behind the capture.
	RecorderWaits uint64
}

// mediaSink takes what the pipeline gives the recorder as frames go by:
// the recorder itself (inlineMedia) or the queue to its goroutine
// (mediaStage).
type mediaSink interface {
	Media(callID string, at time.Time, fromCaller, early bool, sdp []byte)
	Answered(callID, recordID string, at time.Time)
	OfferRefused(callID string, at time.Time, fromCaller bool)
	Packet(d *capture.Datagram) bool
	Advance(now time.Time)
}

// inlineMedia is the recorder called on the pipeline's goroutine.
type inlineMedia struct{ MediaRecorder }

// OfferRefused passes the refusal on to a recorder that undoes offers.
func (m inlineMedia) OfferRefused(callID string, at time.Time, fromCaller bool) {
	if o, ok := m.MediaRecorder.(OfferRefusals); ok {
		o.OfferRefused(callID, at, fromCaller)
	}
}

type flowKey struct{ src, dst netip.AddrPort }

type framer struct {
	sip.Framer
	lastSeen time.Time
}

// Pipeline turns captured frames into call records. It keeps the capture
// clock: the time of the newest packet seen. Not safe for concurrent use;
// Daemon serialises access.
type Pipeline struct {
	log     *slog.Logger
	dec     *capture.Decoder
	parser  *sip.Parser
	tracker *sip.Tracker
	framers map[flowKey]*framer
	stats   Stats
	now     time.Time
	expired time.Time
	handle  func(*capture.Datagram)

	rec       MediaRecorder
	media     mediaSink   // rec, or the queue to its goroutine; nil: no recorder
	staged    bool        // WithRecorderGoroutine
	stage     *mediaStage // the recorder's goroutine, when staged
	recordNow time.Time   // the tracker's clock at its last record (staged annotate)
	recordSeq uint64      // the tracker's records so far (staged annotate)
	alarm     AlarmPolicy
	onAlarm   func([]device.Edge, device.PanelState)
	onEvent   []func(sip.Event)
	onClosed  []func(sip.Call)
	onAdvance []func(time.Time)
	onAggs    []func([]sip.Aggregate)
	onSIP     []func([]byte, *sip.Message, *capture.Datagram)
}

// NewPipeline returns a pipeline that calls out with every call record as
// soon as its leg ends, and again if trailing messages change it (records
// are upserts by ID).
func NewPipeline(cfg sip.TrackerConfig, out func(sip.Call), log *slog.Logger, opts ...PipelineOption) *Pipeline {
	p := &Pipeline{
		log:     log,
		dec:     capture.NewDecoder(),
		parser:  sip.NewParser(),
		framers: make(map[flowKey]*framer),
		stats:   Stats{SIPErrors: make(map[string]uint64)},
	}
	for _, o := range opts {
		o(p)
	}
	cfg.OnEvent, cfg.OnClosed, cfg.Annotate = p.event, p.closed, p.annotate
	cfg.OnFlood, cfg.OnAggregate = p.flood, p.aggregates
	switch {
	case p.rec != nil && p.staged:
		// Records wait in the stage's queue for their leg's recording to
		// end there (annotate), in order with everything else.
		p.stage = newMediaStage(p.rec, out, p.closed)
		p.media = p.stage
		cfg.Annotate = func(_ *sip.Call, now time.Time) { p.recordNow, p.recordSeq = now, p.recordSeq+1 }
		cfg.OnClosed = func(c sip.Call) { p.stage.record(opClosed, c, p.recordNow, p.recordSeq) }
		out = func(c sip.Call) { p.stage.record(opEmit, c, p.recordNow, p.recordSeq) }
	case p.rec != nil:
		// A recorder that takes refused offers (recorder.Recorder) is
		// called as it is: one dispatch a packet, as before the sink.
		if m, ok := p.rec.(mediaSink); ok {
			p.media = m
		} else {
			p.media = inlineMedia{p.rec}
		}
	}
	p.tracker = sip.NewTracker(cfg, out)
	p.handle = p.datagram
	return p
}

// Frame processes one captured frame. Undecodable frames are counted by
// the decoder and otherwise ignored: a bad packet never stops the tap.
func (p *Pipeline) Frame(f capture.Frame) {
	if f.Info.Timestamp.After(p.now) {
		p.now = f.Info.Timestamp
	}
	_ = p.dec.Decode(f.LinkType, f.Data, f.Info, p.handle)
	p.Advance(p.now)
}

// Now returns the capture clock: the newest capture time seen or advanced to.
func (p *Pipeline) Now() time.Time { return p.now }

// Advance moves the capture clock forward to now (never backwards) and
// closes what timed out by then.
func (p *Pipeline) Advance(now time.Time) {
	if now.After(p.now) {
		p.now = now
	}
	p.tracker.Advance(p.now)
	if p.media != nil {
		p.media.Advance(p.now)
	}
	if p.alarm != nil {
		p.alarmEdges(p.alarm.Advance(p.now))
	}
	for _, fn := range p.onAdvance {
		fn(p.now)
	}
	if p.now.Sub(p.expired) < expireEvery {
		return
	}
	p.expired = p.now
	p.dec.Expire(p.now)
	for k, f := range p.framers {
		if p.now.Sub(f.lastSeen) > framerIdle {
			delete(p.framers, k)
		}
	}
}

// Flush ends the input: every open leg is emitted, those not yet ended
// with end_reason unknown and the given detail ("end_of_capture",
// "shutdown").
func (p *Pipeline) Flush(detail string) {
	p.tracker.Flush(p.now, detail)
	// Every record emitted so far reaches the output before Flush
	// returns, as it does inline.
	p.drainStage()
}

// drainStage has the recorder's goroutine apply everything queued, and
// stops it (a later frame starts it again).
func (p *Pipeline) drainStage() {
	if p.stage != nil {
		p.stage.drain()
	}
}

// EndBatch tells the pipeline a batch of frames (or a move of the clock)
// is done: with WithRecorderGoroutine, what it queued for the recorder
// goes to the recorder's goroutine if that is idle. Without, it does
// nothing.
func (p *Pipeline) EndBatch() {
	if p.stage != nil {
		p.stage.pass(false)
	}
}

// Sources returns the per-address accounting of the n addresses that sent
// the most INVITEs among those with open legs or flooding now.
func (p *Pipeline) Sources(n int) []sip.SourceStats {
	return p.tracker.Sources(n, p.now)
}

// Stats returns the counters.
func (p *Pipeline) Stats() Stats {
	s := p.stats
	s.SIPErrors = make(map[string]uint64, len(p.stats.SIPErrors))
	for k, v := range p.stats.SIPErrors {
		s.SIPErrors[k] = v
	}
	s.Decoder = p.dec.Stats()
	s.Tracker = p.tracker.Stats()
	s.Framers = len(p.framers)
	if p.stage != nil {
		s.RecorderWaits = p.stage.waits
	}
	return s
}

func (p *Pipeline) datagram(d *capture.Datagram) {
	if d.Message {
		// A WebSocket message is one whole SIP message (RFC 7118 §5):
		// not framed, so a body without Content-Length is kept.
		if !sip.LooksLikeSIP(d.Payload) {
			p.stats.StreamBytesDiscarded += uint64(len(d.Payload))
			return
		}
		p.message(d.Payload, d)
		return
	}
	if d.Transport == capture.TCP {
		p.stream(d)
		return
	}
	if !sip.LooksLikeSIP(d.Payload) {
		p.stats.NonSIP++
		if p.media != nil {
			p.media.Packet(d)
		}
		return
	}
	p.message(d.Payload, d)
}

func (p *Pipeline) stream(d *capture.Datagram) {
	k := flowKey{d.Src, d.Dst}
	f := p.framers[k]
	if f == nil {
		if !sip.LooksLikeSIP(d.Payload) {
			return
		}
		if len(p.framers) >= maxFramers {
			p.stats.FramersRefused++
			return
		}
		f = &framer{}
		p.framers[k] = f
	}
	if d.StreamStart {
		f.Reset()
	}
	f.lastSeen = d.Time
	n, err := f.Write(d.Payload, func(msg []byte) { p.message(msg, d) })
	p.stats.StreamBytesDiscarded += uint64(n)
	if err != nil {
		p.countError(err)
	}
}

func (p *Pipeline) message(b []byte, d *capture.Datagram) {
	m, err := p.parser.Parse(b)
	if err != nil {
		p.countError(err)
		p.log.Debug("sip message rejected", "src", d.Src, "dst", d.Dst, "err", err)
		return
	}
	p.stats.SIPMessages++
	if d.Time.After(p.stats.LastSIP) {
		p.stats.LastSIP = d.Time
	}
	for _, fn := range p.onSIP {
		fn(b, m, d)
	}
	p.tracker.Handle(m, sip.Packet{
		Time:      d.Time,
		Src:       d.Src,
		Dst:       d.Dst,
		Transport: legTransport(d),
		VLAN:      d.VLAN,
		// The bytes parsed, as captured: the datagram's payload, or the
		// message the framer cut out of the TCP stream (valid during the
		// call only; the tracker copies what it keeps for the ladder).
		Raw: b,
	})
}

// legTransport names how a message travelled, as the record's transport:
// "ws" for a WebSocket message (the Via's WS, RFC 7118 §5), else "udp" or
// "tcp".
func legTransport(d *capture.Datagram) string {
	if d.Message {
		return "ws"
	}
	return d.Transport.String()
}

// SIPErrorReasons lists the reasons SIP messages are rejected for, the
// keys of Stats.SIPErrors, so metrics can show each at 0.
func SIPErrorReasons() []string {
	out := make([]string, 0, len(sipErrorReasons)+1)
	for _, r := range sipErrorReasons {
		out = append(out, r.reason)
	}
	return append(out, reasonOther)
}

// sipErrorReasons names the parse errors for counting.
var sipErrorReasons = []struct {
	err    error
	reason string
}{
	{sip.ErrNotSIP, reasonNotSIP},
	{sip.ErrMissingHeader, "missing_header"},
	{sip.ErrCSeqMismatch, "cseq_mismatch"},
	{sip.ErrBadVersion, "bad_version"},
	{sip.ErrBodyLength, "body_length"},
	{sip.ErrBadStatus, "bad_status"},
	{sip.ErrTooLarge, "too_large"},
	{sip.ErrDuplicateHeader, "duplicate_header"},
	{sip.ErrMalformed, "malformed"},
}

func (p *Pipeline) countError(err error) {
	for _, r := range sipErrorReasons {
		if errors.Is(err, r.err) {
			p.stats.SIPErrors[r.reason]++
			return
		}
	}
	p.stats.SIPErrors[reasonOther]++
}
