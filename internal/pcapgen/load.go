package pcapgen

import (
	"container/heap"
	"fmt"
	"net/netip"
	"time"
)

// Timing of the calls written by Load.
const (
	LoadInterval = 100 * time.Millisecond
	LoadRing     = 2 * time.Second
	LoadTalk     = 3 * time.Second
)

// Load writes n answered calls with RTP both ways for throughput
// benchmarks: call i starts at start+i*LoadInterval, rings LoadRing, talks
// LoadTalk (20 ms PCMU both ways) and is hung up by the caller. Calls
// overlap; packets are written in capture-time order. It returns the
// expectations of the calls and the number of frames written.
func Load(w *Writer, n int, start time.Time) (calls []Expect, packets int, err error) {
	return LoadWith(w, n, start, LoadOptions{})
}

// LoadWith is Load with the calls timed by opts: call i starts at
// start+i*opts.Interval, rings opts.Ring and talks opts.Talk. Up to
// LoadMaxCalls calls have addresses and ports of their own.
func LoadWith(w *Writer, n int, start time.Time, opts LoadOptions) (calls []Expect, packets int, err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return nil, 0, err
	}
	before := w.Frames()
	q := make(loadQueue, 0, min(n, 1024))
	calls = make([]Expect, 0, n)
	next := 0
	for next < n || q.Len() > 0 {
		// Admit calls whose INVITE comes before the earliest pending event.
		if next < n {
			t0 := start.Add(time.Duration(next) * opts.Interval)
			if q.Len() == 0 || !q[0].at.Before(t0) {
				c := newLoadCall(w, next, t0, opts)
				calls = append(calls, c.expect)
				heap.Push(&q, c)
				next++
				continue
			}
		}
		c := q[0]
		if err := c.emit(); err != nil {
			return nil, w.Frames() - before, fmt.Errorf("load call %d: %w", c.index, err)
		}
		if c.done {
			heap.Pop(&q)
		} else {
			heap.Fix(&q, 0)
		}
	}
	return calls, w.Frames() - before, nil
}

// loadCall is one call of Load, emitted one packet at a time.
type loadCall struct {
	l      *leg
	index  int
	inv    Request
	bye    Request
	at     time.Time // time of the next packet
	step   int
	rtp    int // RTP packets written
	nRTP   int
	ans    time.Time
	done   bool
	expect Expect
}

const (
	loadInvite = iota
	loadTrying
	loadRinging
	loadOK
	loadAck
	loadRTP
	loadBye
	loadByeOK
)

func newLoadCall(w *Writer, i int, t0 time.Time, opts LoadOptions) *loadCall {
	callerIP := netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + i%200)}) //nolint:gosec // G115: < 256
	calleeIP := netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + i%100)})  //nolint:gosec // G115: < 256
	mport := uint16(10000 + 2*(i%LoadMaxCalls))                         //nolint:gosec // G115: < 65536
	caller := Party{User: fmt.Sprintf("7%07d", i), Addr: netip.AddrPortFrom(callerIP, 5060), Media: netip.AddrPortFrom(callerIP, mport)}
	callee := Party{User: fmt.Sprintf("1%03d", i%1000), Addr: netip.AddrPortFrom(calleeIP, 5060), Media: netip.AddrPortFrom(calleeIP, mport)}
	d := newDialog(fmt.Sprintf("load-%07d@pcapgen.example", i), caller, callee)
	ring := t0.Add(tryingDelay + ringingDelay)
	ans := ring.Add(opts.Ring)
	bye := ans.Add(ackDelay + mediaDelay + opts.Talk)
	e := expectFor(d, t0)
	e.RingingAt, e.AnsweredAt, e.EndedAt = ptr(ring), ptr(ans), ptr(bye)
	e.EndReason, e.HangupBy = "completed", "caller"
	return &loadCall{
		l: newLeg(w, d), index: i, at: t0, ans: ans,
		nRTP: 2 * opts.RTPPackets(), expect: e,
	}
}

// emit writes the call's next packet and schedules the one after.
func (c *loadCall) emit() error {
	l, d := c.l, c.l.d
	switch c.step {
	case loadInvite:
		c.inv = d.Invite()
		l.send(c.at, true, c.inv.Bytes)
		c.at = c.at.Add(tryingDelay)
	case loadTrying:
		l.send(c.at, false, d.Response(100, "Trying", c.inv))
		c.at = c.at.Add(ringingDelay)
	case loadRinging:
		l.send(c.at, false, d.Response(180, "Ringing", c.inv))
		c.at = c.ans
	case loadOK:
		l.send(c.at, false, d.Response(200, "OK", c.inv))
		c.at = c.at.Add(ackDelay)
	case loadAck:
		l.send(c.at, true, d.Ack(c.inv, 200))
		c.at = c.at.Add(mediaDelay)
	case loadRTP:
		c.writeRTP()
		c.rtp++
		if c.rtp < c.nRTP {
			c.at = c.rtpTime(c.rtp)
			return l.err
		}
		c.at = *c.expect.EndedAt
	case loadBye:
		c.bye = d.Bye(true)
		l.send(c.at, true, c.bye.Bytes)
		c.at = c.at.Add(okDelay)
	case loadByeOK:
		l.send(c.at, false, d.Response(200, "OK", c.bye))
		c.done = true
	}
	c.step++
	return l.err
}

func (c *loadCall) rtpTime(k int) time.Time {
	start := c.ans.Add(ackDelay + mediaDelay)
	t := start.Add(time.Duration(k/2) * RTPInterval)
	if k%2 == 1 {
		t = t.Add(calleeRTPOffset)
	}
	return t
}

// writeRTP writes RTP packet c.rtp: even ones from the caller, odd ones
// from the callee, numbered as leg.media numbers them.
func (c *loadCall) writeRTP() {
	l := c.l
	if l.err != nil {
		return
	}
	i, dir := c.rtp/2, c.rtp%2
	src, dst := l.d.Caller.MediaAddr(), l.d.Callee.MediaAddr()
	seq, ts, ssrc := callerSeqStart, uint32(callerTSStart), uint32(c.index)*2+1 //nolint:gosec // G115: small
	if dir == 1 {
		src, dst = dst, src
		seq, ts, ssrc = calleeSeqStart, calleeTSStart, ssrc+1
	}
	var payload [RTPPayloadSize]byte
	fillPayload(payload[:], i, dir)
	hdr := rtpHeader(i, seq, ts, ssrc)
	if err := l.w.RTP(c.at, src, dst, hdr, payload[:]); err != nil {
		l.err = err
		return
	}
}

// loadQueue orders pending calls by the time of their next packet, then
// by index so that equal times come out in a fixed order.
type loadQueue []*loadCall

func (q loadQueue) Len() int { return len(q) }
func (q loadQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].index < q[j].index
}
func (q loadQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *loadQueue) Push(x any) {
	if c, ok := x.(*loadCall); ok {
		*q = append(*q, c)
	}
}

func (q *loadQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
}
