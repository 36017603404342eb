package live_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// sipTimes are the capture times of the call's first messages, read
// straight from tcpdump's file with a few string checks: an oracle that
// shares no code with the daemon, so that live and replay cannot agree on a
// wrong value (processing time, a retransmission, a lost nanosecond).
type sipTimes struct {
	callID                         string
	invite, ringing, answered, bye time.Time
}

// readSIPTimes scans a pcap of UDP SIP over Ethernet for the first INVITE,
// 180, 200 to the INVITE and BYE.
func readSIPTimes(path string) (sipTimes, error) {
	f, err := os.Open(path)
	if err != nil {
		return sipTimes{}, fmt.Errorf("open pcap: %w", err)
	}
	defer f.Close()

	r, err := pcapgo.NewReader(f)
	if err != nil {
		return sipTimes{}, fmt.Errorf("read pcap header: %w", err)
	}
	if r.Resolution() != gopacket.TimestampResolutionNanosecond {
		return sipTimes{}, fmt.Errorf("pcap resolution %v, want ns (tcpdump --time-stamp-precision=nano)", r.Resolution())
	}

	var st sipTimes
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("read packet: %w", err)
		}
		pkt := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.NoCopy)
		udp, isUDP := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !isUDP {
			continue
		}
		msg := string(udp.Payload)
		cseq := header(msg, "CSeq")
		set := func(dst *time.Time) {
			if dst.IsZero() {
				*dst = ci.Timestamp
			}
		}
		switch {
		case strings.HasPrefix(msg, "INVITE "):
			if st.invite.IsZero() {
				st.callID = header(msg, "Call-ID")
			}
			set(&st.invite)
		case strings.HasPrefix(msg, "SIP/2.0 180 ") && strings.HasSuffix(cseq, "INVITE"):
			set(&st.ringing)
		case strings.HasPrefix(msg, "SIP/2.0 200 ") && strings.HasSuffix(cseq, "INVITE"):
			set(&st.answered)
		case strings.HasPrefix(msg, "BYE "):
			set(&st.bye)
		}
	}
}

// header returns the value of the first header line called name.
func header(msg, name string) string {
	for _, line := range strings.Split(msg, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
		if line == "" {
			break
		}
	}

	return ""
}
