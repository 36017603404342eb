package rtpquality

// Payload types of RFC 3551 §6 Table 4 whose timestamps the estimator can
// use without an SDP.
const (
	ptCN = 13
	// ptCNOld is the comfort noise payload type of RFC 1890 (reserved 19).
	ptCNOld = 19
)

// StaticClockRate is the RTP clock of a static audio payload type of
// RFC 3551 §6 Table 4 (0 for a dynamic or unknown one: its clock comes from
// the SDP's rtpmap).
func StaticClockRate(pt uint8) int {
	switch pt {
	case 0, 3, 4, 5, 7, 8, 9, 12, 13, 15, 18, 19:
		// G.722 (9) runs its RTP clock at 8000 Hz although it samples at
		// 16 kHz (RFC 3551 §4.5.2).
		return 8000
	case 6:
		return 16000
	case 10, 11:
		return 44100
	case 16:
		return 11025
	case 17:
		return 22050
	}
	return 0
}

// StaticCN reports whether a payload type is comfort noise without an
// SDP: 13 (RFC 3389 §4, RFC 3551 Table 4) or the old 19 (RFC 1890).
func StaticCN(pt uint8) bool { return pt == ptCN || pt == ptCNOld }

// Regular reports whether a packet's jitter estimate belongs in the mean
// and maximum: not the first of a talkspurt (marker, RFC 3551 §4.1: the
// sender resumed after silence), not comfort noise (cn) or the packet after
// it (afterCN: RFC 3389 §4, sent at irregular intervals), and not a packet
// whose timestamp went backwards (reordered, or a sender resetting its
// clock). The estimate itself is updated by all of them, as RFC 3550 A.8
// asks; these are the packets Wireshark's RTP stream analysis leaves out of
// its figures, and leaving them out too keeps the figures comparable.
func Regular(marker, cn, afterCN, backwards bool) bool {
	return !marker && !cn && !afterCN && !backwards
}
