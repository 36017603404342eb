package recorder

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"
)

// The writer (issue 12): WAV files are created, written and finished by a
// goroutine of the Recorder, not the capture's, which only interleaves
// audio into pooled blocks and hands full chunks over a queue bounded in
// bytes. A write into the page cache can block for long under dirty-page
// throttling (an SD card); then the queue fills and the capture goes on:
// a leg whose chunk the queue cannot take is cut, counted and said in its
// record (ReasonCommitFull), as the committer's full queue does — never
// waited for, never lost silently. The committer syncs a file only once
// the writer has finished it (commitRound waits on Written).

// DefaultWriteQueueBytes bounds the audio waiting for the writer: half a
// second of 1,000 recorded calls.
const DefaultWriteQueueBytes = 8 << 20

// opKind is what the writer does with a file.
type opKind uint8

const (
	opCreate opKind = iota
	opData
	opFinish
	opAbort
)

// writeOp is one step of a file, in the order the pipeline made them.
type writeOp struct {
	kind opKind
	file *wavFile
	data chunk
}

// wavFile is a recording as the writer sees it. The pipeline makes it and
// never reads it again; the committer reads err once Written covers the
// file's finish.
type wavFile struct {
	path string // final path; the file is path+".part"
	dir  string
	fmt  format
	w    *wavWriter
	err  error
}

// fileWriter is the writer goroutine and its queue. Its lock is taken
// after the recorder's, never before.
type fileWriter struct {
	open func(path string) (writeFile, error)
	// remove deletes a file (os.Remove; a test's seam).
	remove   func(path string) error
	maxBytes int
	// block makes a full queue wait for room instead of refusing: for an
	// offline source (replay), which a slow disk only slows down.
	block  bool
	log    *slog.Logger
	blocks blockPool
	// gather and dir belong to the goroutine.
	gather []byte
	dir    string

	mu      sync.Mutex
	queue   []writeOp
	spare   []writeOp
	queued  int    // block bytes in the queue
	issued  uint64 // ops queued
	done    uint64 // ops carried out
	changed chan struct{}
	dropped uint64 // chunks refused (queue full)
	worst   time.Duration
	ops     uint64
	failed  uint64 // files whose create, write or finish failed
	removed uint64 // their .part files removed at once

	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

func newFileWriter(open func(string) (writeFile, error), maxBytes int, block bool, log *slog.Logger) *fileWriter {
	return &fileWriter{
		open:     open,
		remove:   os.Remove,
		maxBytes: maxBytes,
		block:    block,
		log:      log,
		changed:  make(chan struct{}),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
}

// push queues op, refusing it when it carries data past the bound. It
// returns the op's sequence number (Written).
func (w *fileWriter) push(op writeOp) (uint64, bool) {
	held := op.data.held()
	w.mu.Lock()
	for w.block && held > 0 && w.queued > 0 && w.queued+held > w.maxBytes {
		changed := w.changed
		w.mu.Unlock()
		<-changed
		w.mu.Lock()
	}
	if held > 0 && w.queued+held > w.maxBytes {
		w.dropped++
		w.mu.Unlock()
		return 0, false
	}
	w.queued += held
	w.issued++
	seq := w.issued
	w.queue = append(w.queue, op)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return seq, true
}

// create queues the creation of f (never refused: it carries no data).
func (w *fileWriter) create(f *wavFile) { w.push(writeOp{kind: opCreate, file: f}) }

// finish queues the last data of f and its finish; when the queue cannot
// take the data the file is aborted instead (left ".part") and finish
// reports false. c is emptied either way.
func (w *fileWriter) finish(f *wavFile, c *chunk) (uint64, bool) {
	seq, ok := w.push(writeOp{kind: opFinish, file: f, data: *c})
	if !ok {
		w.abort(f, c)
		return 0, false
	}
	*c = chunk{}
	return seq, true
}

// abort queues the closing of f as it stands, for Repair; c's blocks are
// dropped.
func (w *fileWriter) abort(f *wavFile, c *chunk) {
	c.release(&w.blocks)
	w.push(writeOp{kind: opAbort, file: f})
}

// written returns the sequence number up to which every op is carried
// out, and a channel closed when it next advances.
func (w *fileWriter) written() (uint64, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done, w.changed
}

// wait returns once op seq is carried out, or when stop is closed.
func (w *fileWriter) wait(seq uint64, stop <-chan struct{}) bool {
	for {
		done, changed := w.written()
		if done >= seq {
			return true
		}
		select {
		case <-changed:
		case <-stop:
			return false
		}
	}
}

// run carries out the queue until stop is closed and the queue is empty.
func (w *fileWriter) run() {
	defer close(w.stopped)
	for {
		stopping := false
		select {
		case <-w.wake:
		case <-w.stop:
			stopping = true
		}
		for w.round() {
		}
		if stopping {
			return
		}
	}
}

// round carries out the ops queued, reporting false if there were none.
func (w *fileWriter) round() bool {
	w.mu.Lock()
	ops := w.queue
	w.queue, w.spare = w.spare[:0], nil
	w.mu.Unlock()
	if len(ops) == 0 {
		w.mu.Lock()
		w.spare = ops
		w.mu.Unlock()
		return false
	}
	var fails roundFailures
	for i := range ops {
		start := time.Now()
		held := ops[i].data.held()
		w.do(&ops[i], &fails)
		took := time.Since(start)
		ops[i] = writeOp{}
		w.mu.Lock()
		w.queued -= held
		w.done++
		w.ops++
		w.worst = max(w.worst, took)
		close(w.changed)
		w.changed = make(chan struct{})
		w.mu.Unlock()
	}
	w.mu.Lock()
	w.spare = ops[:0]
	w.failed += fails.files
	w.removed += fails.removed
	w.mu.Unlock()
	fails.log(w.log)
	return true
}

// roundFailures are the files of one round whose write failed: a full
// disk fails every file at once, so they are said in one line a round,
// not one per file.
type roundFailures struct {
	files, removed uint64
	// file and err are the first failure; kept counts the .part files a
	// removal failed for (left for Repair), keptErr the first such error.
	file    string
	err     error
	kept    uint64
	keptErr error
}

func (rf *roundFailures) log(log *slog.Logger) {
	if rf.files == 0 {
		return
	}
	args := []any{"files", rf.files, "removed", rf.removed, "first_file", rf.file, "err", rf.err}
	if rf.kept > 0 {
		args = append(args, "left_for_repair", rf.kept, "remove_err", rf.keptErr)
	}
	log.Warn("recordings not written", args...)
}

// do carries out one op; the first error of a file is kept in it and the
// file's later data dropped. A file that failed after it was created is
// removed at once (discard).
func (w *fileWriter) do(op *writeOp, fails *roundFailures) {
	f := op.file
	defer op.data.release(&w.blocks)
	if f.err != nil {
		return
	}
	switch op.kind {
	case opCreate:
		f.err = w.createFile(f)
	case opData:
		f.err = f.w.write(&op.data, false)
	case opFinish:
		err := f.w.write(&op.data, true)
		if ferr := f.w.finish(); err == nil {
			err = ferr
		}
		f.err = err
	case opAbort:
		f.w.abort()
	}
	if f.err == nil {
		return
	}
	fails.files++
	if fails.err == nil {
		fails.file, fails.err = f.path+partSuffix, f.err
	}
	if f.w == nil {
		// The create failed: no file of ours exists (a .part already
		// there, O_EXCL's refusal, is not ours to remove).
		return
	}
	if op.kind == opData {
		_ = f.w.f.Close() // finish closes the file itself
	}
	if err := w.discard(f); err != nil {
		fails.kept++
		if fails.keptErr == nil {
			fails.keptErr = err
		}
		return
	}
	fails.removed++
}

// discard removes the .part of a file whose write failed. Its record says
// "write error" (the committer sees f.err and promises no file), so its
// audio is promised nowhere; left for the next start's Repair it would
// hold the disk a full disk needs back (70 MiB in the disk-full test), and
// be repaired into a WAV its record does not name. A removal that fails
// leaves the file to Repair, as before.
func (w *fileWriter) discard(f *wavFile) error {
	if err := w.remove(f.path + partSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove failed recording: %w", err)
	}
	return nil
}

func (w *fileWriter) createFile(f *wavFile) error {
	if f.dir != w.dir {
		if err := os.MkdirAll(f.dir, 0o700); err != nil {
			return fmt.Errorf("recording directory: %w", err)
		}
		w.dir = f.dir
	}
	ww, err := createWAVWith(w.open, f.path, f.fmt, &w.gather)
	if err != nil {
		return err
	}
	f.w = ww
	return nil
}

// WriterStats are the writer's figures.
type WriterStats struct {
	// QueuedBytes is the audio waiting for the writer (at most
	// WriteQueueBytes).
	QueuedBytes int
	// Ops counts the creates, writes and finishes carried out; Worst is
	// the longest (the disk's worst answer, which the capture does not
	// wait for).
	Ops   uint64
	Worst time.Duration
	// Dropped counts the chunks the queue refused (each cuts a leg).
	Dropped uint64
	// Failed counts the files whose create, write or finish failed (a
	// full disk); Removed those of them whose .part was removed at once
	// (the others had no file, or their removal failed: Repair's).
	Failed, Removed uint64
}

func (w *fileWriter) stats() WriterStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return WriterStats{QueuedBytes: w.queued, Ops: w.ops, Worst: w.worst, Dropped: w.dropped, Failed: w.failed, Removed: w.removed}
}

// stopAndWait drains the queue and stops the goroutine, waiting at most d.
func (w *fileWriter) stopAndWait(d time.Duration) bool {
	w.once.Do(func() { close(w.stop) })
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-w.stopped:
		return true
	case <-t.C:
		return false
	}
}

// legFile is a leg's sink: it hands the mixer's full chunks to the writer.
type legFile struct {
	w    *fileWriter
	file *wavFile
}

func (s legFile) pool() *blockPool { return &s.w.blocks }

func (s legFile) take(c *chunk) error {
	if !c.full() {
		return nil
	}
	if _, ok := s.w.push(writeOp{kind: opData, file: s.file, data: *c}); !ok {
		return errQueueFull
	}
	*c = chunk{}
	return nil
}
