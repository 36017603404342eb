package access

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Entry is one entry of the audit log. The log is append-only and
// hash-chained: Hash is the hex SHA-256 of the entry's canonical encoding
// (every field but Hash, see digest), and Prev is the Hash of the entry
// before it, "" for the first. Editing, removing or reordering entries
// therefore breaks the chain, which Verify reports.
type Entry struct {
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Remote string    `json:"remote,omitempty"`
	Prev   string    `json:"prev"`
	Hash   string    `json:"hash"`
}

// Bounds of an entry's text fields, in bytes; longer text is cut, not
// refused, so that auditing an action never fails because of what a
// request carried.
const (
	maxActorLen  = 128
	maxActionLen = 64
	maxTargetLen = 256
	maxDetailLen = 4096
	maxRemoteLen = 128
)

// digestVersion starts the canonical encoding, so that a later encoding
// can be told apart.
const digestVersion = "switchtap-audit-v1\n"

// digest returns the hex SHA-256 of the canonical encoding of e: the line
// "switchtap-audit-v1", then seq (decimal), at (RFC 3339 with nanoseconds,
// UTC), actor, action, target, detail, remote and prev, each written as
// its length in bytes, ':', the bytes and '\n'. The lengths make the
// encoding unambiguous whatever the fields hold.
func (e *Entry) digest() string {
	var b bytes.Buffer
	b.WriteString(digestVersion)
	for _, f := range [...]string{
		strconv.FormatUint(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano),
		e.Actor, e.Action, e.Target, e.Detail, e.Remote, e.Prev,
	} {
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
		b.WriteByte('\n')
	}
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:])
}

// tidy makes a text field valid UTF-8 (JSON would otherwise store another
// string than the one hashed) and cuts it to n bytes on a rune boundary.
func tidy(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// headRecord is the stored head of the chain, under "audit-head", written
// in the same transaction as each entry: removing the last entry leaves
// the head naming it.
type headRecord struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// chainHead is where the next entry goes.
type chainHead struct {
	Seq  uint64
	Hash string
	// At is the time of the last entry: entries never go back in time
	// (see commitLocked).
	At time.Time
}

// Audit appends an entry with e's Actor, Action, Target, Detail and
// Remote: it fills Seq (1, 2, 3, …), At (the clock, UTC), Prev and Hash,
// and returns the entry as stored, durable. ErrEntry without an action.
func (s *Service) Audit(ctx context.Context, e Entry) (Entry, error) {
	if strings.TrimSpace(e.Action) == "" {
		return Entry{}, fmt.Errorf("audit: %w: no action", ErrEntry)
	}
	es := []Entry{e}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.commitLocked(ctx, nil, es...); err != nil {
		return Entry{}, fmt.Errorf("audit %s: %w", clip(e.Action, maxActionLen), err)
	}
	return es[0], nil
}

// commit is commitLocked under the write lock.
func (s *Service) commit(ctx context.Context, b *batch, es ...Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commitLocked(ctx, b, es...)
}

// commitLocked writes b's changes with the entries es and the new head in
// one transaction, filling each entry in place. At is the clock, but never
// before the previous entry's: the board has no battery-backed clock, and
// a step back of its time must not make the log run backwards (AuditRange
// relies on the order). The in-memory head moves only once the write
// succeeded.
func (s *Service) commitLocked(ctx context.Context, b *batch, es ...Entry) error {
	if b == nil {
		b = &batch{}
	}
	head := s.head
	now := s.now()
	for i := range es {
		e := &es[i]
		e.Actor, e.Action = tidy(e.Actor, maxActorLen), tidy(e.Action, maxActionLen)
		e.Target, e.Detail, e.Remote = tidy(e.Target, maxTargetLen), tidy(e.Detail, maxDetailLen), tidy(e.Remote, maxRemoteLen)
		e.Seq, e.Prev = head.Seq+1, head.Hash
		e.At = now
		if e.At.Before(head.At) {
			e.At = head.At
		}
		e.Hash = e.digest()
		v, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode audit entry %d: %w", e.Seq, err)
		}
		b.put(auditKey(e.Seq), v)
		head = chainHead{Seq: e.Seq, Hash: e.Hash, At: e.At}
	}
	if len(es) > 0 {
		hv, err := json.Marshal(headRecord{Seq: head.Seq, Hash: head.Hash})
		if err != nil {
			return fmt.Errorf("encode audit head: %w", err)
		}
		b.put([]byte(keyAuditHead), hv)
	}
	if err := s.kv.Batch(ctx, b.set, b.del); err != nil {
		return err
	}
	s.head = head
	return nil
}

// getEntry reads the entry seq; ok is false when there is none.
func (s *Service) getEntry(ctx context.Context, seq uint64) (e Entry, ok bool, err error) {
	v, ok, err := s.kv.Get(ctx, auditKey(seq))
	if err != nil || !ok {
		return Entry{}, false, err
	}
	if err := json.Unmarshal(v, &e); err != nil {
		return Entry{}, true, fmt.Errorf("%w: entry %d: %w", errUnreadable, seq, err)
	}
	return e, true, nil
}

// loadHead finds where the chain ends. In the normal case the head names
// an entry that exists, with that hash, and no entry follows it. Otherwise
// the chain was tampered with (or the store damaged): the next entry goes
// after the highest seq known, from the head or the entries, so that a
// removed entry's seq is never reused and its gap stays visible to Verify.
func (s *Service) loadHead(ctx context.Context) error {
	v, hok, err := s.kv.Get(ctx, []byte(keyAuditHead))
	if err != nil {
		return err
	}
	var hd headRecord
	if hok {
		if err := json.Unmarshal(v, &hd); err != nil {
			s.log.Error("audit head unreadable", "err", err)
			hok = false
		}
	}
	if hd.Seq > 0 {
		e, ok, err := s.getEntry(ctx, hd.Seq)
		if err != nil && !errors.Is(err, errUnreadable) {
			return err
		}
		_, next, nerr := s.kv.Get(ctx, auditKey(hd.Seq+1))
		if nerr != nil {
			return nerr
		}
		if err == nil && ok && !next && e.Hash == hd.Hash {
			s.head = chainHead{Seq: hd.Seq, Hash: hd.Hash, At: e.At}
			return nil
		}
	} else {
		_, first, err := s.kv.Get(ctx, auditKey(1))
		if err != nil {
			return err
		}
		if !first && !hok {
			return nil // a new, empty log
		}
	}
	var last Entry
	var lastSeq uint64
	err = s.kv.Scan(ctx, []byte(prefixAudit), func(k, v []byte) error {
		seq, err := strconv.ParseUint(string(k[len(prefixAudit):]), 16, 64)
		if err != nil || seq <= lastSeq {
			return nil //nolint:nilerr // a key that is no entry: Verify reports it
		}
		lastSeq = seq
		var e Entry
		if json.Unmarshal(v, &e) == nil {
			last = e
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.head = chainHead{Seq: hd.Seq, Hash: hd.Hash, At: last.At.UTC()}
	if lastSeq > hd.Seq {
		s.head.Seq, s.head.Hash = lastSeq, last.Hash
	}
	s.log.Error("audit chain inconsistent, appending after its highest seq; run audit verify",
		"head_seq", hd.Seq, "head_found", hok, "last_entry", lastSeq, "next_seq", s.head.Seq+1)
	return nil
}

// AuditRange calls fn for every entry with At in [from, to), in seq order;
// it returns fn's first error as is. Entries that cannot be read are
// skipped (and logged): Verify reports them.
func (s *Service) AuditRange(ctx context.Context, from, to time.Time, fn func(Entry) error) error {
	if !to.After(from) {
		return nil
	}
	s.mu.Lock()
	last := s.head.Seq
	s.mu.Unlock()
	if last == 0 {
		return nil
	}
	first, err := s.firstAtOrAfter(ctx, from, last)
	if err != nil {
		return fmt.Errorf("audit range: %w", err)
	}
	// One scan over the keys that share the first and last keys' prefix:
	// it covers [first, last]; keys before first are skipped unread.
	lo, hi := auditKey(first), auditKey(last)
	n := 0
	for n < len(lo) && lo[n] == hi[n] {
		n++
	}
	var fnErr error
	err = s.kv.Scan(ctx, lo[:n], func(k, v []byte) error {
		if bytes.Compare(k, lo) < 0 {
			return nil
		}
		var e Entry
		if err := json.Unmarshal(v, &e); err != nil {
			s.log.Warn("audit entry unreadable", "key", string(k), "err", err)
			return nil
		}
		if !e.At.Before(to) {
			return errStop
		}
		if e.At.Before(from) {
			return nil
		}
		if err := fn(e); err != nil {
			fnErr = err
			return err
		}
		return nil
	})
	switch {
	case fnErr != nil:
		return fnErr
	case err != nil && err != errStop: //nolint:errorlint // Scan returns fn's error as is
		return fmt.Errorf("audit range: %w", err)
	}
	return nil
}

// firstAtOrAfter finds by bisection the first seq in [1, last] whose entry
// is at or after t, relying on entries never going back in time. Where an
// entry is missing or unreadable it gives 1: the scan then reads all.
func (s *Service) firstAtOrAfter(ctx context.Context, t time.Time, last uint64) (uint64, error) {
	lo, hi := uint64(1), last+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		e, ok, err := s.getEntry(ctx, mid)
		if errors.Is(err, errUnreadable) || (err == nil && !ok) {
			return 1, nil
		}
		if err != nil {
			return 0, err
		}
		if e.At.Before(t) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return min(lo, last), nil
}
