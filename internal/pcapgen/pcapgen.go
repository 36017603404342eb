// Package pcapgen writes synthetic pcap and pcapng captures of SIP calls and
// RTP with exact, known capture timestamps, for golden tests and benchmarks of
// the whole pipeline.
//
// It has three layers: a frame Writer (Ethernet/SLL/raw, VLAN, IPv4/IPv6,
// UDP with IP fragmentation, TCP segments, RTP), a SIP message builder
// (Dialog) that produces RFC 3261 conformant requests and responses of one
// call leg, and a library of named call Scenarios that write their packets
// and return what a correct tap must report for each call leg.
//
// Only documentation addresses are used: 192.0.2.0/24 and 198.51.100.0/24
// (RFC 5737) and 2001:db8::/32 (RFC 3849).
package pcapgen
