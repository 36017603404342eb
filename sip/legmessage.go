package sip

import "time"

// MaxLegMessages bounds the SIP messages kept with a leg's record (for the
// console's ladder diagram); later messages are counted, not kept.
const MaxLegMessages = 64

// MaxLegMessageRaw bounds the raw text kept of one message; the rest is
// cut and Truncated is set.
const MaxLegMessageRaw = 4096

// LegMessage is one SIP message of a leg as the tap saw it, kept with the
// record so the console can draw the leg's ladder.
type LegMessage struct {
	// At is the capture time of the packet that carried the message.
	At time.Time `json:"at"`
	// Src and Dst are "ip:port" of the packet.
	Src string `json:"src"`
	Dst string `json:"dst"`
	// Transport is "udp" or "tcp".
	Transport string `json:"transport"`
	// Method is the request method, empty for a response.
	Method string `json:"method,omitempty"`
	// Status is the response's status code, 0 for a request.
	Status int    `json:"status,omitempty"`
	Reason string `json:"reason,omitempty"`
	// CSeq is the CSeq number and CSeqMethod its method.
	CSeq       uint32 `json:"cseq"`
	CSeqMethod string `json:"cseq_method"`
	// FromCaller says the message was sent by the side that sent the
	// first INVITE.
	FromCaller bool `json:"from_caller"`
	// Retransmission marks a copy of a message already seen.
	Retransmission bool `json:"retransmission,omitempty"`
	// Raw is the message text, at most MaxLegMessageRaw bytes.
	Raw       string `json:"raw"`
	Truncated bool   `json:"truncated,omitempty"`
}
