package recorder

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Deleted is a file removed by Sweep.
type Deleted struct {
	// Path is relative to Dir.
	Path     string
	RecordID string
	Bytes    int64
	// Reason is "age" or "size".
	Reason string
}

// checkDisk updates the disk-floor state from the free space of Dir.
func (r *Recorder) checkDisk() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checkDiskLocked()
}

func (r *Recorder) checkDiskLocked() {
	r.diskAt = r.cfg.Now()
	r.diskWritten = r.writtenLocked()
	if r.cfg.MinFreeBytes == 0 {
		return
	}
	stat := r.statfs
	if stat == nil {
		stat = freeSpace
	}
	free, err := stat(r.cfg.Dir)
	if err != nil {
		r.log.Warn("free space unknown", "dir", r.cfg.Dir, "err", err)
		r.diskBudget = minDiskStep
		return
	}
	r.stats.FreeBytes = free
	r.diskBudget = diskBudget(free, r.cfg.MinFreeBytes)
	r.setFloor(free < r.cfg.MinFreeBytes)
}

// freeSpace is the space left to an unprivileged writer under dir.
func freeSpace(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Bsize), nil //nolint:gosec // G115: block size is positive.
}

// minDiskStep is the least written between two free-space checks: a
// statfs per megabyte of audio costs nothing.
const minDiskStep = 1 << 20

// diskBudget is how much may be written before the free space is checked
// again: half the room left above the floor, so the checks come closer as
// the floor nears and the floor is overshot by at most one check's worth
// (the issue saw a 10 MiB floor overshot by 19 MB when the check ran every
// 10 s of wall clock at 1.9 MB/s).
func diskBudget(free, floor uint64) uint64 {
	if free <= floor {
		return minDiskStep
	}
	return max((free-floor)/2, minDiskStep)
}

// diskDue says the free space must be checked: the budget of bytes is
// written, or diskEvery of wall clock passed (other writers take space
// too), or the wall clock went back.
func (r *Recorder) diskDue(wall time.Time) bool {
	if r.writtenLocked()-r.diskWritten >= r.diskBudget {
		return true
	}
	return wall.Sub(r.diskAt) >= diskEvery || wall.Before(r.diskAt)
}

// writtenLocked is the audio bytes written so far: the files finished
// plus the data of those open. It costs a walk of the open legs, which
// Advance makes anyway.
func (r *Recorder) writtenLocked() uint64 {
	n := r.stats.BytesWritten
	for _, l := range r.legs {
		if l.mix != nil {
			n += l.mix.bytes
		}
	}
	return n
}

// setFloor flips the floor state. Reaching it closes the open WAV files
// where they stand: below the floor no audio is written.
func (r *Recorder) setFloor(on bool) {
	if on == r.floor {
		return
	}
	r.floor = on
	if !on {
		r.log.Info("disk floor left: recording resumes for new calls")
		return
	}
	r.log.Warn("disk floor reached: no audio is written", "min_free_bytes", r.cfg.MinFreeBytes)
	for _, l := range r.legs {
		if l.mix != nil {
			l.notRec = ReasonDiskTruncated
			r.closeMix(l, l.mix.flushed)
		}
	}
}

// Sweep deletes recordings (WAV and pcap) older than MaxAge, then the
// oldest ones while the total exceeds MaxTotalBytes, never one for which
// protected returns true. Files still being written (".part") are left.
func (r *Recorder) Sweep(ctx context.Context, protected func(recordID string) bool) ([]Deleted, error) {
	type file struct {
		rel, id string
		size    int64
		mod     time.Time
	}
	var files []file
	var total uint64
	err := filepath.WalkDir(r.cfg.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		ext := filepath.Ext(path)
		if d.IsDir() || (ext != ".wav" && ext != ".pcap") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil //nolint:nilerr // removed meanwhile
		}
		rel, _ := filepath.Rel(r.cfg.Dir, path)
		files = append(files, file{rel, strings.TrimSuffix(filepath.Base(path), ext), info.Size(), info.ModTime()})
		total += uint64(info.Size()) //nolint:gosec // G115: sizes are positive.
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", r.cfg.Dir, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod.Before(files[j].mod) })
	now := r.cfg.Now()
	var out []Deleted
	for _, f := range files {
		reason := ""
		switch {
		case r.cfg.MaxAge > 0 && now.Sub(f.mod) > r.cfg.MaxAge:
			reason = "age"
		case r.cfg.MaxTotalBytes > 0 && total > r.cfg.MaxTotalBytes:
			reason = "size"
		default:
			continue
		}
		if protected != nil && protected(f.id) {
			continue
		}
		if err := os.Remove(filepath.Join(r.cfg.Dir, f.rel)); err != nil {
			return out, fmt.Errorf("sweep: %w", err)
		}
		total -= uint64(f.size) //nolint:gosec // G115: sizes are positive.
		out = append(out, Deleted{Path: f.rel, RecordID: f.id, Bytes: f.size, Reason: reason})
		// Remove the day, month and year directories once empty.
		for dir := filepath.Dir(filepath.Join(r.cfg.Dir, f.rel)); dir != filepath.Clean(r.cfg.Dir); dir = filepath.Dir(dir) {
			if os.Remove(dir) != nil {
				break
			}
		}
	}
	return out, nil
}
