package storage

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

const (
	// prefixCall starts the primary keys. "call/" sorts before "callid/"
	// ('/' < 'i'), and a prefix iteration keeps the two apart.
	prefixCall  = "call/"
	prefixIndex = "callid/"
	// maxIDLen bounds the id so a key stays far below badger's 64 KB key
	// limit; Call-IDs and our ids are much shorter.
	maxIDLen = 1024
	// tsLen is the length of the big-endian nanosecond timestamp.
	tsLen = 8
)

var (
	minInvite = time.Unix(0, 0)
	maxInvite = time.Unix(0, math.MaxInt64)
)

// checkID validates a record id.
func checkID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty", ErrID)
	case len(id) > maxIDLen:
		return fmt.Errorf("%w: %d bytes > %d", ErrID, len(id), maxIDLen)
	}
	return nil
}

// checkInvite validates invite_at: the key holds it as unsigned
// nanoseconds since 1970, so earlier times (among them the zero time) and
// times past UnixNano's range have no place in the order.
func checkInvite(t time.Time) error {
	if t.Before(minInvite) || t.After(maxInvite) {
		return fmt.Errorf("%w: %s", ErrInviteAt, t.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// callKey is the primary key of a record: prefix, time, "/", id.
func callKey(t time.Time, id string) []byte {
	k := make([]byte, 0, len(prefixCall)+tsLen+1+len(id))
	k = append(k, prefixCall...)
	k = binary.BigEndian.AppendUint64(k, uint64(t.UnixNano())) //nolint:gosec // G115: checkInvite keeps t at or after 1970
	k = append(k, '/')
	return append(k, id...)
}

// timeKey is the first possible primary key at t, clamped to the key range.
func timeKey(t time.Time) []byte {
	var ns uint64
	switch {
	case t.After(maxInvite):
		ns = math.MaxInt64
	case !t.Before(minInvite):
		ns = uint64(t.UnixNano()) //nolint:gosec // G115: t is at or after 1970
	}
	k := make([]byte, 0, len(prefixCall)+tsLen)
	k = append(k, prefixCall...)
	return binary.BigEndian.AppendUint64(k, ns)
}

// indexKey is the key of the id index.
func indexKey(id string) []byte {
	return append([]byte(prefixIndex), id...)
}

// parseCallKey splits a primary key into its time and id.
func parseCallKey(k []byte) (time.Time, string, error) {
	n := len(prefixCall) + tsLen + 1
	if len(k) <= n || string(k[:len(prefixCall)]) != prefixCall || k[n-1] != '/' {
		return time.Time{}, "", fmt.Errorf("%w: key %q", ErrCorrupt, k)
	}
	ns := binary.BigEndian.Uint64(k[len(prefixCall):])
	return time.Unix(0, int64(ns)).UTC(), string(k[n:]), nil //nolint:gosec // G115: written from a non-negative int64
}
