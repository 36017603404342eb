package capture

// WebSocketStats counts what the SIP-over-WebSocket layer (RFC 7118) of a
// Decoder's TCP reassembly did since it was made.
type WebSocketStats struct {
	// Handshakes counts TCP directions that completed an opening
	// handshake with the "sip" subprotocol.
	Handshakes uint64
	// Pickups counts directions whose frames were found without a
	// handshake: a connection open before the capture began, or the next
	// frame after a gap or a protocol error.
	Pickups uint64
	// Messages counts WebSocket messages handed on as SIP messages.
	Messages uint64
	// Frames counts frames read; Control those skipped (ping, pong, close).
	Frames, Control uint64
	// Refused counts messages over the size limit (sip.MaxMessageSize),
	// skipped without being held; Compressed those refused because they
	// were compressed (permessage-deflate, RFC 7692, is not decoded).
	Refused, Compressed uint64
	// Errors counts framing errors, each costing a resynchronisation.
	Errors uint64
	// BytesSkipped counts stream bytes thrown away by the layer.
	BytesSkipped uint64
}

// WebSocketStats returns the counters of the WebSocket layer.
func (d *Decoder) WebSocketStats() WebSocketStats {
	w := d.tcpa.ws
	return WebSocketStats{
		Handshakes:   w.handshakes,
		Pickups:      w.pickups,
		Messages:     w.messages,
		Frames:       w.frames,
		Control:      w.control,
		Refused:      w.refused,
		Compressed:   w.compressed,
		Errors:       w.errors,
		BytesSkipped: w.skipped,
	}
}
