package tap

import (
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/sip"
)

// MediaRecorder records the audio of answered calls (package recorder).
type MediaRecorder interface {
	Media(callID string, at time.Time, fromCaller, early bool, sdp []byte)
	Answered(callID, recordID string, at time.Time)
	Packet(d *capture.Datagram) bool
	End(callID string, at time.Time) *sip.Recording
	Advance(now time.Time)
}

// MediaAnalysis is a MediaRecorder that also measures the audio it
// records (issue 13: speech activity, RTP quality): asked after End, it
// returns the leg's figures, nil when there are none.
type MediaAnalysis interface {
	Analysis(callID string) (*sip.Speech, *sip.Quality)
}

// OfferRefusals is a MediaRecorder that undoes an in-dialog SDP offer
// refused with a final failure (sip.EventOfferRefused: a hold re-INVITE
// answered 488 or 491 never put the call on hold).
type OfferRefusals interface {
	OfferRefused(callID string, at time.Time, fromCaller bool)
}

// PipelineOption adds a consumer of call events to a Pipeline.
type PipelineOption func(*Pipeline)

// WithRecorder sends SDP, answers, ends and every non-SIP UDP datagram to
// r, and puts its result in each record's recording field.
func WithRecorder(r MediaRecorder) PipelineOption {
	return func(p *Pipeline) { p.rec = r }
}

// WithRecorderGoroutine runs the recorder (WithRecorder) on a goroutine
// of its own, fed in capture order (mediaStage): the same records and
// recordings, with recording's work off the pipeline's goroutine, for a
// machine with a core to spare. The pipeline's output and WithClosed's
// consumers are then called from that goroutine, and the caller ends each
// batch of frames with EndBatch.
func WithRecorderGoroutine() PipelineOption {
	return func(p *Pipeline) { p.staged = true }
}

// WithClosed calls fn with each leg's final record (for metrics).
func WithClosed(fn func(sip.Call)) PipelineOption {
	return func(p *Pipeline) { p.onClosed = append(p.onClosed, fn) }
}

// WithEvents calls fn with every tracker event, after the pipeline's own
// consumers have seen it (the recorder, or the queue to its goroutine:
// WithRecorderGoroutine).
func WithEvents(fn func(sip.Event)) PipelineOption {
	return func(p *Pipeline) { p.onEvent = append(p.onEvent, fn) }
}

// WithTicker calls fn each time the capture clock advances (for parts
// driven by thresholds in capture time, such as the alarm).
func WithTicker(fn func(now time.Time)) PipelineOption {
	return func(p *Pipeline) { p.onAdvance = append(p.onAdvance, fn) }
}

// WithAggregates calls fn with the aggregates of each period (legs that
// never rang, counted per source and reason instead of stored one record
// each; sip.Aggregate). fn runs on the capture path: it must not block.
func WithAggregates(fn func([]sip.Aggregate)) PipelineOption {
	return func(p *Pipeline) { p.onAggs = append(p.onAggs, fn) }
}

// WithSIP calls fn with every SIP message parsed: the bytes as captured
// (valid only during the call: copy what is kept), the parsed message,
// and the datagram that carried it (its capture time, addresses,
// transport and VLAN; for TCP, the segment that completed the message).
// fn runs on the capture path: it must not block (the HEP mirror).
func WithSIP(fn func(raw []byte, m *sip.Message, d *capture.Datagram)) PipelineOption {
	return func(p *Pipeline) { p.onSIP = append(p.onSIP, fn) }
}

func (p *Pipeline) aggregates(as []sip.Aggregate) {
	for _, fn := range p.onAggs {
		fn(as)
	}
}

// flood logs a source starting or stopping a flood of INVITEs, naming it,
// so the administrator can find and block it.
func (p *Pipeline) flood(e sip.FloodEvent) {
	if e.Ended {
		p.log.Warn("sip flood ended", "source", e.Source, "started", e.Started, "at", e.At,
			"invites", e.Invites, "peak_rate", e.Rate)
		return
	}
	p.log.Warn("sip flood detected", "source", e.Source, "at", e.At, "rate", e.Rate)
}

func (p *Pipeline) event(e sip.Event) {
	if p.media != nil {
		switch e.Kind {
		case sip.EventMedia:
			p.media.Media(e.Call.CallID, e.At, e.FromCaller, e.Early, e.SDP)
		case sip.EventAnswered:
			p.media.Answered(e.Call.CallID, e.Call.ID, e.At)
		case sip.EventOfferRefused:
			p.media.OfferRefused(e.Call.CallID, e.At, e.FromCaller)
		}
	}
	if p.alarm != nil {
		p.alarmEdges(p.alarm.Event(e))
	}
	for _, fn := range p.onEvent {
		fn(e)
	}
}

// annotate ends the leg's recording when the leg has ended (or is being
// closed) and puts the result in the record.
func (p *Pipeline) annotate(c *sip.Call, now time.Time) {
	if p.rec != nil {
		annotate(p.rec, c, now)
	}
}

// annotate ends c's leg's recording on rec when the leg has ended (or is
// being closed at now) and puts the result in the record: inline, or on
// the recorder's goroutine (mediaStage).
func annotate(rec MediaRecorder, c *sip.Call, now time.Time) {
	if c.AnsweredAt == nil {
		return
	}
	at := now
	if c.EndedAt != nil {
		at = *c.EndedAt
	}
	if c.EndedAt == nil && c.EndReason == sip.EndUnknown && c.EndDetail == "" {
		return // still running: an early snapshot
	}
	c.Recording = rec.End(c.CallID, at)
	if a, ok := rec.(MediaAnalysis); ok {
		c.Speech, c.Quality = a.Analysis(c.CallID)
	}
}

func (p *Pipeline) closed(c sip.Call) {
	for _, fn := range p.onClosed {
		fn(c)
	}
}
