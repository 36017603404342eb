package tap

import (
	"time"

	"github.com/switchtap/switchtap/capture"
	"github.com/switchtap/switchtap/sip"
)

// Bounds on what the pipeline queues for the media stage. A batch goes
// over when the pipeline ends one of its own and the stage is idle; while
// the stage works on the other batch this one grows, and at these sizes
// the pipeline waits for the stage (CPU work, never a disk: the recorder
// hands its files to a writer of its own). With 1,000 recorded calls at
// 150 k packets/s, 2,048 packets are 14 ms of traffic; a batch at both
// bounds is about 1.1 MB (272 bytes an op, and the payloads).
const (
	stageMaxOps   = 2048
	stageMaxBytes = 512 << 10
)

// stageOp is one thing the pipeline would have done with the recorder, or
// a record the tracker emitted, in capture order.
type stageOp uint8

const (
	opPacket stageOp = iota + 1
	opMedia
	opAnswered
	opOfferRefused
	opAdvance
	opEmit   // a record for the pipeline's output
	opClosed // a leg's final record for WithClosed's consumers
)

// mediaOp is a queued stageOp. A packet's datagram is kept with its
// payload in the batch's arena (the frame it came in is recycled as soon
// as the pipeline is done with it); then, when advance is set, the
// recorder's clock moves to advanceTo, as Pipeline.Advance did after the
// frame.
type mediaOp struct {
	op         stageOp
	fromCaller bool
	early      bool
	advance    bool
	at         time.Time
	advanceTo  time.Time
	callID     string
	recordID   string
	dgram      capture.Datagram
	off, n     int
	sdp        []byte
	call       *sip.Call
	// seq numbers the tracker's records (Pipeline.recordSeq): the output
	// and the closed consumers may both get one record, annotated once.
	seq uint64
}

// mediaBatch is what the pipeline queued since the stage last took a
// batch.
type mediaBatch struct {
	ops   []mediaOp
	arena []byte
}

func (b *mediaBatch) reset() {
	clear(b.ops) // let the records, SDP and strings go
	b.ops, b.arena = b.ops[:0], b.arena[:0]
}

func (b *mediaBatch) full(maxOps, maxBytes int) bool {
	return len(b.ops) >= maxOps || len(b.arena) >= maxBytes
}

// mediaStage runs the recorder on a goroutine of its own, so that
// recording and its analysis, about half of the pipeline's work when every
// call is recorded (replay profile: 0.62 of 1.28 CPU-s on the pipeline's
// goroutine), take another core (issue 12: "use both cores where it
// pays"). The pipeline queues, in capture order, every call it would have
// made on the recorder and every record the tracker emits; the stage
// applies them in that order. So the recorder sees the same calls in the
// same order with the same capture times as inline, and a record leaves
// after its leg's recording has ended, with the recording and analysis
// annotate gives it inline: the same records and the same WAV bytes.
//
// Two batches swap between the pipeline and the stage, as the capture's
// frames do between the reader and the pipeline (handoff.go). Records then
// reach the pipeline's output from the stage's goroutine: the output must
// be safe to call from there (Daemon.enqueue and Collector are).
type mediaStage struct {
	rec    MediaRecorder
	out    func(sip.Call)
	closed func(sip.Call)

	// maxOps and maxBytes bound the batch (stageMaxOps, stageMaxBytes;
	// smaller in tests, to hand over mid-batch).
	maxOps, maxBytes int
	// waits counts the times the pipeline waited for the stage to take a
	// full batch (Stats.RecorderWaits).
	waits uint64

	// The stage's goroutine's own: the last record annotated, and the
	// datagram handed to the recorder (in the stage, not on the heap at
	// every packet: the recorder is an interface, so a local would escape).
	lastSeq   uint64
	lastAnnot annotation
	dgram     capture.Datagram

	fill    *mediaBatch
	todo    chan *mediaBatch // to the stage; it never holds more than one
	spare   chan *mediaBatch // the batch the stage is done with
	done    chan struct{}    // closed when the stage's goroutine returns
	running bool
}

func newMediaStage(rec MediaRecorder, out, closed func(sip.Call)) *mediaStage {
	return &mediaStage{rec: rec, out: out, closed: closed, maxOps: stageMaxOps, maxBytes: stageMaxBytes, fill: &mediaBatch{}}
}

// start starts the stage's goroutine (lazily: at the first batch, and
// again after stop).
func (s *mediaStage) start() {
	if s.running {
		return
	}
	s.todo = make(chan *mediaBatch, 1)
	s.spare = make(chan *mediaBatch, 1)
	s.done = make(chan struct{})
	s.spare <- &mediaBatch{}
	s.running = true
	go s.run(s.todo, s.spare, s.done)
}

func (s *mediaStage) run(todo <-chan *mediaBatch, spare chan<- *mediaBatch, done chan<- struct{}) {
	defer close(done)
	for b := range todo {
		s.apply(b)
		b.reset()
		spare <- b
	}
}

// pass gives the filled batch to the stage if it is idle, or, with wait
// or when the batch is full, once it is: a full batch's wait is counted
// (waits), the recorder falling behind the capture.
func (s *mediaStage) pass(wait bool) {
	if len(s.fill.ops) == 0 {
		return
	}
	s.start()
	var b *mediaBatch
	select {
	case b = <-s.spare:
	default:
		if !wait {
			if !s.full() {
				return // busy: this batch grows until the stage is done
			}
			s.waits++
		}
		b = <-s.spare
	}
	s.todo <- s.fill
	s.fill = b
}

// drain gives the stage everything queued, waits until it has applied it
// and stops its goroutine: every record queued so far has then reached
// the output.
func (s *mediaStage) drain() {
	s.pass(true)
	if !s.running {
		return
	}
	close(s.todo)
	<-s.done
	s.running = false
}

func (s *mediaStage) full() bool { return s.fill.full(s.maxOps, s.maxBytes) }

// add queues op, handing the batch over first if it is full.
func (s *mediaStage) add(op mediaOp) {
	if s.full() {
		s.pass(false)
	}
	s.fill.ops = append(s.fill.ops, op)
}

// Packet queues d with its payload; it reports true (queued), the
// recorder's own answer is not waited for.
func (s *mediaStage) Packet(d *capture.Datagram) bool {
	if s.full() {
		s.pass(false)
	}
	op := mediaOp{op: opPacket, dgram: *d, off: len(s.fill.arena), n: len(d.Payload)}
	op.dgram.Payload = nil
	s.fill.arena = append(s.fill.arena, d.Payload...)
	s.fill.ops = append(s.fill.ops, op)
	return true
}

// Advance queues the recorder's clock moving to now: on the last op, when
// it has no move of its own yet (a frame's packet and the move after it
// are one op).
func (s *mediaStage) Advance(now time.Time) {
	if n := len(s.fill.ops); n > 0 && !s.fill.ops[n-1].advance {
		s.fill.ops[n-1].advance, s.fill.ops[n-1].advanceTo = true, now
		return
	}
	s.add(mediaOp{op: opAdvance, advance: true, advanceTo: now})
}

// Media queues an SDP body.
func (s *mediaStage) Media(callID string, at time.Time, fromCaller, early bool, sdp []byte) {
	// The recorder may keep what it parses: the SDP gets memory of its
	// own, not the arena's.
	s.add(mediaOp{op: opMedia, callID: callID, at: at, fromCaller: fromCaller, early: early, sdp: append([]byte(nil), sdp...)})
}

// Answered queues an answer.
func (s *mediaStage) Answered(callID, recordID string, at time.Time) {
	s.add(mediaOp{op: opAnswered, callID: callID, recordID: recordID, at: at})
}

// OfferRefused queues a refused offer.
func (s *mediaStage) OfferRefused(callID string, at time.Time, fromCaller bool) {
	s.add(mediaOp{op: opOfferRefused, callID: callID, at: at, fromCaller: fromCaller})
}

// record queues a record for the output (opEmit) or the closed consumers
// (opClosed); now is the tracker's clock when it made the record, which
// annotate needs for a leg closed without an end; seq numbers the record.
func (s *mediaStage) record(op stageOp, c sip.Call, now time.Time, seq uint64) {
	s.add(mediaOp{op: op, call: &c, at: now, seq: seq})
}

// annotation is what annotate adds to a record.
type annotation struct {
	recording *sip.Recording
	speech    *sip.Speech
	quality   *sip.Quality
}

// apply runs a batch's ops on the recorder, in order.
func (s *mediaStage) apply(b *mediaBatch) {
	for i := range b.ops {
		op := &b.ops[i]
		switch op.op {
		case opPacket:
			s.dgram = op.dgram
			s.dgram.Payload = b.arena[op.off : op.off+op.n : op.off+op.n]
			s.rec.Packet(&s.dgram)
		case opMedia:
			s.rec.Media(op.callID, op.at, op.fromCaller, op.early, op.sdp)
		case opAnswered:
			s.rec.Answered(op.callID, op.recordID, op.at)
		case opOfferRefused:
			inlineMedia{s.rec}.OfferRefused(op.callID, op.at, op.fromCaller)
		case opEmit, opClosed:
			c := *op.call
			if op.seq != s.lastSeq {
				// Inline, the tracker annotates a record once and hands
				// the same to the output and to the closed consumers.
				annotate(s.rec, &c, op.at)
				s.lastSeq, s.lastAnnot = op.seq, annotation{c.Recording, c.Speech, c.Quality}
			} else {
				c.Recording, c.Speech, c.Quality = s.lastAnnot.recording, s.lastAnnot.speech, s.lastAnnot.quality
			}
			if op.op == opEmit {
				s.out(c)
			} else {
				s.closed(c)
			}
		}
		if op.advance {
			s.rec.Advance(op.advanceTo)
		}
	}
}
