package recorder

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/switchtap/switchtap/sip"
)

// Reasons a crash gives a call record's recording, as the record shows
// them (issue 9 §4). The per-direction figures (packets, loss, codec) lived
// in memory only: they are unknown, and the reason says so.
const (
	// ReasonCrash: the file is the audio up to the crash (or to the end,
	// if it was finished before the crash), repaired at the next start.
	ReasonCrash = "crash (packets unknown)"
	// ReasonCrashNoAudio: the leg was answered but no audio of it had
	// reached the disk when the daemon died.
	ReasonCrashNoAudio = "crash (no audio on disk)"
	// ReasonCrashBroken: the file left by the crash could not be repaired
	// (kept as ".broken").
	ReasonCrashBroken = "crash (file not repairable)"
)

// brokenSuffix marks a file Repair could not fix.
const brokenSuffix = ".broken"

// minHeader is the smallest header we write (PCM WAV: 44 bytes; a pcap
// file header is 24): a shorter ".part" holds nothing worth repairing.
const minHeader = 24

// Repaired is a file that Repair put back in place.
type Repaired struct {
	// File is the path relative to the recordings directory
	// (YYYY/MM/DD/<id>.wav or .pcap).
	File string
	// ID is the record id the file is named after.
	ID string
}

// Repair fixes the files under dir left open by a crash: WAV headers get
// their sizes from the file length (whole frames), pcaps lose a partial
// last record, and both are renamed from ".part". Files that cannot be
// repaired are renamed ".broken" and reported in the error. It returns
// how many files were repaired.
func Repair(dir string) (int, error) {
	fs, err := RepairFiles(dir)
	return len(fs), err
}

// RepairFiles is Repair returning the files repaired, so that each can be
// attached to its record.
func RepairFiles(dir string) ([]Repaired, error) {
	var repaired []Repaired
	var bad []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, partSuffix) {
			return err
		}
		final := strings.TrimSuffix(path, partSuffix)
		if info, ierr := d.Info(); ierr == nil && info.Size() < minHeader {
			// Killed before its header reached the disk: no audio to save.
			if rerr := os.Remove(path); rerr != nil {
				bad = append(bad, rerr.Error())
			}
			return nil
		}
		var rerr error
		ext := filepath.Ext(final)
		switch ext {
		case ".wav":
			rerr = repairWAV(path)
		case ".pcap":
			rerr = repairPcap(path)
		default:
			return nil
		}
		if rerr == nil {
			rerr = os.Rename(path, final)
		}
		if rerr != nil {
			bad = append(bad, rerr.Error())
			_ = os.Rename(path, final+brokenSuffix)
			return nil
		}
		rel, _ := filepath.Rel(dir, final)
		repaired = append(repaired, Repaired{File: filepath.ToSlash(rel), ID: strings.TrimSuffix(filepath.Base(final), ext)})
		return nil
	})
	if err != nil {
		return repaired, fmt.Errorf("repair %s: %w", dir, err)
	}
	if len(bad) > 0 {
		return repaired, fmt.Errorf("%w: %d not repaired: %s", ErrBadWAV, len(bad), strings.Join(bad, "; "))
	}
	return repaired, nil
}

// Recovered returns the recording object of a leg a crash interrupted:
// the file the recorder wrote under dir for record id, answered at
// answeredAt, as the crash (and Repair) left it. The duration is that of
// the audio on disk; the per-direction figures are unknown (nil), which
// the NotRecordable reason says. With no file on disk it says that no
// audio reached the disk. Run it after Repair.
func Recovered(dir, id string, answeredAt time.Time) (*sip.Recording, error) {
	day := answeredAt.UTC()
	rel := filepath.Join(day.Format("2006"), day.Format("01"), day.Format("02"), safeName(id, id))
	for _, ext := range []string{".wav", ".pcap"} {
		if _, err := os.Stat(filepath.Join(dir, rel+ext)); err == nil {
			return RecoveredFile(dir, rel+ext)
		}
	}
	for _, ext := range []string{".wav", ".pcap"} {
		if _, err := os.Stat(filepath.Join(dir, rel+ext+brokenSuffix)); err == nil {
			return &sip.Recording{NotRecordable: ReasonCrashBroken}, nil
		}
	}
	return &sip.Recording{NotRecordable: ReasonCrashNoAudio}, nil
}

// RecoveredFile is Recovered for a file known by its path relative to dir
// (a Repaired file): for a leg whose record does not say when it was
// answered, because the crash came before that record was stored.
func RecoveredFile(dir, rel string) (*sip.Recording, error) {
	path := filepath.Join(dir, rel)
	st, err := os.Stat(path)
	if err != nil {
		return &sip.Recording{NotRecordable: ReasonCrashNoAudio}, fmt.Errorf("recovered recording: %w", err)
	}
	rel = filepath.ToSlash(rel)
	if filepath.Ext(path) == ".pcap" {
		return &sip.Recording{Pcap: rel, NotRecordable: ReasonCrash}, nil
	}
	d, err := wavDuration(path, st.Size())
	if err != nil {
		return &sip.Recording{NotRecordable: ReasonCrashBroken}, err
	}
	return &sip.Recording{File: rel, DurationSeconds: d, NotRecordable: ReasonCrash}, nil
}

// wavDuration is the length in seconds of the whole frames of a WAV we
// wrote.
func wavDuration(path string, size int64) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("recovered recording: %w", err)
	}
	defer f.Close()
	wf, off, err := readWAVLayout(f, size)
	if err != nil {
		return 0, fmt.Errorf("recovered recording %s: %w", path, err)
	}
	frames := (size - off) / int64(wf.blockAlign)
	return float64(frames) / sampleRate, nil
}
