package uplink

import "errors"

var (
	// ErrConfig is returned by New for an invalid Config.
	ErrConfig = errors.New("invalid uplink config")
	// ErrServerAhead means the server acknowledged seqs this box never
	// issued: the box's store was replaced (or its token belongs to
	// another box). Sending would have the server drop new records as
	// replays, so the sender stops sending until an operator acts.
	ErrServerAhead = errors.New("central server ahead of the box's outbox")
	// ErrServerBehind means the server's cursor is below entries this box
	// already freed after the server acknowledged them: the server lost
	// committed batches (restored from a backup).
	ErrServerBehind = errors.New("central server behind the box's acknowledged outbox")
	// ErrProtocol is an answer outside the wire protocol.
	ErrProtocol = errors.New("uplink protocol violation")
	// ErrStatus is an HTTP status that is an error of its own (401, 400,
	// 413, a 5xx).
	ErrStatus = errors.New("uplink request refused")
)
