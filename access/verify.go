package access

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// VerifyReport is the result of Verify: how many entries were read, the
// chain's head hash (the stored head's, else the last entry's), and every
// problem found. A clean chain has no problems.
type VerifyReport struct {
	Entries  uint64
	Head     string
	Problems []Problem
}

// Problem is one break of the chain: the seq it concerns (0 for the head
// or a key that is no entry) and what is wrong.
type Problem struct {
	Seq    uint64
	Reason string
}

// Verify walks the whole chain from one snapshot and reports every
// problem, not only the first: an entry whose hash does not match its
// content (edited), whose Prev does not match the entry before it, stored
// under another seq (moved), going back in time, unreadable; seqs missing
// in the middle or at the end (the head names a later one); a head that is
// missing or does not match the last entry. It fails only when the store
// does.
func (s *Service) Verify(ctx context.Context) (VerifyReport, error) {
	var (
		rep       VerifyReport
		head      *headRecord
		expect    = uint64(1)
		lastSeq   uint64
		prevHash  string
		prevAt    time.Time
		prevKnown = true
	)
	add := func(seq uint64, format string, args ...any) {
		rep.Problems = append(rep.Problems, Problem{Seq: seq, Reason: fmt.Sprintf(format, args...)})
	}
	err := s.kv.Scan(ctx, []byte(prefixChain), func(k, v []byte) error {
		key := string(k)
		if key == keyAuditHead {
			var h headRecord
			if err := json.Unmarshal(v, &h); err != nil {
				add(0, "head unreadable: %v", err)
				return nil
			}
			head = &h
			return nil
		}
		hexSeq, ok := strings.CutPrefix(key, prefixAudit)
		seq, err := strconv.ParseUint(hexSeq, 16, 64)
		if !ok || err != nil || len(hexSeq) != 16 || seq == 0 {
			add(0, "key %q is not an audit entry", clip(key, 64))
			return nil
		}
		rep.Entries++
		gap := seq > expect
		if gap {
			if seq-expect == 1 {
				add(expect, "entry %d missing", expect)
			} else {
				add(expect, "entries %d to %d missing", expect, seq-1)
			}
		}
		var e Entry
		if err := json.Unmarshal(v, &e); err != nil {
			add(seq, "unreadable: %v", err)
			expect, lastSeq, prevKnown = seq+1, seq, false
			return nil
		}
		if e.Seq != seq {
			add(seq, "holds entry %d: moved", e.Seq)
		}
		if e.digest() != e.Hash {
			add(seq, "hash does not match the content: edited")
		}
		if !gap && prevKnown && e.Prev != prevHash {
			if seq == 1 {
				add(seq, "prev %q of the first entry is not empty", clip(e.Prev, 64))
			} else {
				add(seq, "prev does not match the hash of entry %d", seq-1)
			}
		}
		if !prevAt.IsZero() && e.At.Before(prevAt) {
			add(seq, "time %s before the previous entry's", e.At.UTC().Format(time.RFC3339Nano))
		}
		expect, lastSeq, prevHash, prevAt, prevKnown = seq+1, seq, e.Hash, e.At, true
		return nil
	})
	if err != nil {
		return VerifyReport{}, fmt.Errorf("verify audit: %w", err)
	}
	rep.Head = prevHash
	switch {
	case head == nil && rep.Entries > 0:
		add(0, "head missing")
	case head == nil:
	case head.Seq > lastSeq:
		if head.Seq-lastSeq == 1 {
			add(lastSeq+1, "entry %d missing: the head names it", head.Seq)
		} else {
			add(lastSeq+1, "entries %d to %d missing: the head names %d", lastSeq+1, head.Seq, head.Seq)
		}
	case head.Seq < lastSeq:
		add(head.Seq+1, "entries after the head's %d", head.Seq)
	case prevKnown && head.Hash != prevHash:
		add(lastSeq, "head hash does not match entry %d", lastSeq)
	}
	if head != nil {
		rep.Head = head.Hash
	}
	slices.SortStableFunc(rep.Problems, func(a, b Problem) int {
		switch {
		case a.Seq < b.Seq:
			return -1
		case a.Seq > b.Seq:
			return 1
		}
		return 0
	})
	return rep, nil
}
