package capture

// Reasons a frame is undecodable, the keys of DecoderStats.Undecodable.
const (
	ReasonTruncated       = "truncated"
	ReasonMalformed       = "malformed"
	ReasonUnsupportedLink = "unsupported_link"
)

// DecoderStats counts what a Decoder saw since it was made.
type DecoderStats struct {
	// Frames is the number of frames given to Decode.
	Frames uint64
	// Datagrams is the number of Datagrams delivered (UDP and TCP).
	Datagrams uint64
	// UDP is the number of UDP datagrams delivered, after reassembly.
	UDP uint64
	// Skipped counts frames that carry neither UDP nor TCP (ARP, ICMP…).
	Skipped uint64
	// Undecodable counts rejected frames by reason (Reason… constants).
	Undecodable map[string]uint64

	// FragmentsPending is the number of datagrams waiting for fragments.
	FragmentsPending int
	// FragmentBytesPending is the payload held for them.
	FragmentBytesPending int
	// FragmentsReassembled counts datagrams completed from fragments.
	FragmentsReassembled uint64
	// FragmentsDropped counts fragmented datagrams given up: invalid,
	// expired or evicted by the limits.
	FragmentsDropped uint64

	// TCPSegments counts TCP segments with payload.
	TCPSegments uint64
	// TCPBytes counts stream bytes delivered.
	TCPBytes uint64
	// TCPStreamsOpen is the number of stream directions followed and not
	// closed.
	TCPStreamsOpen int
	// TCPStreamsRefused counts segments of new streams not followed because
	// the stream table was full.
	TCPStreamsRefused uint64
	// TCPStreamsExpired counts stream directions forgotten when idle.
	TCPStreamsExpired uint64
	// TCPBytesRetransmitted counts bytes seen again after delivery.
	TCPBytesRetransmitted uint64
	// TCPBytesSkipped counts stream bytes never seen, skipped over a gap.
	TCPBytesSkipped uint64
	// TCPBytesDropped counts out-of-order bytes held and then discarded.
	TCPBytesDropped uint64

	// WebSocket counts the SIP over WebSocket layer (RFC 7118) of the TCP
	// streams.
	WebSocket WebSocketStats
}
