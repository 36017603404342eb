package sip

import "time"

// Direction says whether a leg was to, from or between receptionists.
type Direction string

// Directions of a call leg (DESIGN.md, call record).
const (
	DirectionInbound  Direction = "inbound"
	DirectionOutbound Direction = "outbound"
	DirectionInternal Direction = "internal"
	DirectionUnknown  Direction = "unknown"
)

// EndReason says how a leg ended.
type EndReason string

// End reasons of a call leg (DESIGN.md, call record).
const (
	EndCompleted  EndReason = "completed"
	EndAbandoned  EndReason = "abandoned"
	EndBusy       EndReason = "busy"
	EndRejected   EndReason = "rejected"
	EndRedirected EndReason = "redirected"
	EndFailed     EndReason = "failed"
	EndUnknown    EndReason = "unknown"
)

// Call is the record of one call leg (one SIP Call-ID). Its JSON field names
// are a contract (DESIGN.md, "Call record"): fields may be added, never
// renamed.
type Call struct {
	ID        string    `json:"id"`
	CallID    string    `json:"call_id"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	FromName  string    `json:"from_name"`
	Direction Direction `json:"direction"`
	Operator  string    `json:"operator"`

	InviteAt   time.Time  `json:"invite_at"`
	RingingAt  *time.Time `json:"ringing_at"`
	AnsweredAt *time.Time `json:"answered_at"`
	EndedAt    *time.Time `json:"ended_at"`

	EndReason EndReason `json:"end_reason"`
	// EndDetail says more about the end: the final status code ("486"),
	// "timeout" for a leg closed by the idle timeout, "shutdown" for a leg
	// still open when the daemon stopped.
	EndDetail string `json:"end_detail,omitempty"`
	HangupBy  string `json:"hangup_by"`

	// RingSource is what ringing_at came from: "180", "183" or "invite".
	RingSource  string  `json:"ring_source"`
	RingSeconds float64 `json:"ring_seconds"`
	Rings       int     `json:"rings"`
	WithinLimit bool    `json:"within_limit"`

	Transfer  *Transfer  `json:"transfer"`
	Recording *Recording `json:"recording"`
	// Speech and Quality are what the recorded audio shows (speech.go);
	// absent when the leg was not answered or not recorded.
	Speech  *Speech  `json:"speech,omitempty"`
	Quality *Quality `json:"quality,omitempty"`

	// ReplacesCallID is the Call-ID of the dialog this leg replaced
	// (INVITE with Replaces, RFC 3891), if any.
	ReplacesCallID string `json:"replaces_call_id,omitempty"`
	// TransferredFrom is the Call-ID of the leg whose transfer created
	// this one, if any.
	TransferredFrom string `json:"transferred_from,omitempty"`
	// ByeAt is the time of the first BYE seen on the leg, even one that
	// came after the leg had already ended.
	ByeAt *time.Time `json:"bye_at,omitempty"`
	// ReferredBy is the user part of the Referred-By header of the INVITE
	// (RFC 3892), if any.
	ReferredBy string `json:"referred_by,omitempty"`
	// Transport is "udp", "tcp" or "ws" (RFC 7118); SrcIP/DstIP are the addresses of the
	// first INVITE.
	Transport string `json:"transport"`
	SrcIP     string `json:"src_ip"`
	DstIP     string `json:"dst_ip"`
	VLAN      uint16 `json:"vlan,omitempty"`
	// Retransmissions counts the copies of messages already seen.
	Retransmissions int `json:"retransmissions"`
	// ReInvites counts re-INVITEs within the dialog.
	ReInvites int `json:"reinvites"`
	// MessagesDropped counts the leg's SIP messages not kept in Messages
	// (beyond MaxLegMessages, or past the tracker's memory budget).
	MessagesDropped int `json:"messages_dropped,omitempty"`

	// Messages are the leg's SIP messages as seen, in capture order, for
	// the console's ladder diagram. They travel with the record to the
	// store, which keeps them apart: they are not part of the record's
	// JSON (DESIGN.md, "Call record").
	Messages []LegMessage `json:"-"`
}

// Transfer describes a transfer requested on this leg, or a redirect (3xx).
type Transfer struct {
	Kind         string     `json:"kind"` // blind, attended, redirect
	RequestedAt  time.Time  `json:"requested_at"`
	Target       string     `json:"target"`
	AcceptedAt   *time.Time `json:"accepted_at"`
	CompletedAt  *time.Time `json:"completed_at"`
	Result       string     `json:"result"`
	TargetCallID string     `json:"target_call_id"`
	// ReplacesCallID is the Call-ID named by Replaces in Refer-To
	// (attended transfer).
	ReplacesCallID string `json:"replaces_call_id,omitempty"`
}

// Recording describes the audio recorded for a leg (filled by the recorder).
type Recording struct {
	// File is the WAV, relative to the recordings directory
	// (YYYY/MM/DD/<id>.wav); empty when the leg was not recordable.
	File            string  `json:"file"`
	DurationSeconds float64 `json:"duration_seconds"`
	// Caller is the left channel (sent by the side that sent the INVITE),
	// Callee the right one.
	Caller *StreamRecording `json:"caller,omitempty"`
	Callee *StreamRecording `json:"callee,omitempty"`
	// NotRecordable says why there is no (complete) WAV: "encrypted
	// (SRTP)", "codec G729", "no audio stream", "disk floor"...
	NotRecordable string `json:"not_recordable,omitempty"`
	// Pcap is the leg's RTP kept as a capture file (relative path) when it
	// could not be decoded, so it can still be opened in Wireshark.
	Pcap string `json:"pcap,omitempty"`
	// SHA256 is the hex SHA-256 of File, set when the recording is
	// queued for the central server (issue 11): the name the server
	// keeps it under, and the proof the file is the one recorded.
	SHA256 string `json:"sha256,omitempty"`
}

// StreamRecording gives the figures of one direction of a recording.
type StreamRecording struct {
	Codec   string `json:"codec"`
	Packets int    `json:"packets"`
	Lost    int    `json:"lost"`
	// Late counts packets that came after their place was written;
	// Duplicates counts copies dropped.
	Late       int `json:"late"`
	Duplicates int `json:"duplicates"`
	// Bad counts packets that were not valid RTP, Undecodable those in a
	// payload type that is not audio we can decode, Resyncs the timestamp
	// jumps re-placed on capture time.
	Bad         int `json:"bad,omitempty"`
	Undecodable int `json:"undecodable,omitempty"`
	Resyncs     int `json:"resyncs,omitempty"`
	// DTMF are the RFC 4733 telephone events sent in this direction.
	DTMF []DTMF `json:"dtmf,omitempty"`
}

// DTMF is one RFC 4733 telephone event.
type DTMF struct {
	// At is the capture time of the event's first packet.
	At time.Time `json:"at"`
	// Digit is "0"–"9", "*", "#", "A"–"D", or "E<n>" for other events.
	Digit           string  `json:"digit"`
	DurationSeconds float64 `json:"duration_seconds"`
}
