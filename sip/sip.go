// Package sip reads SIP messages (on top of sipgo's parser) and tracks the
// state of every call leg seen on the tap: offered, ringing, answered,
// transferred, ended.
package sip
