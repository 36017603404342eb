package uplink

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Entry is an outbox entry as the sender sends it.
type Entry struct {
	// Seq is the entry's per-box sequence number.
	Seq uint64
	// RecordID is the record's id.
	RecordID string
	// Revision is the record's current revision (at least the one the
	// entry was written with): the record is read at send time.
	Revision uint64
	// Record is the record's JSON as stored (the sip.Call fields).
	Record json.RawMessage
}

// entryOverhead is what an entry adds to its id and record in the JSON,
// for the bytes bound: the keys, two numbers, punctuation.
const entryOverhead = 80

// entrySize is an entry's JSON size, near enough for the batch bound.
func entrySize(e Entry) int { return len(e.Record) + len(e.RecordID) + entryOverhead }

// batch is a batch ready to post: its range and its gzipped body, kept so
// a resend is the same bytes.
type batch struct {
	first, last uint64
	n           int
	raw         int // bytes of JSON before gzip
	body        []byte
}

// encoder builds batch bodies, reusing its buffers (one per Sender, used
// from Run only).
type encoder struct {
	json bytes.Buffer
	gz   *gzip.Writer
	zbuf bytes.Buffer
}

func newEncoder() *encoder {
	e := &encoder{}
	e.gz = gzip.NewWriter(&e.zbuf)
	return e
}

// encode builds the body of entries, which must be contiguous by seq.
func (c *encoder) encode(es []Entry) (*batch, error) {
	if len(es) == 0 {
		return nil, fmt.Errorf("%w: empty batch", ErrProtocol)
	}
	for i := 1; i < len(es); i++ {
		if es[i].Seq != es[i-1].Seq+1 {
			return nil, fmt.Errorf("%w: seq %d after %d", ErrProtocol, es[i].Seq, es[i-1].Seq)
		}
	}
	b := &batch{first: es[0].Seq, last: es[len(es)-1].Seq, n: len(es)}
	j := &c.json
	j.Reset()
	var num [20]byte
	j.WriteString(`{"first_seq":`)
	j.Write(strconv.AppendUint(num[:0], b.first, 10))
	j.WriteString(`,"last_seq":`)
	j.Write(strconv.AppendUint(num[:0], b.last, 10))
	j.WriteString(`,"entries":[`)
	for i, e := range es {
		if i > 0 {
			j.WriteByte(',')
		}
		j.WriteString(`{"seq":`)
		j.Write(strconv.AppendUint(num[:0], e.Seq, 10))
		j.WriteString(`,"record_id":`)
		appendJSONString(j, e.RecordID)
		j.WriteString(`,"revision":`)
		j.Write(strconv.AppendUint(num[:0], e.Revision, 10))
		j.WriteString(`,"record":`)
		// The store wrote it with encoding/json: valid and compact.
		j.Write(e.Record)
		j.WriteByte('}')
	}
	j.WriteString(`]}`)
	b.raw = j.Len()
	c.zbuf.Reset()
	c.gz.Reset(&c.zbuf)
	if _, err := c.gz.Write(j.Bytes()); err != nil {
		return nil, fmt.Errorf("gzip batch: %w", err)
	}
	if err := c.gz.Close(); err != nil {
		return nil, fmt.Errorf("gzip batch: %w", err)
	}
	b.body = bytes.Clone(c.zbuf.Bytes())
	return b, nil
}

// appendJSONString writes s as a JSON string as encoding/json would
// (invalid UTF-8 becomes U+FFFD, as it did in the stored record), without
// its HTML escaping, which JSON does not need.
func appendJSONString(w *bytes.Buffer, s string) {
	w.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			w.WriteByte('\\')
			w.WriteRune(r)
		case r < 0x20:
			const hex = "0123456789abcdef"
			w.WriteString(`\u00`)
			w.WriteByte(hex[r>>4])
			w.WriteByte(hex[r&0xf])
		case r == '\u2028' || r == '\u2029':
			// Escaped by encoding/json too, for JavaScript.
			fmt.Fprintf(w, `\u%04x`, r)
		default:
			w.WriteRune(r)
		}
	}
	w.WriteByte('"')
}

// ack is the server's answer body.
type ack struct {
	Acked *uint64 `json:"acked"`
}

// maxAnswer bounds the answer body read.
const maxAnswer = 64 << 10

// parseAck reads {"acked": N}.
func parseAck(b []byte) (uint64, error) {
	var a ack
	if err := json.Unmarshal(b, &a); err != nil {
		return 0, fmt.Errorf("%w: answer %q: %w", ErrProtocol, truncate(b), err)
	}
	if a.Acked == nil {
		return 0, fmt.Errorf("%w: answer %q has no acked", ErrProtocol, truncate(b))
	}
	return *a.Acked, nil
}

func truncate(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

// parseRetryAfter reads a Retry-After header, delay-seconds or an
// HTTP-date (RFC 9110 10.2.3); ok is false when it is absent or unusable.
// The delay is capped at maxRetryAfter.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		if n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		d = time.Duration(n) * time.Second //nolint:gosec // G115: bounded above
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	return min(d, maxRetryAfter), true
}
