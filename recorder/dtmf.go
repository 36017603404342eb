package recorder

import (
	"encoding/binary"
	"time"
)

// maxDigits bounds the digits kept per direction of a leg.
const maxDigits = 256

// Digit is one RFC 4733 telephone-event seen on a stream.
type Digit struct {
	// At is the capture time of the event's first packet.
	At time.Time `json:"at"`
	// Digit is "0"-"9", "*", "#", "A"-"D", or "E<n>" for other events.
	Digit string `json:"digit"`
	// Duration is the duration of the event's end packet, 0 if none was seen.
	Duration time.Duration `json:"duration"`
}

// dtmf collects the telephone-events of one direction. An event is sent as
// several packets with the same RTP timestamp (the event start), and the
// end packet three times (RFC 4733 §2.5.1): one Digit per timestamp.
type dtmf struct {
	digits []Digit
	last   uint32
	any    bool
	ended  bool
}

const eventNames = "0123456789*#ABCD"

// packet reads one telephone-event payload (RFC 4733 §2.3: event, E|R|volume,
// duration).
func (d *dtmf) packet(at time.Time, ts uint32, p []byte) {
	if len(p) < 4 {
		return
	}
	end := p[1]&0x80 != 0
	dur := time.Duration(binary.BigEndian.Uint16(p[2:4])) * time.Second / sampleRate
	if !d.any || ts != d.last {
		d.any, d.last, d.ended = true, ts, false
		if len(d.digits) >= maxDigits {
			d.ended = true // not kept: its end must not mark another
			return
		}
		name := "E" + itoa(int(p[0]))
		if int(p[0]) < len(eventNames) {
			name = eventNames[p[0] : p[0]+1]
		}
		d.digits = append(d.digits, Digit{At: at, Digit: name})
	}
	if end && !d.ended && len(d.digits) > 0 {
		d.ended = true
		d.digits[len(d.digits)-1].Duration = dur
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
