package recorder

import (
	"github.com/switchtap/switchtap/rtpquality"
	"github.com/switchtap/switchtap/sip"
)

// channelQuality is one direction's RTP quality (issue 13) from the leg's
// flows on channel c, or nil when that direction carried no RTP at all.
// Several flows (re-INVITEs, forking, music on hold) and their several
// sources are weighted by packets: the jitter mean is over every estimate
// of every source, the maximum the highest of them; loss counts every
// flow's sequence space.
func (l *leg) channelQuality(c int) *sip.StreamQuality {
	var (
		packets, lost, late, dups uint64
		samples                   uint64
		sumMs, maxMs              float64
		codec                     = kindUnknown
	)
	for _, f := range l.flows {
		if f.channel != c {
			continue
		}
		x := &f.st.c
		packets += x.Packets
		lost += x.Lost
		late += x.Late
		dups += x.Duplicates
		n := f.st.jit.Samples()
		samples += n
		sumMs += f.st.jit.MeanMs() * float64(n)
		maxMs = max(maxMs, f.st.jit.MaxMs())
		if codec == kindUnknown {
			codec = f.st.firstKind
		}
	}
	if packets == 0 && late == 0 && dups == 0 {
		return nil
	}
	q := &sip.StreamQuality{JitterMaxMs: maxMs, Late: int(late), Duplicates: int(dups)}
	if samples > 0 {
		q.JitterMeanMs = sumMs / float64(samples)
	}
	// Every sequence number from each source's first to its highest was
	// either emitted (packets) or counted lost; a late packet was counted
	// lost when its gap was passed, and was received all the same.
	expected := packets + lost
	q.LossPercent = rtpquality.LossPercent(expected, packets+min(late, lost))
	if codec == kindPCMU || codec == kindPCMA {
		// The listener's loss is what its jitter buffer missed: the
		// network's loss and the packets too late to be played.
		m := rtpquality.EModel{
			Codec:       rtpquality.G711,
			LossPercent: rtpquality.LossPercent(expected, packets),
			DelayMs:     rtpquality.OneWayDelayMs(rtpquality.DefaultBaseDelayMs, q.JitterMeanMs),
		}
		q.RFactor, q.MOS = m.R(), m.MOS()
	}
	return q
}

// quality is the leg's RTP quality per direction, nil when neither
// direction carried RTP. The hold figures are not measured here.
func (l *leg) quality() *sip.Quality {
	caller, callee := l.channelQuality(left), l.channelQuality(right)
	if caller == nil && callee == nil {
		return nil
	}
	a, b := l.audioPackets(left), l.audioPackets(right)
	return &sip.Quality{
		Caller:      caller,
		Callee:      callee,
		OneWayAudio: (a == 0) != (b == 0),
	}
}

// audioPackets counts the G.711 packets one direction carried (comfort
// noise and events are not audio: a side that only sends them is silent).
func (l *leg) audioPackets(c int) uint64 {
	var n uint64
	for _, f := range l.flows {
		if f.channel == c {
			n += f.st.audioN
		}
	}
	return n
}
