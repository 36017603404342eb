package report

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// FrameEncodingV1 names the canonical encoding of a frame hashed by
// FrameHash; see EncodeFrame.
const FrameEncodingV1 = "netstring-id-operator-v1"

// FrameEntry is one call of the sampling frame.
type FrameEntry struct {
	ID       string `json:"id"`
	Operator string `json:"operator"`
}

// Eligible reports whether a leg belongs to the sampling frame: an answered
// inbound leg with a usable recording (recording.file set, not_recordable
// empty). A leg created by a transfer (transferred_from or
// replaces_call_id set) is part of the call it came from, not a call of its
// own (issue 10 §1), so it is not in the frame.
func Eligible(c sip.Call) bool {
	return c.Direction == sip.DirectionInbound &&
		c.AnsweredAt != nil &&
		c.Recording != nil && c.Recording.File != "" && c.Recording.NotRecordable == "" &&
		c.TransferredFrom == "" && c.ReplacesCallID == ""
}

// BuildFrame reads the month's legs (invite_at in [from, to)) and returns
// the eligible ones sorted by record id.
func BuildFrame(ctx context.Context, calls Calls, from, to time.Time) ([]FrameEntry, error) {
	var frame []FrameEntry
	err := calls.Calls(ctx, from, to, func(c sip.Call) error {
		if Eligible(c) {
			frame = append(frame, FrameEntry{ID: c.ID, Operator: c.Operator})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read frame: %w", err)
	}
	slices.SortFunc(frame, func(a, b FrameEntry) int { return cmp.Compare(a.ID, b.ID) })
	// A store never gives one id twice; if one did, the frame keeps it
	// once so that it cannot be drawn twice.
	frame = slices.CompactFunc(frame, func(a, b FrameEntry) bool { return a.ID == b.ID })
	return frame, nil
}

// EncodeFrame returns the canonical encoding of a frame (FrameEncodingV1):
// for each entry in byte order of id, the id then the operator, each as a
// netstring (D. J. Bernstein, "Netstrings", 1997: decimal length, ':', the
// bytes, ','). No byte of an id or a name can be mistaken for a
// separator, so two different frames never encode alike. The frame must
// already be sorted (BuildFrame sorts it).
func EncodeFrame(frame []FrameEntry) []byte {
	var b []byte
	for _, e := range frame {
		b = appendNetstring(b, e.ID)
		b = appendNetstring(b, e.Operator)
	}
	return b
}

// appendNetstring appends s as a netstring.
func appendNetstring(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	b = append(b, s...)
	return append(b, ',')
}

// FrameHash returns the hex SHA-256 of EncodeFrame(frame).
func FrameHash(frame []FrameEntry) string {
	sum := sha256.Sum256(EncodeFrame(frame))
	return hex.EncodeToString(sum[:])
}
