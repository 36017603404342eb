// Package rtpquality measures the quality of one direction of an RTP call as
// a passive tap sees it: the RFC 3550 interarrival jitter, the loss, and an
// ITU-T G.107 E-model estimate (R-factor and MOS) from them. Everything here
// is a pure function or a value updated in place: no clock, no allocation
// per packet.
package rtpquality
