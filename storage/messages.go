package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchtap/switchtap/sip"
)

// Keys of a leg's SIP messages and of the Call-ID index, written by
// PutCalls in the record's own transaction:
//
//	msgs/<id>                                    -> JSON array of sip.LegMessage
//	cid/<call_id>/<invite_at big-endian ns>/<id> -> empty
//
// Neither prefix starts another one ("call/", "callid/", "keep/",
// "deleted/", "kv/"), so a prefix scan never mixes them; TestKeyPrefixes
// checks it.
const (
	prefixMsgs = "msgs/"
	prefixCID  = "cid/"
	// maxCallIDKey bounds the Call-ID in a cid/ key (a Call-ID may be
	// nearly as long as a 64 KB message, a badger key may not): a longer
	// one is cut and a hash of the whole appended. The lookup checks the
	// record's own call_id, so a shared cut cannot mix two Call-IDs.
	maxCallIDKey  = maxIDLen
	callIDHashLen = 16 // hex digits of SHA-256 after the cut
)

// msgsKey is the key of a record's messages.
func msgsKey(id string) []byte {
	return append([]byte(prefixMsgs), id...)
}

// cidPrefix is the start of every cid/ key of a Call-ID: "cid/<call_id>/".
func cidPrefix(callID string) []byte {
	return appendCIDPrefix(make([]byte, 0, len(prefixCID)+min(len(callID), maxCallIDKey)+1), callID)
}

func appendCIDPrefix(k []byte, callID string) []byte {
	k = append(k, prefixCID...)
	if len(callID) > maxCallIDKey {
		h := sha256.Sum256([]byte(callID))
		k = append(k, callID[:maxCallIDKey-callIDHashLen-1]...)
		k = append(k, '#')
		k = hex.AppendEncode(k, h[:callIDHashLen/2])
	} else {
		k = append(k, callID...)
	}
	return append(k, '/')
}

// cidKey is the Call-ID index entry of record id.
func cidKey(callID string, t time.Time, id string) []byte {
	k := make([]byte, 0, len(prefixCID)+min(len(callID), maxCallIDKey)+1+tsLen+1+len(id))
	k = appendCIDPrefix(k, callID)
	k = binary.BigEndian.AppendUint64(k, uint64(t.UnixNano())) //nolint:gosec // G115: checkInvite keeps t at or after 1970
	k = append(k, '/')
	return append(k, id...)
}

// parseCIDKey returns the record id of a cid/ key under prefix, or false
// when the key does not have the shape of one (it may belong to a longer
// Call-ID that starts with this one and a '/').
func parseCIDKey(k, prefix []byte) (string, bool) {
	n := len(prefix) + tsLen + 1
	if len(k) <= n || !bytes.HasPrefix(k, prefix) || k[n-1] != '/' {
		return "", false
	}
	return string(k[n:]), true
}

// indexMessages writes, in txn, the Call-ID index entry of c and, when c
// carries some, its messages (msgs, already encoded). An upsert without
// messages leaves those stored before. oldPK is the record's previous
// primary key, nil for a new record: its index entry goes if the Call-ID
// or invite_at changed.
func (s *Store) indexMessages(txn *badger.Txn, c *sip.Call, msgs, oldPK []byte) error {
	nk := cidKey(c.CallID, c.InviteAt, c.ID)
	if oldPK != nil {
		oldKey, err := s.oldCIDKey(txn, oldPK, c.ID)
		if err != nil {
			return err
		}
		if oldKey != nil && !bytes.Equal(oldKey, nk) {
			if err := txn.Delete(oldKey); err != nil {
				return fmt.Errorf("delete old call-id index of %s: %w", c.ID, err)
			}
		}
	}
	if c.CallID != "" {
		if err := txn.Set(nk, nil); err != nil {
			return fmt.Errorf("write call-id index of %s: %w", c.ID, err)
		}
	}
	if msgs != nil {
		if err := txn.Set(msgsKey(c.ID), msgs); err != nil {
			return fmt.Errorf("write messages of %s: %w", c.ID, err)
		}
	}
	return nil
}

// oldCIDKey returns the cid/ key written with the record stored at pk, nil
// if it had none. It reads only the old record's call_id; an old record
// that cannot be read does not stop the new one from replacing it (its
// stray index entry, if any, is skipped by CallByCallID, which checks the
// record it names).
func (s *Store) oldCIDKey(txn *badger.Txn, pk []byte, id string) ([]byte, error) {
	at, _, err := parseCallKey(pk)
	if err != nil {
		return nil, nil
	}
	item, err := txn.Get(pk)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read old record of %s: %w", id, err)
	}
	var old struct {
		CallID string `json:"call_id"`
	}
	if err := s.readJSON(item, &old); err != nil || old.CallID == "" {
		return nil, nil
	}
	return cidKey(old.CallID, at, id), nil
}

// Messages returns the SIP messages stored with record id, in capture
// order; nil and no error when there are none (or no such record).
func (s *Store) Messages(ctx context.Context, id string) ([]sip.LegMessage, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []sip.LegMessage
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(msgsKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return s.readJSON(item, &out)
	})
	if err != nil {
		return nil, fmt.Errorf("get messages of %s: %w", id, err)
	}
	return out, nil
}

// CallByCallID returns the newest record (greatest invite_at) of a SIP
// Call-ID, or an error wrapping ErrNotFound. It walks the Call-ID's index
// entries newest first and returns the first whose record names that very
// Call-ID.
func (s *Store) CallByCallID(ctx context.Context, callID string) (sip.Call, error) {
	if callID == "" {
		return sip.Call{}, fmt.Errorf("get call by call-id: %w: empty call-id", ErrNotFound)
	}
	if err := ctx.Err(); err != nil {
		return sip.Call{}, err
	}
	prefix := cidPrefix(callID)
	var c sip.Call
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.IteratorOptions{Prefix: prefix, Reverse: true}
		it := txn.NewIterator(o)
		defer it.Close()
		// Reverse: Seek lands on the greatest key at or before this one;
		// a timestamp's first byte is at most 0x7f.
		for it.Seek(append(bytes.Clone(prefix), 0xff)); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			id, ok := parseCIDKey(it.Item().Key(), prefix)
			if !ok {
				continue
			}
			got, err := s.getCall(txn, id)
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt) {
				// Not a record of this Call-ID (the key of a longer one),
				// or one that cannot tell: the lookup goes on.
				if errors.Is(err, ErrCorrupt) {
					s.log.Warn("unreadable record skipped in call-id lookup", "err", err)
				}
				continue
			}
			if err != nil {
				return err
			}
			if got.CallID == callID {
				c = got
				return nil
			}
		}
		return ErrNotFound
	})
	if err != nil {
		return sip.Call{}, fmt.Errorf("get call by call-id %.64q: %w", callID, err)
	}
	return c, nil
}
