// Package tap wires capture, SIP tracking and storage into the one pipeline
// used by both the daemon (`switchtap run`) and offline replay
// (`switchtap replay`), so the two can never disagree.
package tap
