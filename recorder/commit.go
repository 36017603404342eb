package recorder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// Group commit (issue 12): a finished file is flushed and closed on the
// pipeline's goroutine (writes to the page cache), then handed to the
// committer, which makes many files durable per round with one sync of
// their filesystem, renames them from ".part" into place and syncs the
// directories of the renames. Only then is a file counted as written and
// reported durable (Durable), which the tap's store writer waits for
// before it stores the record naming the file: a record is reported
// stored, and its recording complete, only once the audio is on disk, as
// when each file was fsynced in place — but the capture loop never waits
// on the disk. A file under its final name is always durable; one still
// ".part" after a crash is repaired at the next start (Repair) and its
// call closed from the provisional record (daemon/recover.go).

// Defaults of Config.
const (
	// DefaultCommitQueue bounds the files waiting for the committer. They
	// hold no descriptor (closed at the hand-off): a few hundred bytes
	// each. It is full only when the disk has not finished a sync while
	// this many calls ended (minutes at a busy switchboard).
	DefaultCommitQueue = 4096
	// DefaultCloseTimeout bounds how long Close waits for the last files
	// to be made durable (a disk that never answers must not hang the
	// shutdown).
	DefaultCloseTimeout = 30 * time.Second
)

// ReasonCommitFull is the not_recordable reason of a leg whose file could
// not be handed to the committer because CommitQueue files were already
// waiting for the disk: as the record queue does, the capture does not
// wait, and what cannot be kept is counted (Stats.CommitDropped). The file
// is left as ".part" (never deleted: Repair puts it back at the next start)
// but the record does not promise it.
const ReasonCommitFull = "disk too slow (not durable)"

// Syncer makes written files durable. The committer calls it from its own
// goroutine, never from the pipeline's; tests inject a slow or failing one.
type Syncer interface {
	// Sync makes the data of every file durable (one syncfs(2) per
	// filesystem for many files on Linux). An error means some may not
	// be: the committer then syncs them one at a time to know which.
	Sync(files []string) error
	// SyncDir makes the entries of a directory durable (the renames).
	SyncDir(dir string) error
}

// commitJob is a finished file waiting to be made durable.
type commitJob struct {
	seq    uint64
	callID string
	// rel is the final path relative to Dir; the file is rel+".part".
	rel  string
	pcap bool
	// file and op: a WAV is written by the writer goroutine, and is
	// synced only once its finish (op) is carried out.
	file *wavFile
	op   uint64
}

// committer holds the hand-off between the pipeline and the committing
// goroutine. Its lock is taken after the recorder's, never before.
type committer struct {
	syncer Syncer
	max    int // 0: unbounded (SyncOnClose)

	mu     sync.Mutex
	queue  []commitJob
	issued uint64 // seq of the last job handed off
	done   uint64 // every job up to done is settled (durable or failed)
	// changed is closed, and replaced, each time done advances.
	changed chan struct{}
	// failed maps the rel of files that could not be made durable to the
	// reason, for Settle and for a second End (bounded FIFO).
	failed    map[string]string
	failOrder []string
	rounds    uint64
	dropped   uint64
	worst     time.Duration

	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

func newCommitter(s Syncer, max int) *committer {
	return &committer{
		syncer:  s,
		max:     max,
		changed: make(chan struct{}),
		failed:  make(map[string]string),
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
}

// handOff queues a finished file; it never blocks. It reports false when
// the queue is full (the file is then not promised).
func (c *committer) handOff(j commitJob) bool {
	c.mu.Lock()
	if c.max > 0 && len(c.queue) >= c.max {
		c.dropped++
		c.mu.Unlock()
		return false
	}
	c.issued++
	j.seq = c.issued
	c.queue = append(c.queue, j)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

// take empties the queue.
func (c *committer) take() []commitJob {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queue
	c.queue = nil
	return q
}

// failure is the reason rel could not be made durable ("" if it was, or
// is not known).
func (c *committer) failure(rel string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed[rel]
}

func (c *committer) fail(rel, reason string) {
	if len(c.failOrder) >= maxEnded {
		delete(c.failed, c.failOrder[0])
		c.failOrder = c.failOrder[1:]
	}
	c.failed[rel] = reason
	c.failOrder = append(c.failOrder, rel)
}

// runCommitter commits rounds until stop is closed and the queue is empty.
func (r *Recorder) runCommitter() {
	c := r.com
	defer close(c.stopped)
	for {
		stopping := false
		select {
		case <-c.wake:
		case <-c.stop:
			stopping = true
		}
		if jobs := c.take(); len(jobs) > 0 {
			r.commitRound(jobs)
		}
		if stopping {
			if jobs := c.take(); len(jobs) > 0 {
				r.commitRound(jobs)
			}
			return
		}
	}
}

// commitRound makes jobs durable: one Sync of all their data, the renames,
// one SyncDir per directory; then publishes them, failed ones included.
func (r *Recorder) commitRound(jobs []commitJob) {
	start := time.Now()
	// The WAVs are written and finished by the writer goroutine: none is
	// synced before the writer has carried out its finish.
	var op uint64
	for _, j := range jobs {
		op = max(op, j.op)
	}
	r.wr.wait(op, nil)
	bad := make(map[int]error)
	parts := make([]string, 0, len(jobs))
	idx := make([]int, 0, len(jobs))
	for i, j := range jobs {
		if j.file != nil && j.file.err != nil {
			bad[i] = j.file.err
			continue
		}
		parts = append(parts, filepath.Join(r.cfg.Dir, j.rel)+partSuffix)
		idx = append(idx, i)
	}
	if err := r.syncParts(parts, idx, bad); err != nil {
		// The group failed but every file alone did not: another file
		// of the filesystem failed; ours are on disk.
		r.log.Warn("filesystem sync reported an error, each recording synced alone", "files", len(parts), "err", err)
	}
	dirs := make(map[string][]int)
	for i, j := range jobs {
		if bad[i] != nil {
			continue
		}
		final := filepath.Join(r.cfg.Dir, j.rel)
		if err := os.Rename(final+partSuffix, final); err != nil {
			bad[i] = err
			continue
		}
		dirs[filepath.Dir(final)] = append(dirs[filepath.Dir(final)], i)
	}
	for dir, is := range dirs {
		if err := r.com.syncer.SyncDir(dir); err != nil {
			for _, i := range is {
				bad[i] = err
			}
		}
	}
	elapsed := time.Since(start)

	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.com
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, j := range jobs {
		if err := bad[i]; err != nil {
			r.stats.WriteErrors++
			c.fail(j.rel, ReasonWriteError)
			if res := r.ended[j.callID]; res != nil {
				failResult(res, j.rel, ReasonWriteError)
			}
			r.log.Warn("recording not made durable", "call_id", j.callID, "file", j.rel, "err", err)
			continue
		}
		if j.pcap {
			r.stats.PcapsWritten++
		} else {
			r.stats.FilesWritten++
		}
	}
	c.rounds++
	c.worst = max(c.worst, elapsed)
	c.done = max(c.done, jobs[len(jobs)-1].seq)
	close(c.changed)
	c.changed = make(chan struct{})
}

// syncParts makes parts durable in one Sync; when it fails each is synced
// alone, to know which (rare: a failing disk), and those are set in bad by
// their job index idx. It returns the group's error when no file alone
// failed.
func (r *Recorder) syncParts(parts []string, idx []int, bad map[int]error) error {
	if len(parts) == 0 {
		return nil
	}
	err := r.com.syncer.Sync(parts)
	if err == nil {
		return nil
	}
	failed := false
	for k, p := range parts {
		if err := r.com.syncer.Sync([]string{p}); err != nil {
			bad[idx[k]] = err
			failed = true
		}
	}
	if failed {
		return nil
	}
	return err
}

// failRecording takes the file rel out of a recording object: it is not
// on disk to be trusted.
func failRecording(rec *sip.Recording, rel, reason string) {
	switch filepath.ToSlash(rel) {
	case filepath.ToSlash(rec.File):
		rec.File, rec.DurationSeconds = "", 0
	case filepath.ToSlash(rec.Pcap):
		rec.Pcap = ""
	default:
		return
	}
	rec.NotRecordable = reason
}

func failResult(res *Result, rel, reason string) {
	failRecording(&res.Recording, rel, reason)
	if res.Pcap == rel {
		res.Pcap = ""
	}
	if res.Recording.File == "" {
		res.LateSamples = 0
	}
}

// Mark returns the sequence number of the last file handed to the
// committer: a record emitted now names no file handed off after it.
func (r *Recorder) Mark() uint64 {
	r.com.mu.Lock()
	defer r.com.mu.Unlock()
	return r.com.issued
}

// Durable returns the sequence number up to which every file handed off
// is settled (durable, or failed and known to Settle), and a channel
// closed when it next advances.
func (r *Recorder) Durable() (uint64, <-chan struct{}) {
	r.com.mu.Lock()
	defer r.com.mu.Unlock()
	return r.com.done, r.com.changed
}

// Settle returns rec as it must be stored once its files are settled:
// rec itself, or a copy without the file the committer could not make
// durable (not_recordable "write error").
func (r *Recorder) Settle(rec *sip.Recording) *sip.Recording {
	if rec == nil || rec.File == "" && rec.Pcap == "" {
		return rec
	}
	for _, rel := range []string{rec.File, rec.Pcap} {
		if rel == "" {
			continue
		}
		if reason := r.com.failure(filepath.FromSlash(rel)); reason != "" {
			cp := *rec
			failRecording(&cp, filepath.FromSlash(rel), reason)
			return &cp
		}
	}
	return rec
}

// Sync waits until every file handed off before it is settled; with
// SyncOnClose it commits them now, in one round.
func (r *Recorder) Sync(ctx context.Context) error {
	if r.cfg.SyncOnClose {
		if jobs := r.com.take(); len(jobs) > 0 {
			r.commitRound(jobs)
		}
		return nil
	}
	want := r.Mark()
	for {
		done, changed := r.Durable()
		if done >= want {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("recordings not yet durable: %w", ctx.Err())
		}
	}
}

// CommitStats are the committer's figures.
type CommitStats struct {
	// Waiting files are handed off, not yet durable.
	Waiting int
	// Rounds counts group syncs; Worst is the longest (the disk's worst
	// answer, which the capture no longer waits for).
	Rounds uint64
	Worst  time.Duration
	// Dropped counts files refused because Waiting reached CommitQueue.
	Dropped uint64
}

func (c *committer) stats() CommitStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CommitStats{Waiting: int(c.issued - c.done), Rounds: c.rounds, Worst: c.worst, Dropped: c.dropped}
}

// stopCommitter drains the committer and stops it, waiting at most d.
func (r *Recorder) stopCommitter(d time.Duration) error {
	if r.cfg.SyncOnClose {
		return r.Sync(context.Background())
	}
	r.com.once.Do(func() { close(r.com.stop) })
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.com.stopped:
		return nil
	case <-t.C:
		return errors.New("recorder: the disk did not make the last recordings durable in time")
	}
}
