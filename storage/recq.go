package storage

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchtap/switchtap/sip"
)

// The recordings' upload queue of the uplink (issue 11), apart from the
// records' outbox: recordings are large and go on a lower-priority queue.
//
//	recq/<id>     -> RecJob (JSON): the recording is hashed and waits for the server
//	recdone/<id>  -> RecDone (JSON): the server holds it, verified (or it was dropped)
//	recscan       -> big-endian UnixNano: with uploads of every recording,
//	                 the invite_at from which records are still looked at
//
// A job is queued in the same transaction that writes the hash into the
// record's recording object (a new revision, so the hash goes up with the
// record through the outbox), and removed in the transaction that marks it
// done: a recording is queued, done or neither, never both.
const (
	prefixRecQ    = "recq/"
	prefixRecDone = "recdone/"
	keyRecScan    = "recscan"
	// maxRecBatch bounds RecordingJobs' and RecordingCandidates' max.
	maxRecBatch = 10_000
	// maxOpenAge is how long a record still open (no ended_at) holds back
	// the scan of RecordingCandidates: a leg never ended (a crash the
	// recovery could not close) must not pin it forever.
	maxOpenAge = 48 * time.Hour
)

// RecJob is a recording queued for upload.
type RecJob struct {
	RecordID string `json:"record_id"`
	// File is the recording's WAV, relative to the recordings directory.
	File string `json:"file"`
	// SHA256 is the file's hex SHA-256 when it was queued; Size its size.
	SHA256   string    `json:"sha256"`
	Size     int64     `json:"size"`
	QueuedAt time.Time `json:"queued_at"`
}

// RecDone records a recording the queue is finished with.
type RecDone struct {
	SHA256 string    `json:"sha256"`
	At     time.Time `json:"at"`
	// Dropped says why it never went up ("" when the server verified
	// it): the file was missing or changed on disk.
	Dropped string `json:"dropped,omitempty"`
}

// RecCandidate is a finished recording that must go up and is neither
// queued nor done.
type RecCandidate struct {
	RecordID string
	// File is relative to the recordings directory.
	File string
}

// RecQStats are the queue's figures.
type RecQStats struct {
	// Depth counts the queued recordings, Bytes their sizes.
	Depth int
	Bytes int64
}

func recqKey(id string) []byte    { return append([]byte(prefixRecQ), id...) }
func recdoneKey(id string) []byte { return append([]byte(prefixRecDone), id...) }

// has says whether key exists in txn.
func has(txn *badger.Txn, key []byte) (bool, error) {
	_, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

// QueueRecording queues j and writes j.SHA256 into record j.RecordID's
// recording object, in one transaction (the record's new revision goes
// through the outbox). It returns false, writing nothing, when the record
// is already queued or done. The record must exist and name j.File.
func (s *Store) QueueRecording(ctx context.Context, j RecJob) (bool, error) {
	if err := checkID(j.RecordID); err != nil {
		return false, err
	}
	if j.File == "" || len(j.SHA256) != 64 || j.Size <= 0 {
		return false, fmt.Errorf("%w: recording job %+v", ErrOption, j)
	}
	v, err := json.Marshal(j)
	if err != nil {
		return false, fmt.Errorf("encode recording job %s: %w", j.RecordID, err)
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	queued := false
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err = s.db.Update(func(txn *badger.Txn) error {
		for _, k := range [][]byte{recqKey(j.RecordID), recdoneKey(j.RecordID)} {
			if ok, err := has(txn, k); err != nil || ok {
				return err
			}
		}
		c, err := s.getCall(txn, j.RecordID)
		if err != nil {
			return err
		}
		if c.Recording == nil || c.Recording.File != j.File {
			return fmt.Errorf("%w: record %s does not name recording %s", ErrNotFound, j.RecordID, j.File)
		}
		if c.Recording.SHA256 != j.SHA256 {
			rec := *c.Recording
			rec.SHA256 = j.SHA256
			c.Recording = &rec
			// Messages are not re-encoded: an upsert without them keeps
			// those stored.
			c.Messages = nil
			e, err := s.encodeCall(&c)
			if err != nil {
				return err
			}
			if err := s.putTxn(txn, &c, e); err != nil {
				return err
			}
		}
		queued = true
		return txn.Set(recqKey(j.RecordID), v)
	})
	if err != nil {
		return false, fmt.Errorf("queue recording of %s: %w", j.RecordID, err)
	}
	return queued, nil
}

// RecordingJobs returns at most max queued recordings, in record id order.
func (s *Store) RecordingJobs(ctx context.Context, max int) ([]RecJob, error) {
	if max <= 0 || max > maxRecBatch {
		return nil, fmt.Errorf("%w: recording batch of %d", ErrOption, max)
	}
	var js []RecJob
	err := s.scanPrefix(ctx, []byte(prefixRecQ), func(_, v []byte) (bool, error) {
		var j RecJob
		if err := json.Unmarshal(v, &j); err != nil {
			return false, fmt.Errorf("%w: recording job: %w", ErrCorrupt, err)
		}
		js = append(js, j)
		return len(js) < max, nil
	})
	if err != nil {
		return nil, fmt.Errorf("recording jobs: %w", err)
	}
	return js, nil
}

// RecordingDone removes record id's job and marks it done, in one
// transaction: d.Dropped empty when the server verified the file.
func (s *Store) RecordingDone(ctx context.Context, id string, d RecDone) error {
	if err := checkID(id); err != nil {
		return err
	}
	v, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode recording done %s: %w", id, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err = s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Delete(recqKey(id)); err != nil {
			return err
		}
		return txn.Set(recdoneKey(id), v)
	})
	if err != nil {
		return fmt.Errorf("recording done %s: %w", id, err)
	}
	return nil
}

// RecordingStatus returns whether record id's recording is queued, and
// its done mark (nil: not done).
func (s *Store) RecordingStatus(ctx context.Context, id string) (queued bool, done *RecDone, err error) {
	if err := checkID(id); err != nil {
		return false, nil, err
	}
	if err := ctx.Err(); err != nil {
		return false, nil, err
	}
	err = s.db.View(func(txn *badger.Txn) error {
		var err error
		if queued, err = has(txn, recqKey(id)); err != nil {
			return err
		}
		done, err = getDone(txn, id)
		return err
	})
	if err != nil {
		return false, nil, fmt.Errorf("recording status %s: %w", id, err)
	}
	return queued, done, nil
}

func getDone(txn *badger.Txn, id string) (*RecDone, error) {
	item, err := txn.Get(recdoneKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d := &RecDone{}
	err = item.Value(func(v []byte) error { return json.Unmarshal(v, d) })
	if err != nil {
		return nil, fmt.Errorf("%w: recording done %s: %w", ErrCorrupt, id, err)
	}
	return d, nil
}

// RecordingPending says whether retention must keep record id's
// recording for the uplink: it is queued, or protected (a keep flag) and
// not verified by the server, or (all: every recording goes up) at or
// after the scan mark of RecordingCandidates and not yet done. In doubt
// (an error) the caller keeps it.
func (s *Store) RecordingPending(ctx context.Context, id string, all bool) (bool, error) {
	if err := checkID(id); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	pending := false
	err := s.db.View(func(txn *badger.Txn) error {
		q, err := has(txn, recqKey(id))
		if err != nil || q {
			pending = q
			return err
		}
		d, err := getDone(txn, id)
		if err != nil || (d != nil && d.Dropped == "") {
			// Verified by the server: the box's copy may go.
			return err
		}
		// A flagged recording that never went up (dropped: the file
		// changed) is still the only copy.
		if pending, err = has(txn, append([]byte(prefixKeep), id...)); err != nil || pending || !all || d != nil {
			return err
		}
		mark, err := getUint64(txn, []byte(keyRecScan), 0)
		if err != nil {
			return err
		}
		c, err := s.getCall(txn, id)
		if errors.Is(err, ErrNotFound) {
			// A file without its record: nothing would ever upload it.
			return nil
		}
		if err != nil {
			return err
		}
		pending = uint64(c.InviteAt.UnixNano()) >= mark //nolint:gosec // G115: checkInvite keeps stored times after 1970
		return nil
	})
	if err != nil {
		return true, fmt.Errorf("recording pending %s: %w", id, err)
	}
	return pending, nil
}

// RecordingCandidates returns at most max finished recordings (the
// record ended before settled, so trailing writes are over, and names a
// WAV) that must go up and are neither queued nor done: those with a keep
// flag, or with all every recording from the scan mark on. mark is the
// scan mark to store with SetRecordingMark once every candidate returned
// is queued or done; it never passes a record still open (for at most
// 48 h) nor a candidate not returned.
func (s *Store) RecordingCandidates(ctx context.Context, all bool, settled time.Time, max int) (cs []RecCandidate, mark time.Time, err error) {
	if max <= 0 || max > maxRecBatch {
		return nil, time.Time{}, fmt.Errorf("%w: recording batch of %d", ErrOption, max)
	}
	if err := ctx.Err(); err != nil {
		return nil, time.Time{}, err
	}
	err = s.db.View(func(txn *badger.Txn) error {
		if !all {
			cs, err = s.keptCandidates(ctx, txn, settled, max)
			return err
		}
		cs, mark, err = s.allCandidates(ctx, txn, settled, max)
		return err
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("recording candidates: %w", err)
	}
	return cs, mark, nil
}

// candidate says whether c's recording is one to queue.
func candidate(txn *badger.Txn, c *sip.Call, settled time.Time) (bool, error) {
	if c.Recording == nil || c.Recording.File == "" || c.EndedAt == nil || !c.EndedAt.Before(settled) {
		return false, nil
	}
	for _, k := range [][]byte{recqKey(c.ID), recdoneKey(c.ID)} {
		if ok, err := has(txn, k); err != nil || ok {
			return false, err
		}
	}
	return true, nil
}

func (s *Store) keptCandidates(ctx context.Context, txn *badger.Txn, settled time.Time, max int) ([]RecCandidate, error) {
	var cs []RecCandidate
	o := badger.DefaultIteratorOptions
	o.Prefix = []byte(prefixKeep)
	o.PrefetchValues = false
	it := txn.NewIterator(o)
	defer it.Close()
	for it.Rewind(); it.Valid() && len(cs) < max; it.Next() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		id := string(it.Item().Key()[len(prefixKeep):])
		c, err := s.getCall(txn, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ok, err := candidate(txn, &c, settled)
		if err != nil {
			return nil, err
		}
		if ok {
			cs = append(cs, RecCandidate{RecordID: id, File: c.Recording.File})
		}
	}
	return cs, nil
}

func (s *Store) allCandidates(ctx context.Context, txn *badger.Txn, settled time.Time, max int) ([]RecCandidate, time.Time, error) {
	from, err := getUint64(txn, []byte(keyRecScan), 0)
	if err != nil {
		return nil, time.Time{}, err
	}
	var (
		cs     []RecCandidate
		mark   time.Time
		marked bool
		last   = time.Unix(0, int64(from)).UTC() //nolint:gosec // G115: written from a non-negative int64
	)
	o := badger.DefaultIteratorOptions
	o.Prefix = []byte(prefixCall)
	o.PrefetchSize = scanPrefetch
	it := txn.NewIterator(o)
	defer it.Close()
	start := binary.BigEndian.AppendUint64([]byte(prefixCall), from)
	for it.Seek(start); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return nil, time.Time{}, err
		}
		var c sip.Call
		if err := s.decode(it.Item(), &c); err != nil {
			return nil, time.Time{}, err
		}
		last = c.InviteAt
		if c.EndedAt == nil || !c.EndedAt.Before(settled) {
			// Still open or settling: the scan resumes here next time,
			// unless it has been open for too long.
			if !marked && c.InviteAt.After(settled.Add(-maxOpenAge)) {
				mark, marked = c.InviteAt, true
			}
			continue
		}
		ok, err := candidate(txn, &c, settled)
		if err != nil {
			return nil, time.Time{}, err
		}
		if !ok {
			continue
		}
		if len(cs) == max {
			if !marked {
				mark, marked = c.InviteAt, true
			}
			break
		}
		cs = append(cs, RecCandidate{RecordID: c.ID, File: c.Recording.File})
	}
	if !marked {
		mark = last
	}
	return cs, mark, nil
}

// SetRecordingMark stores the scan mark of RecordingCandidates (with
// all); it never moves back.
func (s *Store) SetRecordingMark(ctx context.Context, mark time.Time) error {
	if err := checkInvite(mark); err != nil {
		return fmt.Errorf("recording mark: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	err := s.db.Update(func(txn *badger.Txn) error {
		old, err := getUint64(txn, []byte(keyRecScan), 0)
		if err != nil {
			return err
		}
		n := uint64(mark.UnixNano()) //nolint:gosec // G115: checked above
		if n <= old {
			return nil
		}
		return setUint64(txn, []byte(keyRecScan), n)
	})
	if err != nil {
		return fmt.Errorf("recording mark: %w", err)
	}
	return nil
}

// RecQStats returns the queue's figures.
func (s *Store) RecQStats(ctx context.Context) (RecQStats, error) {
	var st RecQStats
	err := s.scanPrefix(ctx, []byte(prefixRecQ), func(_, v []byte) (bool, error) {
		var j RecJob
		if err := json.Unmarshal(v, &j); err != nil {
			return false, fmt.Errorf("%w: recording job: %w", ErrCorrupt, err)
		}
		st.Depth++
		st.Bytes += j.Size
		return true, nil
	})
	if err != nil {
		return RecQStats{}, fmt.Errorf("recording queue stats: %w", err)
	}
	return st, nil
}

// scanPrefix calls fn with each key and value under prefix, in key order,
// from one snapshot, while fn returns true.
func (s *Store) scanPrefix(ctx context.Context, prefix []byte, fn func(k, v []byte) (bool, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = prefix
		o.PrefetchSize = scanPrefetch
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			more := true
			err := it.Item().Value(func(v []byte) error {
				var err error
				more, err = fn(it.Item().Key(), v)
				return err
			})
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
		}
		return nil
	})
}
